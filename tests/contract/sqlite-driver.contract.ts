import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sqliteErrorCode, type SqliteConnection, type SqliteDriverName } from '../../apps/core/adapters/sqlite/driver.js';
import { SqliteJobStore } from '../../apps/core/adapters/sqlite/job-store.js';
import { openSqlite, verifySqliteFile } from '../../apps/core/adapters/sqlite/open.js';
import { StoreDamagedError, StoreOpenError } from '../../apps/core/domain/errors.js';
import { damagePages, storeWithJobs } from '../damaged-sqlite.js';
import { ROOT, tempDir } from '../helpers.js';

// Another thread that takes the write lock, writes, and holds the lock a while before it commits.
// It opens the file with the same driver (plain JavaScript: a worker thread runs no TypeScript).
const LOCK_HOLDER = `
const { parentPort, workerData: { path, driver, betterSqlite3, holdMs } } = require('node:worker_threads');
const db = driver === 'node:sqlite' ? new (process.getBuiltinModule('node:sqlite').DatabaseSync)(path) : new (require(betterSqlite3))(path);
db.exec('BEGIN IMMEDIATE');
db.exec("INSERT INTO t (v) VALUES ('holder')");
parentPort.postMessage('locked');
Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, holdMs);
db.exec('COMMIT');
db.close();
`;
const HOLD_MS = 400;

/** What the SQLite adapters rely on of a driver (apps/core/adapters/sqlite/driver.ts). */
export function sqliteDriverContract(driver: SqliteDriverName): void {
  describe(`SQLite driver contract: ${driver}`, () => {
    let dir: ReturnType<typeof tempDir>;
    let path: string;
    const opened: SqliteConnection[] = [];
    const open = () => {
      const db = openSqlite(path, driver);
      opened.push(db);
      return db;
    };
    const values = (db: SqliteConnection) => (db.prepare('SELECT v FROM t ORDER BY v').all() as { v: string }[]).map((row) => row.v);
    const insert = (db: SqliteConnection, value: string) => db.prepare('INSERT INTO t (v) VALUES (?)').run(value);
    let db: SqliteConnection;

    beforeEach(() => {
      dir = tempDir();
      path = join(dir.path, 'driver.db');
      db = open();
      db.exec('CREATE TABLE t (v TEXT, n REAL)');
    });
    afterEach(() => {
      for (const connection of opened.splice(0)) if (connection.open) connection.close();
      dir.remove();
    });

    it('opens the file with the driver named, and closes it', () => {
      expect(db.driver).toBe(driver);
      const other = open();
      other.close();
      expect(other.open).toBe(false);
      expect(db.open).toBe(true);
    });

    it('binds positional parameters, counts changes and reads rows by column name', () => {
      expect(db.prepare('INSERT INTO t (v, n) VALUES (?, ?), (?, ?)').run('a', 1.5, null, 2).changes).toBe(2);
      expect({ ...(db.prepare('SELECT v, n FROM t WHERE n > ?').get(1.75) as object) }).toEqual({ v: null, n: 2 });
      expect(db.prepare('SELECT v FROM t WHERE n > ?').get(5)).toBeUndefined();
      expect([...db.prepare('SELECT n FROM t ORDER BY n').iterate()].map((row) => (row as { n: number }).n)).toEqual([1.5, 2]);
    });

    it('commits what a transaction wrote, and undoes all of it when the transaction throws', () => {
      expect(db.immediateTransaction(() => insert(db, 'kept').changes)).toBe(1);
      expect(() =>
        db.immediateTransaction(() => {
          insert(db, 'undone');
          throw new Error('no');
        }),
      ).toThrow('no');
      expect(values(db)).toEqual(['kept']);
    });

    it('nests: an inner transaction that throws undoes only its own writes', () => {
      db.immediateTransaction(() => {
        insert(db, 'outer');
        expect(() =>
          db.immediateTransaction(() => {
            insert(db, 'inner');
            throw new Error('inner fails');
          }),
        ).toThrow('inner fails');
        db.immediateTransaction(() => insert(db, 'inner kept'));
      });
      expect(values(db)).toEqual(['inner kept', 'outer']);
    });

    it('refuses a transaction that returns a promise, and writes nothing of it', () => {
      expect(() =>
        db.immediateTransaction(() => {
          insert(db, 'async');
          return Promise.resolve();
        }),
      ).toThrow(TypeError);
      expect(values(db)).toEqual([]);
    });

    it('takes the write lock as a transaction begins, before its first write', () => {
      const other = open();
      other.exec('PRAGMA busy_timeout = 0');
      db.immediateTransaction(() => {
        values(db);
        let refused: unknown;
        try {
          other.exec('BEGIN IMMEDIATE');
        } catch (error) {
          refused = error;
        }
        expect(sqliteErrorCode(refused)).toBe('SQLITE_BUSY');
      });
      other.exec('BEGIN IMMEDIATE; ROLLBACK');
    });

    it('waits for another writer to commit, within the busy timeout, even when it reads before it writes', async () => {
      const holder = new Worker(LOCK_HOLDER, {
        eval: true,
        workerData: { path, driver, betterSqlite3: join(ROOT, 'node_modules/better-sqlite3'), holdMs: HOLD_MS },
      });
      const exited = once(holder, 'exit');
      await once(holder, 'message');
      const started = performance.now();
      db.immediateTransaction(() => insert(db, `after ${values(db).length}`));
      const waited = performance.now() - started;
      expect(await exited).toEqual([0]);
      expect(waited).toBeGreaterThan(HOLD_MS * 0.75);
      // Its read saw the other's write: it read only once the lock was its own.
      expect(values(db)).toEqual(['after 1', 'holder']);
    });

    it('names a file that is not a database as such', () => {
      const notes = join(dir.path, 'notes.db');
      writeFileSync(notes, 'these are my notes, not a database\n'.repeat(200));
      expect(() => openSqlite(notes, driver)).toThrow(
        new StoreOpenError(`${notes} is not a SQLite database (file is not a database): move it away, and an empty one is made at the next start`),
      );
    });

    it('names damaged pages as damage, before a store opens and while it runs', async () => {
      const damagedPath = join(dir.path, 'jobs.db');
      await storeWithJobs(damagedPath, 2000, driver);
      expect(() => verifySqliteFile(damagedPath, driver)).not.toThrow();
      const store = new SqliteJobStore(damagedPath, { driver });
      try {
        damagePages(damagedPath);
        expect(() => verifySqliteFile(damagedPath, driver)).toThrow(new RegExp(`^${damagedPath} is damaged \\(.+\\): restore it from a backup`));
        await expect(store.list({ limit: 5000 })).rejects.toSatisfy((error) => sqliteErrorCode(error).startsWith('SQLITE_CORRUPT'));
        await expect(store.ping()).rejects.toThrow(StoreDamagedError);
      } finally {
        await store.close();
      }
    });
  });
}
