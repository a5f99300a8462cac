import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { SqliteJobStore } from '../../apps/core/adapters/sqlite/job-store.js';
import type { SqliteWorkQueue } from '../../apps/core/adapters/sqlite/work-queue.js';
import type { Job } from '../../apps/core/domain/job.js';
import { RevisionWatch } from '../../apps/dashboard/revision-watch.js';
import { submitWork } from '../../apps/dashboard/submit-work.js';
import { openEmbedded, tempDir } from '../helpers.js';
import { buildTestApp, type DashboardUnderTest } from './test-app.js';

describe('RevisionWatch: many waiters, one watch of the store', () => {
  let dir: ReturnType<typeof tempDir>;
  let store: SqliteJobStore;
  let queue: SqliteWorkQueue;
  beforeEach(async () => {
    dir = tempDir();
    ({ store, queue } = await openEmbedded(dir.path));
  });
  afterEach(async () => {
    vi.useRealTimers();
    await Promise.all([store.close(), queue.close()]);
    dir.remove();
  });

  it('lets 100 clients wait 30 s on one task for at most 35 store reads, by the read meter', async () => {
    const job = await submitWork({ message: 'hi', kind: 'default' }, { store, queue });
    vi.useFakeTimers();
    const watch = new RevisionWatch(store);
    const before = store.reads.rows;
    const answers: Job[] = [];
    for (let i = 0; i < 100; i++) void watch.waitForEnd(job.id, 30_000).then((answer) => answers.push(answer!));
    await vi.advanceTimersByTimeAsync(30_000);
    expect(answers).toHaveLength(100);
    expect(answers.every((answer) => answer.state === 'Pending')).toBe(true);
    const reads = store.reads.rows - before;
    expect(reads).toBeLessThanOrEqual(35);
    // With no one waiting, nothing is read.
    await vi.advanceTimersByTimeAsync(10_000);
    expect(store.reads.rows - before).toBe(reads);
  });

  it('answers every waiter within a second of the task’s end, with the ended task', async () => {
    const job = await submitWork({ message: 'hi', kind: 'default' }, { store, queue });
    const other = await submitWork({ message: 'other', kind: 'default' }, { store, queue });
    vi.useFakeTimers();
    const watch = new RevisionWatch(store);
    const answers: Job[] = [];
    for (let i = 0; i < 10; i++) void watch.waitForEnd(job.id, 60_000).then((answer) => answers.push(answer!));
    const onOther = watch.waitForEnd(other.id, 60_000);
    await vi.advanceTimersByTimeAsync(5_000);
    await store.markStarted(job.containerName, new Date());
    await vi.advanceTimersByTimeAsync(2_000);
    expect(answers).toHaveLength(0); // InProgress is not an end
    await store.markDone(job.containerName, new Date(), 'ok');
    await vi.advanceTimersByTimeAsync(1_000);
    expect(answers).toHaveLength(10);
    expect(answers.every((answer) => answer.state === 'Done' && answer.output === 'ok')).toBe(true);
    await store.markFailed(other.containerName, new Date(), 'exit 1');
    await vi.advanceTimersByTimeAsync(1_000);
    expect((await onOther)!.state).toBe('Failed');
  });

  it('answers at once for a task already ended, and null for an unknown one', async () => {
    const job = await submitWork({ message: 'hi', kind: 'default' }, { store, queue });
    await store.markFailed(job.containerName, new Date(), 'exit 1');
    const watch = new RevisionWatch(store);
    expect((await watch.waitForEnd(job.id, 60_000))!.state).toBe('Failed');
    expect(await watch.waitForEnd('0190a000-0000-7000-8000-000000000000', 60_000)).toBeNull();
  });
});

describe('GET /api/jobs/:id?wait=N', () => {
  let dash: DashboardUnderTest;
  beforeEach(async () => {
    dash = await buildTestApp();
  });
  afterEach(() => dash.close());

  it('answers with the task once it ends, before its wait is up', async () => {
    const job = await submitWork({ message: 'hi', kind: 'default' }, dash.deps);
    const answer = dash.app.inject(`/api/jobs/${job.id}?wait=30`);
    setTimeout(() => void dash.store.markDone(job.containerName, new Date(), 'ok'), 200);
    const response = await answer;
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ id: job.id, state: 'Done', output: 'ok' });
  });

  it('answers with the task as it is when the wait is up', async () => {
    const job = await submitWork({ message: 'hi', kind: 'default' }, dash.deps);
    const response = await dash.app.inject(`/api/jobs/${job.id}?wait=1`);
    expect(response.json()).toMatchObject({ id: job.id, state: 'Pending' });
  });

  it('refuses a wait outside 1 to 60 seconds, and answers 404 for an unknown task', async () => {
    const job = await submitWork({ message: 'hi', kind: 'default' }, dash.deps);
    for (const wait of ['0', '61', 'soon', '-1']) {
      const response = await dash.app.inject(`/api/jobs/${job.id}?wait=${wait}`);
      expect(response.statusCode, wait).toBe(400);
      expect(response.json().error).toBe(`wait must be a whole number from 1 to 60 (got "${wait}")`);
    }
    expect((await dash.app.inject(`/api/jobs/${job.id}?timeout=5`)).statusCode).toBe(400);
    expect((await dash.app.inject('/api/jobs/0190a000-0000-7000-8000-000000000000?wait=1')).statusCode).toBe(404);
  });
});
