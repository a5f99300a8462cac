import Database from 'better-sqlite3';
import type { SqliteWorkQueue } from '../apps/core/adapters/sqlite/work-queue.js';

// What tests look at in the SQLite queue without taking anything: read from its file, as an
// operator would, so the queue itself keeps only what the system uses.

function read<T>(queue: SqliteWorkQueue, query: (db: Database.Database) => T): T {
  const db = new Database(queue.path, { readonly: true, fileMustExist: true });
  try {
    return query(db);
  } finally {
    db.close();
  }
}

/** Messages waiting, scheduled or locked, and dead letters. */
export function queueDepth(queue: SqliteWorkQueue): { active: number; deadLettered: number } {
  const row = read(queue, (db) =>
    db.prepare('SELECT SUM(dead_lettered_at IS NULL) AS active, SUM(dead_lettered_at IS NOT NULL) AS dead FROM queue_messages').get(),
  ) as { active: number | null; dead: number | null };
  return { active: row.active ?? 0, deadLettered: row.dead ?? 0 };
}

/** The dead letters, oldest first, with their reasons. */
export function peekDeadLetters(queue: SqliteWorkQueue, max: number): { messageId: string; deliveryCount: number; reason: string; description: string }[] {
  return read(queue, (db) =>
    db
      .prepare(
        `SELECT message_id AS messageId, delivery_count AS deliveryCount, dead_letter_reason AS reason,
           dead_letter_description AS description FROM queue_messages WHERE dead_lettered_at IS NOT NULL ORDER BY seq LIMIT ?`,
      )
      .all(max),
  ) as { messageId: string; deliveryCount: number; reason: string; description: string }[];
}

/** Every message's delivery count, by message id: what a paused dispatch must leave as it is. */
export function deliveryCounts(queuePath: string): Record<string, number> {
  const db = new Database(queuePath, { readonly: true, fileMustExist: true });
  try {
    const rows = db.prepare('SELECT message_id AS id, delivery_count AS count FROM queue_messages').all() as { id: string; count: number }[];
    return Object.fromEntries(rows.map((row) => [row.id, row.count]));
  } finally {
    db.close();
  }
}
