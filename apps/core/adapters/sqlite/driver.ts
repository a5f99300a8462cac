/**
 * What the SQLite adapters use of a SQLite driver: the part that better-sqlite3 (the local
 * stack's, native, built for the host's Node) and Node 22's built-in node:sqlite (the images',
 * which ship no native code) both have, and one kind of transaction. Two drivers, because a
 * task's container and the host write the same store file (docs/design.md, "Two drivers").
 */
export type SqliteDriverName = 'better-sqlite3' | 'node:sqlite';

/** Parameters are positional (`?`) only: both drivers bind them alike. */
export interface SqliteStatement {
  run(...params: unknown[]): { changes: number };
  /** The first row, or undefined. Rows may have no prototype (node:sqlite's have none). */
  get(...params: unknown[]): unknown;
  all(...params: unknown[]): unknown[];
  iterate(...params: unknown[]): IterableIterator<unknown>;
}

export interface SqliteConnection {
  readonly driver: SqliteDriverName;
  readonly open: boolean;
  prepare(source: string): SqliteStatement;
  exec(source: string): void;
  /**
   * Runs `fn` in a transaction that takes the write lock as it begins (BEGIN IMMEDIATE), so a
   * writer waits for another's lock up to the busy timeout. A deferred transaction that reads
   * first would, in WAL mode, fail at its first write with SQLITE_BUSY, without waiting, once
   * another writer has committed since its read. Inside a transaction already open it is a
   * savepoint, as better-sqlite3's own transactions are; `fn` throwing rolls it back.
   */
  immediateTransaction<T>(fn: () => T): T;
  close(): void;
}

export interface SqliteDriver {
  readonly name: SqliteDriverName;
  open(path: string): SqliteConnection;
}

// SQLite's primary result codes (sqlite3.h), by number.
const PRIMARY_CODES: Record<number, string> = {
  1: 'ERROR', 2: 'INTERNAL', 3: 'PERM', 4: 'ABORT', 5: 'BUSY', 6: 'LOCKED', 7: 'NOMEM', 8: 'READONLY',
  9: 'INTERRUPT', 10: 'IOERR', 11: 'CORRUPT', 12: 'NOTFOUND', 13: 'FULL', 14: 'CANTOPEN', 15: 'PROTOCOL',
  16: 'EMPTY', 17: 'SCHEMA', 18: 'TOOBIG', 19: 'CONSTRAINT', 20: 'MISMATCH', 21: 'MISUSE', 22: 'NOLFS',
  23: 'AUTH', 24: 'FORMAT', 25: 'RANGE', 26: 'NOTADB', 27: 'NOTICE', 28: 'WARNING',
};

/**
 * The SQLite result code an error carries, named as better-sqlite3 names it (`SQLITE_CORRUPT`),
 * whichever driver threw it; otherwise the error's own code (`EACCES`), or ''. node:sqlite's
 * errors say `ERR_SQLITE_ERROR` with the number in `errcode`: an extended code is named by its
 * primary code (SQLITE_CORRUPT for SQLITE_CORRUPT_INDEX), the part callers read.
 */
export function sqliteErrorCode(error: unknown): string {
  const { code, errcode } = (error ?? {}) as { code?: unknown; errcode?: unknown };
  if (code === 'ERR_SQLITE_ERROR' && typeof errcode === 'number') {
    const primary = PRIMARY_CODES[errcode & 0xff];
    if (primary) return `SQLITE_${primary}`;
  }
  return code?.toString() ?? '';
}
