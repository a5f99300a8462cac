import { createRequire } from 'node:module';
import type { SqliteConnection, SqliteDriver, SqliteStatement } from './driver.js';

// The part of node:sqlite used here, declared because this project's Node types are Node 20's.
interface DatabaseSync {
  prepare(source: string): SqliteStatement;
  exec(source: string): void;
  close(): void;
  /** Node 22.16 and later. */
  readonly isTransaction?: boolean;
}
interface NodeSqlite {
  DatabaseSync: new (path: string) => DatabaseSync;
}

// A savepoint's name that no statement of ours can mean (tabs, as in better-sqlite3's own).
const SAVEPOINT = '"\t_nested.\t"';

class NodeSqliteConnection implements SqliteConnection {
  readonly driver = 'node:sqlite';
  private isOpen = true;
  private depth = 0;

  constructor(private readonly db: DatabaseSync) {}

  get open(): boolean {
    return this.isOpen;
  }

  prepare(source: string): SqliteStatement {
    return this.db.prepare(source);
  }

  exec(source: string): void {
    this.db.exec(source);
  }

  /** What better-sqlite3's `transaction(fn).immediate()` does, which node:sqlite has no helper for. */
  immediateTransaction<T>(fn: () => T): T {
    const nested = this.inTransaction();
    this.db.exec(nested ? `SAVEPOINT ${SAVEPOINT}` : 'BEGIN IMMEDIATE');
    this.depth++;
    try {
      const result = fn();
      if (typeof (result as { then?: unknown } | null)?.then === 'function') throw new TypeError('a transaction cannot return a promise: it commits before the promise settles');
      this.db.exec(nested ? `RELEASE ${SAVEPOINT}` : 'COMMIT');
      return result;
    } catch (error) {
      // SQLite rolls some failures back itself (a full disk, say); then there is nothing to undo.
      if (this.inTransaction()) this.db.exec(nested ? `ROLLBACK TO ${SAVEPOINT}; RELEASE ${SAVEPOINT}` : 'ROLLBACK');
      throw error;
    } finally {
      this.depth--;
    }
  }

  close(): void {
    this.db.close();
    this.isOpen = false;
  }

  /** SQLite's own answer where this Node gives it; before 22.16, whether one of ours is open. */
  private inTransaction(): boolean {
    return this.db.isTransaction ?? this.depth > 0;
  }
}

function isSqliteExperimentalWarning(warning: unknown, rest: unknown[]): boolean {
  const type = typeof rest[0] === 'string' ? rest[0] : (rest[0] as { type?: unknown } | undefined)?.type;
  return type === 'ExperimentalWarning' && String(warning).startsWith('SQLite is an experimental feature');
}

/**
 * Node 22 warns that SQLite is experimental when node:sqlite first loads, on stderr: every task's
 * log would begin with that line. Only that warning is dropped, only while the module loads.
 */
function requireWithoutExperimentalWarning(): NodeSqlite | undefined {
  const emitWarning = process.emitWarning;
  process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
    if (isSqliteExperimentalWarning(warning, rest)) return;
    (emitWarning as (...args: unknown[]) => void).call(process, warning, ...rest);
  }) as typeof process.emitWarning;
  try {
    return (process.getBuiltinModule ? process.getBuiltinModule('node:sqlite') : createRequire(import.meta.url)('node:sqlite')) as NodeSqlite | undefined;
  } finally {
    process.emitWarning = emitWarning;
  }
}

/** Node's built-in SQLite (Node 22.13 and later without a flag): nothing to ship. */
export function loadNodeSqlite(): SqliteDriver {
  const sqlite = requireWithoutExperimentalWarning();
  if (!sqlite) throw new Error('this Node has none (Node 22.13 and later have it)');
  return { name: 'node:sqlite', open: (path) => new NodeSqliteConnection(new sqlite.DatabaseSync(path)) };
}
