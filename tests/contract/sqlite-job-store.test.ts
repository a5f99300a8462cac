import Database from 'better-sqlite3';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SqliteJobStore } from '../../apps/core/adapters/sqlite/job-store.js';
import { containerNameFor } from '../../apps/core/domain/container-name.js';
import { newPendingJob } from '../../apps/core/domain/job.js';
import { newJobId } from '../../apps/core/domain/job-id.js';
import { tempDir } from '../helpers.js';
import { jobStoreContract } from './job-store.contract.js';

jobStoreContract('SqliteJobStore', async () => {
  const dir = tempDir();
  const path = join(dir.path, 'jobs.db');
  const store = new SqliteJobStore(path);
  return {
    store,
    uri: `sqlite:${path}`,
    cleanup: async () => {
      await store.close();
      dir.remove();
    },
  };
});

describe('SqliteJobStore running totals', () => {
  it('counts them once, from every job, in a store made before they were kept', async () => {
    const dir = tempDir();
    const path = join(dir.path, 'jobs.db');
    try {
      const store = new SqliteJobStore(path);
      const t0 = Date.parse('2026-01-01T00:00:00.000Z');
      const jobs = [];
      for (let i = 0; i < 3; i++) {
        const id = newJobId();
        jobs.push(await store.insert(newPendingJob(id, containerNameFor(id), `m${i}`, new Date(t0))));
      }
      await store.markDispatched(jobs[0]!.containerName, 1, new Date(t0), { cpu: 1, memoryGb: 2 });
      await store.markDone(jobs[0]!.containerName, new Date(t0 + 2500), 'out');
      await store.markStarted(jobs[1]!.containerName, new Date(t0));
      await store.close();
      // As a store written by the version before: no totals row.
      const older = new Database(path);
      older.exec('DELETE FROM job_totals');
      older.close();

      const reopened = new SqliteJobStore(path);
      expect(await reopened.counts()).toEqual({ Pending: 1, InProgress: 1, Done: 1, Failed: 0 });
      expect(await reopened.usageTotals()).toEqual({ vcpuSeconds: 3, gbSeconds: 6 });
      await reopened.markFailed(jobs[1]!.containerName, new Date(t0 + 1000), 'x');
      expect(await reopened.counts()).toEqual({ Pending: 1, InProgress: 0, Done: 1, Failed: 1 });
      await reopened.close();
    } finally {
      dir.remove();
    }
  });
});
