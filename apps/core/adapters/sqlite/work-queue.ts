import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { MessageLockLostError } from '../../domain/errors.js';
import type {
  DeadLetterEvents,
  DeadLetter,
  OutgoingMessage,
  ReceivedMessage,
  WorkQueue,
} from '../../domain/work-queue.port.js';
import { waitForEvent } from '../wait-for-event.js';
import type { SqliteConnection } from './driver.js';
import { openSqlite } from './open.js';

export interface SqliteWorkQueueOptions {
  path: string;
  /** How long a receiver holds a message before it becomes visible again. */
  lockDurationMs: number;
  /** Deliveries before a message goes to the dead letter queue (Service Bus default: 10). */
  maxDeliveryCount: number;
  /** A messageId seen again inside this window is dropped. */
  duplicateDetectionWindowMs: number;
  /** Tests move time; production uses the clock. */
  now?: () => number;
}

interface MessageRow {
  seq: number;
  message_id: string;
  body: string;
  enqueued_at: number;
  delivery_count: number;
  lock_token: string | null;
  dead_letter_reason: string | null;
  dead_letter_description: string | null;
  dead_lettered_at: number | null;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS queue_messages (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  message_id TEXT NOT NULL,
  body TEXT NOT NULL,
  enqueued_at INTEGER NOT NULL,
  visible_at INTEGER NOT NULL,
  delivery_count INTEGER NOT NULL DEFAULT 0,
  lock_token TEXT,
  locked_until INTEGER,
  dead_letter_reason TEXT,
  dead_letter_description TEXT,
  dead_lettered_at INTEGER
);
CREATE INDEX IF NOT EXISTS queue_ready ON queue_messages(dead_lettered_at, visible_at, seq);
CREATE UNIQUE INDEX IF NOT EXISTS queue_lock ON queue_messages(lock_token);
CREATE TABLE IF NOT EXISTS queue_seen_ids (
  message_id TEXT PRIMARY KEY,
  seen_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS queue_seen_by_time ON queue_seen_ids(seen_at);
`;

const MAX_DELIVERY_REASON = 'MaxDeliveryCountExceeded';

/**
 * A durable queue in SQLite with the Service Bus semantics the spawner relies on. The message
 * row is the truth: a lock is a token and an expiry on the row, so a crashed receiver's
 * messages come back when the lock expires, and everything survives a restart.
 *
 * Receivers in this process are woken on send; a receiver in another process finds a new
 * message at its next fallback poll.
 */
export class SqliteWorkQueue implements WorkQueue, DeadLetterEvents {
  private readonly db: SqliteConnection;
  private readonly now: () => number;
  private readonly sent = new EventEmitter();
  private readonly deadLetters = new EventEmitter();
  /** A letter was moved to the dead letters in the transaction under way: told once it commits. */
  private deadLetteredNow = false;

  /** The file it keeps its messages in. */
  readonly path: string;

  constructor(private readonly options: SqliteWorkQueueOptions) {
    this.path = options.path;
    this.db = openSqlite(options.path);
    this.db.exec(SCHEMA);
    this.now = options.now ?? Date.now;
    this.sent.setMaxListeners(0);
  }

  async send({ messageId, body, scheduledAt }: OutgoingMessage): Promise<boolean> {
    const now = this.now();
    const accepted = this.db.immediateTransaction(() => {
      this.db
        .prepare('DELETE FROM queue_seen_ids WHERE seen_at <= ?')
        .run(now - this.options.duplicateDetectionWindowMs);
      const fresh = this.db
        .prepare('INSERT INTO queue_seen_ids (message_id, seen_at) VALUES (?, ?) ON CONFLICT DO NOTHING')
        .run(messageId, now).changes;
      if (fresh === 0) return false;
      this.db
        .prepare(
          'INSERT INTO queue_messages (message_id, body, enqueued_at, visible_at) VALUES (?, ?, ?, ?)',
        )
        .run(messageId, JSON.stringify(body), now, Math.max(now, scheduledAt?.getTime() ?? now));
      return true;
    });
    if (accepted) this.sent.emit('message');
    return accepted;
  }

  async receive(maxMessages: number): Promise<ReceivedMessage[]> {
    if (maxMessages <= 0) return [];
    const now = this.now();
    return this.tellingDeadLetters(() => this.db.immediateTransaction(() => {
      const received: ReceivedMessage[] = [];
      // Rows whose delivery count is used up are dead-lettered instead of delivered, as
      // Service Bus does when a lock expires on the last allowed delivery.
      while (received.length < maxMessages) {
        const rows = this.db
          .prepare(
            `SELECT * FROM queue_messages
             WHERE dead_lettered_at IS NULL AND visible_at <= ? AND (locked_until IS NULL OR locked_until <= ?)
             ORDER BY seq LIMIT ?`,
          )
          .all(now, now, maxMessages - received.length) as MessageRow[];
        if (rows.length === 0) break;
        for (const row of rows) {
          if (row.delivery_count >= this.options.maxDeliveryCount) {
            this.moveToDeadLetter(row.seq, MAX_DELIVERY_REASON, this.maxDeliveryDescription(), now);
            continue;
          }
          const lockToken = randomUUID();
          this.db
            .prepare(
              `UPDATE queue_messages SET delivery_count = delivery_count + 1, lock_token = ?, locked_until = ?
               WHERE seq = ?`,
            )
            .run(lockToken, now + this.options.lockDurationMs, row.seq);
          received.push({
            messageId: row.message_id,
            body: JSON.parse(row.body),
            deliveryCount: row.delivery_count + 1,
            enqueuedAt: new Date(row.enqueued_at),
            lockToken,
          });
        }
      }
      return received;
    }));
  }

  async complete(message: ReceivedMessage): Promise<void> {
    const row = this.lockedRow(message);
    this.db.prepare('DELETE FROM queue_messages WHERE seq = ?').run(row.seq);
  }

  async abandon(message: ReceivedMessage): Promise<void> {
    const now = this.now();
    this.tellingDeadLetters(() => this.db.immediateTransaction(() => {
      const row = this.lockedRow(message);
      if (row.dead_lettered_at === null && row.delivery_count >= this.options.maxDeliveryCount) {
        this.moveToDeadLetter(row.seq, MAX_DELIVERY_REASON, this.maxDeliveryDescription(), now);
      } else {
        this.db
          .prepare('UPDATE queue_messages SET lock_token = NULL, locked_until = NULL WHERE seq = ?')
          .run(row.seq);
      }
    }));
    this.sent.emit('message');
  }

  async deadLetter(message: ReceivedMessage, reason: string, description: string): Promise<void> {
    const now = this.now();
    this.tellingDeadLetters(() => this.db.immediateTransaction(() => {
      const row = this.lockedRow(message);
      this.moveToDeadLetter(row.seq, reason, description, now);
    }));
  }

  onDeadLetter(listener: () => void): () => void {
    this.deadLetters.on('dead-letter', listener);
    return () => this.deadLetters.off('dead-letter', listener);
  }

  /** Runs a transaction; if it dead-lettered anything, tells the listeners once it has committed. */
  private tellingDeadLetters<T>(transaction: () => T): T {
    this.deadLetteredNow = false;
    try {
      return transaction();
    } finally {
      const told = this.deadLetteredNow;
      this.deadLetteredNow = false;
      if (told) this.tellDeadLetter();
    }
  }

  private tellDeadLetter(): void {
    for (const listener of this.deadLetters.listeners('dead-letter') as (() => void)[]) {
      try {
        listener();
      } catch {
        // A listener's fault is its own: the queue's write has committed either way.
      }
    }
  }

  async receiveDeadLetters(maxMessages: number): Promise<DeadLetter[]> {
    const now = this.now();
    return this.db.immediateTransaction(() => {
      const rows = this.db
        .prepare(
          `SELECT * FROM queue_messages WHERE dead_lettered_at IS NOT NULL AND (locked_until IS NULL OR locked_until <= ?)
           ORDER BY seq LIMIT ?`,
        )
        .all(now, maxMessages) as MessageRow[];
      const lock = this.db.prepare('UPDATE queue_messages SET lock_token = ?, locked_until = ? WHERE seq = ?');
      return rows.map((row) => {
        const lockToken = randomUUID();
        lock.run(lockToken, now + this.options.lockDurationMs, row.seq);
        return { ...toDeadLetter(row), lockToken };
      });
    });
  }

  async waitForMessages(timeoutMs: number): Promise<void> {
    const nextVisible = this.db
      .prepare(
        `SELECT MIN(CASE WHEN locked_until IS NOT NULL AND locked_until > visible_at THEN locked_until ELSE visible_at END) AS at
         FROM queue_messages WHERE dead_lettered_at IS NULL`,
      )
      .get() as { at: number | null };
    const untilVisible = nextVisible.at === null ? timeoutMs : nextVisible.at - this.now();
    const wait = Math.max(0, Math.min(timeoutMs, untilVisible));
    // Even with a message ready, yield to the event loop: a caller looping on this must
    // never starve the I/O it is waiting for.
    if (wait === 0) return new Promise((resolve) => setImmediate(resolve));
    return waitForEvent(this.sent, 'message', wait);
  }

  /**
   * Puts a dead letter back on the queue with a fresh delivery count (what Service Bus
   * Explorer's "resubmit" does). False when no such dead letter exists.
   */
  async requeueDeadLetter(messageId: string): Promise<boolean> {
    const now = this.now();
    const changed = this.db
      .prepare(
        `UPDATE queue_messages SET dead_lettered_at = NULL, dead_letter_reason = NULL, dead_letter_description = NULL,
           delivery_count = 0, visible_at = ? WHERE message_id = ? AND dead_lettered_at IS NOT NULL`,
      )
      .run(now, messageId).changes;
    if (changed > 0) this.sent.emit('message');
    return changed > 0;
  }

  async ping(): Promise<void> {
    this.db.prepare('SELECT 1 FROM queue_messages LIMIT 1').get();
  }

  async close(): Promise<void> {
    this.sent.emit('message');
    if (this.db.open) this.db.close();
  }

  private lockedRow(message: ReceivedMessage): MessageRow {
    const row = this.db
      .prepare(
        `SELECT * FROM queue_messages WHERE lock_token = ? AND locked_until > ?`,
      )
      .get(message.lockToken, this.now()) as MessageRow | undefined;
    if (!row) throw new MessageLockLostError(message.messageId);
    return row;
  }

  private moveToDeadLetter(seq: number, reason: string, description: string, now: number): void {
    this.deadLetteredNow = true;
    this.db
      .prepare(
        `UPDATE queue_messages SET dead_lettered_at = ?, dead_letter_reason = ?, dead_letter_description = ?,
           lock_token = NULL, locked_until = NULL WHERE seq = ?`,
      )
      .run(now, reason, description, seq);
  }

  private maxDeliveryDescription(): string {
    return `Delivered ${this.options.maxDeliveryCount} times without being completed.`;
  }
}

function toDeadLetter(row: MessageRow): DeadLetter {
  return {
    messageId: row.message_id,
    body: JSON.parse(row.body),
    deliveryCount: row.delivery_count,
    enqueuedAt: new Date(row.enqueued_at),
    lockToken: row.lock_token ?? '',
    reason: row.dead_letter_reason ?? '',
    description: row.dead_letter_description ?? '',
    deadLetteredAt: new Date(row.dead_lettered_at ?? 0),
  };
}
