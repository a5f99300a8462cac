import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SqliteJobStore } from '../apps/core/adapters/sqlite/job-store.js';
import type { Job } from '../apps/core/domain/job.js';
import { fromBuild } from './build.js';

const modules = async () => ({
  ...(await fromBuild<typeof import('../apps/core/adapters/sqlite/job-store.js')>('apps/core/adapters/sqlite/job-store.js')),
  ...(await fromBuild<typeof import('../apps/core/domain/job.js')>('apps/core/domain/job.js')),
  ...(await fromBuild<typeof import('../apps/core/domain/job-id.js')>('apps/core/domain/job-id.js')),
  ...(await fromBuild<typeof import('../apps/core/domain/container-name.js')>('apps/core/domain/container-name.js')),
  ...(await fromBuild<typeof import('../apps/core/domain/worker-contract.js')>('apps/core/domain/worker-contract.js')),
});

/** A data folder of its own, removed at the end of the section. */
export function scratchDir(name: string): { path: string; remove: () => void } {
  const path = mkdtempSync(join(tmpdir(), `eda-bench-${name}-`));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** The built store on a data folder's jobs.db, as the stack and its workers open it. */
export async function openStore(dataDir: string): Promise<{ store: SqliteJobStore; uri: string }> {
  const { SqliteJobStore } = await modules();
  const path = join(dataDir, 'jobs.db');
  return { store: new SqliteJobStore(path), uri: `sqlite:${path}` };
}

export async function insertPending(store: SqliteJobStore, message = 'bench'): Promise<Job> {
  const { newPendingJob, newJobId, containerNameFor } = await modules();
  const id = newJobId();
  return store.insert(newPendingJob(id, containerNameFor(id), message, new Date()));
}

/** The built-in worker's whole environment, as the stack gives it (the worker contract's own function). */
export async function workerEnv(job: Job, databaseUri: string, workSeconds = 0): Promise<Record<string, string>> {
  const { workerEnvironment } = await modules();
  return workerEnvironment(job, { WORK_SECONDS: String(workSeconds) }, databaseUri);
}
