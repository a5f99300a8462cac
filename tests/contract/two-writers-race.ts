import { expect } from 'vitest';
import { containerNameFor } from '../../apps/core/domain/container-name.js';
import { JOB_STATES, newPendingJob, type Job } from '../../apps/core/domain/job.js';
import { newJobId } from '../../apps/core/domain/job-id.js';
import type { JobStore } from '../../apps/core/domain/job-store.port.js';
import { billedUnits } from '../../apps/core/domain/pricing.js';
import { startStoreWriter, type StoreWriterRuntime } from './store-writer-process.js';

export interface TwoWriters {
  /** The process that runs jobs to Done, and the one that fails them. */
  runToDone?: StoreWriterRuntime;
  fail?: StoreWriterRuntime;
  /** Jobs both write, and jobs each writes alone. */
  shared?: number;
  own?: number;
  /**
   * Run as the writers are let go: what it holds from its first await on (the write lock, say)
   * they must wait for. The race goes on once it settles.
   */
  atGo?: () => Promise<void>;
}

async function insertDispatched(store: JobStore, count: number): Promise<Job[]> {
  const jobs: Job[] = [];
  // Dispatched first, so that whichever writer ends a job, its attempt is billed.
  const dispatchedAt = new Date(Date.now() - 1500);
  for (let i = 0; i < count; i++) {
    const id = newJobId();
    const job = await store.insert(newPendingJob(id, containerNameFor(id), 'work', new Date()));
    await store.markDispatched(job.containerName, 1, dispatchedAt, { cpu: 0.5, memoryGb: 1.5 });
    jobs.push(job);
  }
  return jobs;
}

/**
 * Two processes write the store at `uri` at once, let go together once both have it open: one
 * runs jobs to Done, the other fails them, from opposite ends of the jobs they share, and each
 * has jobs of its own. Meanwhile `store` asks what changed since its mark, as the dashboard does:
 * a write that commits after the mark has passed its revision would never be seen. Every write
 * must land, none fail ("database is locked"), each shared job end once, in one of the two, and
 * the running figures match the jobs as they ended.
 */
export async function raceTwoWriters(store: JobStore, uri: string, { runToDone, fail, shared = 40, own = 10, atGo }: TwoWriters = {}): Promise<void> {
  const sharedJobs = await insertDispatched(store, shared);
  const doneOnly = await insertDispatched(store, own);
  const failedOnly = await insertDispatched(store, own);
  const jobs = [...sharedJobs, ...doneOnly, ...failedOnly];
  const names = (list: Job[]) => list.map((job) => job.containerName);
  // Read once, so that a store which counts its totals on first read has them before the race.
  await store.counts();

  let mark = await store.currentRev();
  const lastSeen = new Map<string, Job>();
  let writing = true;
  const poll = async () => {
    for (const job of await store.changedSince(mark, 1000)) {
      lastSeen.set(job.id, job);
      mark = Math.max(mark, job.rev);
    }
  };
  const poller = (async () => {
    while (writing) {
      await poll();
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
  })();
  const writers = [
    startStoreWriter(uri, 'run-to-done', [...names(sharedJobs), ...names(doneOnly)], runToDone),
    startStoreWriter(uri, 'fail', [...names(sharedJobs).reverse(), ...names(failedOnly)], fail),
  ];
  await Promise.all(writers.map((writer) => writer.ready));
  const held = atGo?.();
  for (const writer of writers) writer.go();
  const [, done, failed] = await Promise.all([held, ...writers.map((writer) => writer.exit)]).finally(() => (writing = false));
  await poller;
  await poll();
  expect(done).toMatchObject({ code: 0, stderr: '' });
  expect(failed).toMatchObject({ code: 0, stderr: '' });

  const saved = new Map<string, Job>();
  for (const job of jobs) saved.set(job.id, (await store.get(job.id))!);
  for (const job of jobs) {
    const ended = saved.get(job.id)!;
    expect(['Done', 'Failed']).toContain(ended.state);
    expect(ended.finishedAt).not.toBeNull();
    if (ended.state === 'Done') expect(ended).toMatchObject({ output: 'done', error: null });
    else expect(ended).toMatchObject({ error: 'failed by the other writer', output: null });
    // Every change after the mark was seen: the poller's last view is the job as it ended.
    expect(lastSeen.get(job.id), job.id).toEqual(ended);
  }
  expect(doneOnly.map((job) => saved.get(job.id)!.state)).toEqual(doneOnly.map(() => 'Done'));
  expect(failedOnly.map((job) => saved.get(job.id)!.state)).toEqual(failedOnly.map(() => 'Failed'));

  const revs = (await store.changedSince(0, 1000)).map((job) => job.rev);
  expect(new Set(revs).size).toBe(revs.length);
  // The running figures saw each job end once, whichever process ended it.
  const ended = [...saved.values()];
  expect(await store.counts()).toEqual(Object.fromEntries(JOB_STATES.map((state) => [state, ended.filter((job) => job.state === state).length])));
  const billed = ended.map((job) => billedUnits(job)!);
  const usage = await store.usageTotals();
  expect(usage.vcpuSeconds).toBeCloseTo(billed.reduce((sum, units) => sum + units.vcpuSeconds, 0), 9);
  expect(usage.gbSeconds).toBeCloseTo(billed.reduce((sum, units) => sum + units.gbSeconds, 0), 9);
}
