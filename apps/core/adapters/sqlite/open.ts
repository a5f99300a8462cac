import { dirname } from 'node:path';
import { errorMessage, StoreDamagedError, StoreOpenError } from '../../domain/errors.js';
import { ensureDirectory } from '../ensure-directory.js';
import { makePrivate } from '../private-files.js';
import { sqliteErrorCode, type SqliteConnection, type SqliteDriverName } from './driver.js';
import { sqliteDriver } from './driver-choice.js';

/**
 * Opens a SQLite file for many writers at once (the dashboard, the spawner and every worker
 * process): WAL lets readers and one writer proceed together, and the busy timeout makes a
 * writer wait for the lock instead of failing with SQLITE_BUSY. A file that cannot be opened
 * is a StoreOpenError that says why and what to do. The driver is the one named, or else the
 * first that loads (driver-choice.ts).
 */
export function openSqlite(path: string, driverName?: SqliteDriverName): SqliteConnection {
  const driver = sqliteDriver(driverName);
  let db: SqliteConnection | undefined;
  try {
    if (path !== ':memory:') ensureDirectory(dirname(path));
    db = driver.open(path);
    // Before anything is written: the -wal and -shm files SQLite makes later take this file's
    // mode (os_unix.c, findCreateFileMode), so they are private too, even when a container makes them.
    if (path !== ':memory:') makePrivate(path);
    // The busy timeout first: node:sqlite has none until told, and the switch to WAL may wait too.
    db.exec('PRAGMA busy_timeout = 10000');
    db.exec('PRAGMA journal_mode = WAL');
    db.exec('PRAGMA synchronous = NORMAL');
    db.exec('PRAGMA foreign_keys = ON');
    return db;
  } catch (error) {
    db?.close();
    throw new StoreOpenError(describeOpenFailure(path, error), { cause: error });
  }
}

/**
 * Reads every page of an existing file once (`PRAGMA quick_check`) and throws a
 * StoreOpenError when it is not a database or is damaged. For the start of a long-running
 * process only: it reads the whole file, which a worker starting per task must not pay.
 */
export function verifySqliteFile(path: string, driverName?: SqliteDriverName): void {
  const db = openSqlite(path, driverName);
  try {
    const rows = db.prepare('PRAGMA quick_check').all() as { quick_check: string }[];
    // A finding may span lines ("*** in database main ***" then one per page): counted by line.
    const findings = rows
      .flatMap((row) => row.quick_check.split('\n'))
      .map((line) => line.trim())
      .filter((line) => line !== '' && line !== 'ok' && !/^\*\*\* in database \w+ \*\*\*$/.test(line));
    if (findings.length > 0) {
      throw new StoreOpenError(damaged(path, `quick_check: ${findings[0]}${findings.length > 1 ? ` and ${findings.length - 1} more` : ''}`), {
        report: rows.map((row) => row.quick_check).join('\n'),
      });
    }
  } catch (error) {
    if (error instanceof StoreOpenError) throw error;
    throw new StoreOpenError(describeOpenFailure(path, error), { cause: error });
  } finally {
    db.close();
  }
}

/** What a store found about its file while running; `found` stays set until restart. */
export interface DamageWatch {
  readonly found: StoreDamagedError | null;
}

/**
 * Remembers the first error that says the file is damaged, from any statement prepared on
 * `db`, so that a health check can report it (every later read may fail the same way, and
 * a health check that only runs `SELECT 1` would not see it).
 */
export function watchForDamage(db: SqliteConnection, path: string): DamageWatch {
  const watch: { found: StoreDamagedError | null } = { found: null };
  const note = (error: unknown) => {
    if (watch.found === null && isDamage(error)) {
      watch.found = new StoreDamagedError(damaged(path, errorMessage(error)), { cause: error });
    }
  };
  const prepare = db.prepare.bind(db);
  db.prepare = (source: string) => {
    const statement = prepare(source);
    for (const method of ['run', 'get', 'all', 'iterate'] as const) {
      const original = (statement[method] as (...args: unknown[]) => unknown).bind(statement);
      Object.defineProperty(statement, method, {
        value: (...args: unknown[]) => {
          try {
            return original(...args);
          } catch (error) {
            note(error);
            throw error;
          }
        },
      });
    }
    return statement;
  };
  return watch;
}

function isDamage(error: unknown): boolean {
  const code = sqliteErrorCode(error);
  return code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB';
}

function damaged(path: string, detail: string): string {
  return `${path} is damaged (${detail}): restore it from a backup, or move it away to start with an empty one`;
}

function describeOpenFailure(path: string, error: unknown): string {
  const code = sqliteErrorCode(error);
  const reason = errorMessage(error);
  if (code === 'SQLITE_NOTADB') return `${path} is not a SQLite database (${reason}): move it away, and an empty one is made at the next start`;
  if (code.startsWith('SQLITE_CORRUPT')) return damaged(path, reason);
  if (code.startsWith('SQLITE_READONLY')) return `${path} is read-only (${reason}): give this user write access to it and its folder`;
  if (code.startsWith('SQLITE_CANTOPEN')) return `${path} cannot be opened (${reason}): check that its folder exists and this user may write there`;
  if (/^E[A-Z]+$/.test(code)) return `the folder of ${path} cannot be created (${reason}): choose a folder this user may write`;
  return `${path} cannot be opened: ${reason}`;
}
