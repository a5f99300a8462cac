import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { containerNameFor } from '../../apps/core/domain/container-name.js';
import { newPendingJob, type Job, type JobState } from '../../apps/core/domain/job.js';
import { newJobId } from '../../apps/core/domain/job-id.js';
import type { JobStore } from '../../apps/core/domain/job-store.port.js';
import type { StoreWriterRuntime } from './store-writer-process.js';
import { raceTwoWriters } from './two-writers-race.js';

export interface StoreUnderTest {
  store: JobStore;
  /** The connection string another process uses to open the same store. */
  uri: string;
  /** How another process runs to open it at `uri` (default: this Node, the default driver). */
  writer?: StoreWriterRuntime;
  cleanup: () => Promise<void>;
}

function pending(message = 'work'): Job {
  const id = newJobId();
  return newPendingJob(id, containerNameFor(id), message, new Date());
}

/** The behaviour every JobStore adapter must have. */
export function jobStoreContract(name: string, open: () => Promise<StoreUnderTest>): void {
  describe(`JobStore contract: ${name}`, () => {
    let subject: StoreUnderTest;
    let store: JobStore;
    beforeEach(async () => {
      subject = await open();
      store = subject.store;
    });
    afterEach(async () => {
      await subject.cleanup();
    });

    it('inserts a Pending job and reads it by id and by container name', async () => {
      const job = pending('hello');
      const saved = await store.insert(job);
      expect(saved).toMatchObject({ id: job.id, state: 'Pending', message: 'hello', attempts: 0 });
      expect(saved.rev).toBeGreaterThan(0);
      expect(await store.get(job.id)).toEqual(saved);
      expect(await store.getByContainerName(job.containerName)).toEqual(saved);
      expect(await store.get('missing')).toBeNull();
    });

    it('refuses a second job with the same id', async () => {
      const job = pending();
      await store.insert(job);
      await expect(store.insert(job)).rejects.toMatchObject({ code: 'DUPLICATE_JOB' });
    });

    it('moves forward only: Pending → InProgress → Done, and never back', async () => {
      const job = await store.insert(pending());
      const t0 = new Date('2026-01-01T00:00:00.000Z');
      expect(await store.markDispatched(job.containerName, 1, t0, { cpu: 1, memoryGb: 1.5 })).toBe(true);
      expect(await store.markStarted(job.containerName, new Date(t0.getTime() + 1000))).toBe(true);
      expect(await store.reportProgress(job.containerName, 0.5)).toBe(true);
      expect(await store.reportProgress(job.containerName, 0.25)).toBe(false);
      expect(await store.markDone(job.containerName, new Date(t0.getTime() + 3000), 'out')).toBe(true);

      // Late and duplicate writes change nothing.
      expect(await store.markStarted(job.containerName, new Date())).toBe(false);
      expect(await store.markFailed(job.containerName, new Date(), 'late')).toBe(false);
      expect(await store.markDone(job.containerName, new Date(), 'again')).toBe(false);
      expect(await store.reportProgress(job.containerName, 0.9)).toBe(false);
      expect(await store.markDispatched(job.containerName, 1, new Date(), { cpu: 2, memoryGb: 2 })).toBe(false);

      expect(await store.get(job.id)).toMatchObject({
        state: 'Done',
        dispatchedAt: '2026-01-01T00:00:00.000Z',
        startedAt: '2026-01-01T00:00:01.000Z',
        finishedAt: '2026-01-01T00:00:03.000Z',
        output: 'out',
        error: null,
        progress: 1,
        attempts: 1,
        cpu: 1,
        memoryGb: 1.5,
      });
    });

    it('fails a job from Pending or InProgress and keeps the reason', async () => {
      const a = await store.insert(pending());
      const b = await store.insert(pending());
      await store.markStarted(b.containerName, new Date());
      expect(await store.markFailed(a.containerName, new Date(), 'no capacity')).toBe(true);
      expect(await store.markFailed(b.containerName, new Date(), 'crashed')).toBe(true);
      expect(await store.markDone(b.containerName, new Date(), 'late')).toBe(false);
      expect(await store.get(a.id)).toMatchObject({ state: 'Failed', error: 'no capacity' });
      expect((await store.get(a.id))!.startedAt).not.toBeNull();
      expect(await store.get(b.id)).toMatchObject({ state: 'Failed', error: 'crashed', output: null });
    });

    it('records dispatch errors while Pending, and clears them once dispatched', async () => {
      const job = await store.insert(pending());
      expect(await store.noteDispatchError(job.containerName, 'quota exceeded')).toBe(true);
      expect(await store.get(job.id)).toMatchObject({ state: 'Pending', attempts: 0, error: 'quota exceeded' });
      await store.markDispatched(job.containerName, 1, new Date(), { cpu: 1, memoryGb: 1 });
      expect(await store.get(job.id)).toMatchObject({ attempts: 1, error: null });
    });

    it('records the dispatch once per attempt, whatever the worker has written first', async () => {
      const fast = await store.insert(pending());
      const t0 = new Date('2026-01-01T00:00:00.000Z');
      // The worker ran to Done before the spawner recorded the dispatch: the record still lands.
      await store.markStarted(fast.containerName, new Date(t0.getTime() + 500));
      await store.markDone(fast.containerName, new Date(t0.getTime() + 900), 'out');
      expect(await store.markDispatched(fast.containerName, 1, t0, { cpu: 1, memoryGb: 1.5 })).toBe(true);
      expect(await store.markDispatched(fast.containerName, 1, new Date(), { cpu: 2, memoryGb: 2 })).toBe(false);
      expect(await store.get(fast.id)).toMatchObject({ state: 'Done', attempts: 1, dispatchedAt: t0.toISOString(), cpu: 1, memoryGb: 1.5, output: 'out' });
      expect(await store.markDispatched('task-nobody', 1, t0, { cpu: 1, memoryGb: 1 })).toBe(false);
    });

    it('starts a new attempt: the ended one is kept, the job is Pending under the next container, and the old one writes nothing', async () => {
      const job = await store.insert(pending());
      const t0 = Date.parse('2026-01-01T00:00:00.000Z');
      await store.markDispatched(job.containerName, 1, new Date(t0), { cpu: 1, memoryGb: 2 });
      await store.markStarted(job.containerName, new Date(t0 + 1000));
      const ended = {
        n: 1,
        containerName: job.containerName,
        dispatchedAt: new Date(t0).toISOString(),
        startedAt: new Date(t0 + 1000).toISOString(),
        finishedAt: new Date(t0 + 4500).toISOString(),
        cpu: 1,
        memoryGb: 2,
        reason: 'the container was killed by signal 9 (exit code 137)',
      };
      const next = containerNameFor(job.id, 2);
      expect(await store.beginRetry(job.containerName, { ended, containerName: next })).toBe(true);
      expect(await store.beginRetry(job.containerName, { ended, containerName: next })).toBe(false);
      expect(await store.get(job.id)).toMatchObject({
        state: 'Pending',
        containerName: next,
        attempts: 1,
        priorAttempts: [ended],
        dispatchedAt: null,
        startedAt: null,
        cpu: null,
        error: ended.reason,
      });
      // The first attempt's worker, still talking: nothing it writes applies.
      expect(await store.markStarted(job.containerName, new Date())).toBe(false);
      expect(await store.markDone(job.containerName, new Date(), 'late')).toBe(false);
      expect(await store.getByContainerName(job.containerName)).toBeNull();
      await store.markDispatched(next, 2, new Date(t0 + 6000), { cpu: 1, memoryGb: 2 });
      expect(await store.markDone(next, new Date(t0 + 8000), 'out')).toBe(true);
      expect(await store.get(job.id)).toMatchObject({ state: 'Done', attempts: 2, output: 'out', priorAttempts: [ended] });
      // A finished job starts no other attempt.
      expect(await store.beginRetry(next, { ended: { ...ended, n: 2, containerName: next }, containerName: containerNameFor(job.id, 3) })).toBe(false);
      // Both attempts are billed: 5 s (dispatch to end) and 2 s.
      const totals = await store.usageTotals();
      expect(totals.vcpuSeconds).toBeCloseTo(5 * 1 + 2 * 1, 9);
      expect(totals.gbSeconds).toBeCloseTo(5 * 2 + 2 * 2, 9);
    });

    it('keeps a result given as JSON beside its text, and none for a result that was not', async () => {
      const json = await store.insert(pending());
      expect(json.outputJson).toBeNull();
      await store.markDone(json.containerName, new Date(), '{"length":5}', '{"length":5}');
      expect(await store.get(json.id)).toMatchObject({ output: '{"length":5}', outputJson: '{"length":5}' });
      const text = await store.insert(pending());
      await store.markDone(text.containerName, new Date(), 'five words');
      expect(await store.get(text.id)).toMatchObject({ output: 'five words', outputJson: null });
      const failed = await store.insert(pending());
      await store.markFailed(failed.containerName, new Date(), 'exit 3');
      expect((await store.list({ limit: 10, state: 'Failed' })).jobs[0]).toMatchObject({ output: null, outputJson: null });
    });

    it('keeps which failed task a requeued one runs again, and who asked', async () => {
      const id = newJobId();
      const again = await store.insert(newPendingJob(id, containerNameFor(id), 'again', new Date(), 'default', { id: 'failed-id', by: 'token' }));
      expect(again.requeueOf).toEqual({ id: 'failed-id', by: 'token' });
      expect(await store.get(id)).toMatchObject({ requeueOf: { id: 'failed-id', by: 'token' } });
      expect((await store.insert(pending())).requeueOf).toBeNull();
    });

    it('keeps strings that look like operators as plain text', async () => {
      const job = await store.insert(pending('$set {"a":1}'));
      await store.markFailed(job.containerName, new Date(), '$literal $ifNull');
      expect(await store.get(job.id)).toMatchObject({ message: '$set {"a":1}', error: '$literal $ifNull' });
    });

    it('lists newest first, filters by state and pages with a cursor', async () => {
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) ids.push((await store.insert(pending(`m${i}`))).id);
      await store.markStarted(containerNameFor(ids[1]!), new Date());
      const first = await store.list({ limit: 2 });
      expect(first.jobs.map((j) => j.id)).toEqual([ids[4], ids[3]]);
      const second = await store.list({ limit: 2, cursor: first.next! });
      expect(second.jobs.map((j) => j.id)).toEqual([ids[2], ids[1]]);
      const third = await store.list({ limit: 2, cursor: second.next! });
      expect(third.jobs.map((j) => j.id)).toEqual([ids[0]]);
      expect(third.next).toBeNull();
      const running = await store.list({ limit: 10, state: 'InProgress' });
      expect(running.jobs.map((j) => j.id)).toEqual([ids[1]]);
      expect(await store.counts()).toMatchObject({ Pending: 4, InProgress: 1, Done: 0, Failed: 0 });
    });

    it('filters by kind, and by kind and state together, paging with a cursor', async () => {
      const ids: Record<string, string[]> = { default: [], wordcount: [] };
      for (let i = 0; i < 6; i++) {
        const kind = i % 2 ? 'wordcount' : 'default';
        const id = newJobId();
        ids[kind]!.push((await store.insert(newPendingJob(id, containerNameFor(id), `m${i}`, new Date(), kind))).id);
      }
      await store.markStarted(containerNameFor(ids.wordcount![0]!), new Date());
      await store.markStarted(containerNameFor(ids.default![1]!), new Date());
      const words = await store.list({ limit: 2, kind: 'wordcount' });
      expect(words.jobs.map((j) => j.id)).toEqual([ids.wordcount![2], ids.wordcount![1]]);
      const rest = await store.list({ limit: 2, kind: 'wordcount', cursor: words.next! });
      expect(rest.jobs.map((j) => j.id)).toEqual([ids.wordcount![0]]);
      expect(rest.next).toBeNull();
      expect((await store.list({ limit: 10, kind: 'default' })).jobs.map((j) => j.id)).toEqual([...ids.default!].reverse());
      expect((await store.list({ limit: 10, kind: 'wordcount', state: 'InProgress' })).jobs.map((j) => j.id)).toEqual([ids.wordcount![0]]);
      expect((await store.list({ limit: 10, kind: 'default', state: 'Pending' })).jobs.map((j) => j.id)).toEqual([ids.default![2], ids.default![0]]);
      expect((await store.list({ limit: 10, kind: 'thumbnail' })).jobs).toEqual([]);
    });

    it('tells what changed since a revision, in the order it changed', async () => {
      const a = await store.insert(pending());
      const b = await store.insert(pending());
      const mark = await store.currentRev();
      await store.markStarted(b.containerName, new Date());
      await store.markStarted(a.containerName, new Date());
      const changed = await store.changedSince(mark, 10);
      expect(changed.map((j) => j.id)).toEqual([b.id, a.id]);
      expect(await store.changedSince(await store.currentRev(), 10)).toEqual([]);
    });

    it('lists active jobs: dispatched or running, not queued or finished', async () => {
      const queued = await store.insert(pending());
      const dispatched = await store.insert(pending());
      const running = await store.insert(pending());
      const done = await store.insert(pending());
      await store.markDispatched(dispatched.containerName, 1, new Date(), { cpu: 1, memoryGb: 1 });
      await store.markStarted(running.containerName, new Date());
      await store.markDone(done.containerName, new Date(), 'x');
      const active = (await store.listActive()).map((j) => j.id).sort();
      expect(active).toEqual([dispatched.id, running.id].sort());
      expect(active).not.toContain(queued.id);
    });

    it('sums the billed seconds of finished jobs, each started second whole', async () => {
      expect(await store.usageTotals()).toEqual({ vcpuSeconds: 0, gbSeconds: 0 });
      const a = await store.insert(pending());
      const b = await store.insert(pending());
      const running = await store.insert(pending());
      const t0 = Date.parse('2026-01-01T00:00:00.000Z');
      await store.markDispatched(a.containerName, 1, new Date(t0), { cpu: 1, memoryGb: 2 });
      await store.markDone(a.containerName, new Date(t0 + 10_000), 'x'); // 10 s
      await store.markDispatched(b.containerName, 1, new Date(t0), { cpu: 2, memoryGb: 0.5 });
      await store.markFailed(b.containerName, new Date(t0 + 2_300), 'y'); // 3 s
      await store.markDispatched(running.containerName, 1, new Date(t0), { cpu: 4, memoryGb: 4 });
      const totals = await store.usageTotals();
      expect(totals.vcpuSeconds).toBeCloseTo(10 * 1 + 3 * 2, 9);
      expect(totals.gbSeconds).toBeCloseTo(10 * 2 + 3 * 0.5, 9);
    });

    it('keeps the counts and the billed totals as running figures through every transition, retry and late write', async () => {
      const t0 = Date.parse('2026-01-01T00:00:00.000Z');
      const at = (ms: number) => new Date(t0 + ms);
      const expectTotals = async (counts: Partial<Record<JobState, number>>, vcpuSeconds: number, gbSeconds: number) => {
        expect(await store.counts()).toEqual({ Pending: 0, InProgress: 0, Done: 0, Failed: 0, ...counts });
        const usage = await store.usageTotals();
        expect(usage.vcpuSeconds).toBeCloseTo(vcpuSeconds, 9);
        expect(usage.gbSeconds).toBeCloseTo(gbSeconds, 9);
      };
      await expectTotals({}, 0, 0);
      const a = await store.insert(pending());
      const b = await store.insert(pending());
      const c = await store.insert(pending());
      await expectTotals({ Pending: 3 }, 0, 0);

      // a runs for 10 s: nothing is billed until its attempt ends.
      await store.markDispatched(a.containerName, 1, at(0), { cpu: 1, memoryGb: 2 });
      await expectTotals({ Pending: 3 }, 0, 0);
      await store.markStarted(a.containerName, at(500));
      await store.reportProgress(a.containerName, 0.5);
      await expectTotals({ Pending: 2, InProgress: 1 }, 0, 0);
      await store.markDone(a.containerName, at(10_000), 'out');
      await expectTotals({ Pending: 2, Done: 1 }, 10, 20);
      // Late and duplicate writes move nothing.
      await store.markDone(a.containerName, at(11_000), 'again');
      await store.markFailed(a.containerName, at(11_000), 'late');
      await store.markStarted(a.containerName, at(11_000));
      await store.markDispatched(a.containerName, 1, at(11_000), { cpu: 4, memoryGb: 4 });
      await expectTotals({ Pending: 2, Done: 1 }, 10, 20);

      // b's first container is lost after 2.5 s: that attempt is billed 3 s, once, and b waits again.
      await store.markDispatched(b.containerName, 1, at(0), { cpu: 2, memoryGb: 1 });
      await store.markStarted(b.containerName, at(1000));
      const ended = { n: 1, containerName: b.containerName, dispatchedAt: at(0).toISOString(), startedAt: at(1000).toISOString(), finishedAt: at(2500).toISOString(), cpu: 2, memoryGb: 1, reason: 'lost' };
      const second = containerNameFor(b.id, 2);
      await store.beginRetry(b.containerName, { ended, containerName: second });
      await store.beginRetry(b.containerName, { ended, containerName: second });
      await expectTotals({ Pending: 2, Done: 1 }, 16, 23);
      // Its second attempt's worker finishes before the dispatch is recorded: billed when it lands (1.2 s: 2 s).
      await store.markStarted(second, at(3000));
      await store.markDone(second, at(4000), 'out');
      await expectTotals({ Pending: 1, Done: 2 }, 16, 23);
      await store.markDispatched(second, 2, at(2800), { cpu: 2, memoryGb: 1 });
      await expectTotals({ Pending: 1, Done: 2 }, 20, 25);

      // c fails before it ever ran: counted, billed nothing.
      await store.noteDispatchError(c.containerName, 'quota');
      await store.markFailed(c.containerName, at(100), 'dead-lettered');
      await expectTotals({ Done: 2, Failed: 1 }, 20, 25);
      // A record stored already Failed (a poison message) is counted as it is.
      await store.insert({ ...pending('poison'), state: 'Failed', finishedAt: at(200).toISOString(), error: 'poison' });
      await expectTotals({ Done: 2, Failed: 2 }, 20, 25);
    });

    it('keeps a container’s logs and metrics after the container is gone', async () => {
      const metrics = { cpu: [{ t: '2026-01-01T00:00:00.000Z', v: 120 }], memory: [{ t: '2026-01-01T00:00:00.000Z', v: 1024 }] };
      await store.saveArtifacts('task-x', { logs: 'line 1\n', metrics });
      await store.saveArtifacts('task-x', { logs: 'line 1\nline 2\n', metrics });
      expect(await store.getArtifacts('task-x')).toEqual({ logs: 'line 1\nline 2\n', metrics });
      expect(await store.getArtifacts('task-y')).toBeNull();
    });

    it('claims an idempotency key once: a later claim gets the first, an expired claim is replaced', async () => {
      const t0 = Date.parse('2026-01-01T00:00:00.000Z');
      const at = (ms: number) => new Date(t0 + ms);
      const first = { key: 'api:order-7', fingerprint: 'f1', jobId: 'job-1', createdAt: at(0).toISOString() };
      expect(await store.claimIdempotencyKey(first, at(-60_000))).toEqual(first);
      const retry = { ...first, fingerprint: 'f2', jobId: 'job-2', createdAt: at(1000).toISOString() };
      expect(await store.claimIdempotencyKey(retry, at(-59_000))).toEqual(first);
      // Claimed at or after the cutoff is remembered; before it, forgotten and replaced.
      expect(await store.claimIdempotencyKey(retry, at(0))).toEqual(first);
      expect(await store.claimIdempotencyKey(retry, at(1))).toEqual(retry);
      const other = { key: 'requeue:job-1', fingerprint: 'f1', jobId: 'job-3', createdAt: at(2000).toISOString() };
      expect(await store.claimIdempotencyKey(other, at(0))).toEqual(other);
    });

    it('releases a claim only while it still names the job', async () => {
      const claim = { key: 'api:k', fingerprint: 'f', jobId: 'job-1', createdAt: new Date().toISOString() };
      await store.claimIdempotencyKey(claim, new Date(0));
      await store.releaseIdempotencyKey('api:k', 'job-other');
      expect((await store.claimIdempotencyKey({ ...claim, jobId: 'job-2' }, new Date(0))).jobId).toBe('job-1');
      await store.releaseIdempotencyKey('api:k', 'job-1');
      expect((await store.claimIdempotencyKey({ ...claim, jobId: 'job-2' }, new Date(0))).jobId).toBe('job-2');
    });

    it('lets exactly one of many claims of a key made at once win, and tells every caller which', async () => {
      const createdAt = new Date().toISOString();
      const claims = await Promise.all(
        Array.from({ length: 10 }, (_, i) => store.claimIdempotencyKey({ key: 'api:race', fingerprint: 'f', jobId: `job-${i}`, createdAt }, new Date(0))),
      );
      expect(new Set(claims.map((c) => c.jobId)).size).toBe(1);
    });

    it('stays consistent when two processes write the same jobs at once', async () => {
      await raceTwoWriters(store, subject.uri, { runToDone: subject.writer, fail: subject.writer });
    });
  });
}
