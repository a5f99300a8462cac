import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, it } from 'vitest';
import { SqliteJobStore } from '../../apps/core/adapters/sqlite/job-store.js';
import { openSqlite } from '../../apps/core/adapters/sqlite/open.js';
import { node22 } from '../artifacts/node22.js';
import { tempDir } from '../helpers.js';
import { raceTwoWriters } from './two-writers-race.js';

// The local stack's processes open its store with better-sqlite3 on the host's Node 20; a task's
// container opens the same file, through a bind mount, with node:sqlite on the image's Node 22.
const NODE22 = node22('two SQLite drivers writing one store file');
const HOST = { node: process.execPath, sqliteDriver: 'better-sqlite3' } as const;
const IMAGE = { node: NODE22!, sqliteDriver: 'node:sqlite' } as const;
const HOLD_MS = 300;

describe.runIf(NODE22)('one SQLite store file, written at once by better-sqlite3 on Node 20 and node:sqlite on Node 22', () => {
  let dir: ReturnType<typeof tempDir>;
  let path: string;
  let store: SqliteJobStore;
  beforeEach(() => {
    dir = tempDir();
    path = join(dir.path, 'jobs.db');
    store = new SqliteJobStore(path);
  });
  afterEach(async () => {
    await store.close();
    dir.remove();
  });

  /**
   * This process holds the write lock as the writers begin: each must wait for it (the busy
   * timeout), not fail with SQLITE_BUSY, and then they contend for it with each other.
   */
  const holdWriteLock = async () => {
    const lock = openSqlite(path);
    lock.exec('BEGIN IMMEDIATE');
    try {
      await sleep(HOLD_MS);
      lock.exec('COMMIT');
    } finally {
      lock.close();
    }
  };

  it('lands every write of both, with counts and totals that match the jobs, Node 22 failing what Node 20 runs to Done', async () => {
    await raceTwoWriters(store, `sqlite:${path}`, { runToDone: HOST, fail: IMAGE, shared: 150, own: 50, atGo: holdWriteLock });
  });

  it('the same with the roles turned round', async () => {
    await raceTwoWriters(store, `sqlite:${path}`, { runToDone: IMAGE, fail: HOST, shared: 150, own: 50, atGo: holdWriteLock });
  });
});
