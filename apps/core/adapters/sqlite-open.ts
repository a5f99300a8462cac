import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * Opens a SQLite file for many writers at once (the dashboard, the spawner and every worker
 * process): WAL lets readers and one writer proceed together, and the busy timeout makes a
 * writer wait for the lock instead of failing with SQLITE_BUSY.
 */
export function openSqlite(path: string): Database.Database {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('busy_timeout = 10000');
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  return db;
}

/** `sqlite:/abs/path.db`, `sqlite:///abs/path.db` or `sqlite:relative.db` → the file path. */
export function sqlitePathFromUri(uri: string): string {
  const path = uri.replace(/^sqlite:(\/\/(?=\/))?/, '');
  if (!path) throw new Error(`DATABASE_URI "${uri}" names no file`);
  return path;
}
