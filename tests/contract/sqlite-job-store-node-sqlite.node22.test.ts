// Under Node 22 only (vitest.node22.config.ts), run by tests/contract/node22-suite.test.ts: the
// store as the worker image opens it, on node:sqlite, with the same contract as on better-sqlite3.
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SqliteJobStore } from '../../apps/core/adapters/sqlite/job-store.js';
import { tempDir } from '../helpers.js';
import { jobStoreContract } from './job-store.contract.js';

jobStoreContract('SqliteJobStore on node:sqlite', async () => {
  const dir = tempDir();
  const path = join(dir.path, 'jobs.db');
  const store = new SqliteJobStore(path, { driver: 'node:sqlite' });
  return {
    store,
    uri: `sqlite:${path}`,
    writer: { sqliteDriver: 'node:sqlite' },
    cleanup: async () => {
      await store.close();
      dir.remove();
    },
  };
});

describe('the Node 22 tests', () => {
  it('never load better-sqlite3, which is built for Node 20', () => {
    const loaded = Object.keys(createRequire(import.meta.url).cache);
    expect(loaded.filter((file) => file.includes('better-sqlite3'))).toEqual([]);
    // Guards against a cache that is empty here: the contract's own dependencies passed through it.
    expect(loaded.length).toBeGreaterThan(0);
  });
});
