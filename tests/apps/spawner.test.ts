import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ProcessRuntime } from '../../apps/core/adapters/process/runtime.js';
import { SqliteJobStore } from '../../apps/core/adapters/sqlite/job-store.js';
import { SqliteWorkQueue } from '../../apps/core/adapters/sqlite/work-queue.js';
import type { ContainerRuntime } from '../../apps/core/domain/container-runtime.port.js';
import { dispatch, type WorkerLaunch } from '../../apps/spawner/dispatch.js';
import { LocalConsumer } from '../../apps/spawner/local-consumer.js';
import { reap, type ReaperDeps } from '../../apps/spawner/reaper.js';
import { submitWork } from '../../apps/dashboard/submit-work.js';
import { containerNameFor } from '../../apps/core/domain/container-name.js';
import { BUILT_WORKER, compiledSupervisor, ECHO_WORKER, eventually, openEmbedded, tempDir, testKinds } from '../helpers.js';
import { peekDeadLetters, queueDepth } from '../queue-inspection.js';

/** The worker process of a container: the child of its supervisor, found through /proc. */
function workerPid(containerName: string): number | undefined {
  for (const entry of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    try {
      const environ = readFileSync(`/proc/${entry}/environ`, 'utf8').split('\0');
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (environ.includes(`CONTAINER_NAME=${containerName}`) && cmdline.startsWith(process.execPath)) return Number(entry);
    } catch {
      // gone, or not readable
    }
  }
  return undefined;
}

describe('spawner', () => {
  let dir: ReturnType<typeof tempDir>;
  let store: SqliteJobStore;
  let queue: SqliteWorkQueue;
  let runtime: ProcessRuntime;
  let launch: WorkerLaunch;
  let consumer: LocalConsumer | null;
  const logs: string[] = [];
  const log = (line: string) => logs.push(line);

  beforeEach(async () => {
    dir = tempDir();
    ({ store, queue } = await openEmbedded(dir.path));
    runtime = new ProcessRuntime({ workerEntry: BUILT_WORKER, dir: join(dir.path, 'containers'), metricsIntervalMs: 100, supervisor: compiledSupervisor() });
    launch = { databaseUri: `sqlite:${join(dir.path, 'jobs.db')}`, kinds: await testKinds() };
    consumer = null;
    logs.length = 0;
  });
  afterEach(async () => {
    await consumer?.stop();
    await runtime.close();
    await Promise.all([store.close(), queue.close()]);
    dir.remove();
  });

  function startConsumer(overrides: Partial<ConstructorParameters<typeof LocalConsumer>[0]> = {}) {
    consumer = new LocalConsumer({
      queue,
      store,
      runtime,
      launch,
      maxConcurrent: 2,
      running: () => runtime.runningCount(),
      waitForExit: (ms) => runtime.waitForExit(ms),
      pollMs: 200,
      log,
      ...overrides,
    });
    consumer.start();
  }

  const reaperDeps = (overrides: Partial<ReaperDeps> = {}): ReaperDeps => ({
    store,
    runtime,
    metrics: runtime,
    queue,
    metricsWaitSeconds: 0,
    watchSeconds: 1,
    kinds: launch.kinds,
    log,
    ...overrides,
  });

  describe('dispatch', () => {
    it('starts the job’s container with the worker contract, once', async () => {
      const job = await submitWork({ message: 'hi', kind: 'default' }, { store, queue });
      const fixture = new ProcessRuntime({ workerEntry: ECHO_WORKER, dir: join(dir.path, 'echo'), metricsIntervalMs: 100 });
      const deps = { store, runtime: fixture, launch };
      expect(await dispatch({ jobId: job.id, message: 'hi' }, deps)).toBe('started');
      expect(await dispatch({ jobId: job.id, message: 'hi' }, deps)).toBe('already-started');
      await eventually(async () => (await fixture.status(job.containerName))?.exitCode === 0);
      const env = JSON.parse(/^env (.*)$/m.exec((await fixture.logs(job.containerName))!)![1]!);
      expect(env).toEqual({ MESSAGE: 'hi', CONTAINER_NAME: job.containerName, DATABASE_URI: launch.databaseUri, WORK_SECONDS: '0.2', SECRET_VARIABLES: 'DATABASE_URI' });
      expect(await store.get(job.id)).toMatchObject({ attempts: 1, cpu: 1, memoryGb: 1.5 });
      expect((await store.get(job.id))!.dispatchedAt).not.toBeNull();
      await fixture.close();
    });

    it('starts nothing for a finished or unknown job', async () => {
      const job = await submitWork({ message: 'hi', kind: 'default' }, { store, queue });
      await store.markDone(job.containerName, new Date(), 'done elsewhere');
      expect(await dispatch({ jobId: job.id, message: 'hi' }, { store, runtime, launch })).toBe('already-finished');
      expect(await dispatch({ jobId: 'nope', message: 'hi' }, { store, runtime, launch })).toBe('unknown-job');
      expect(await runtime.list()).toEqual([]);
    });
  });

  describe('local consumer', () => {
    it('runs queued work to Done and completes the messages', async () => {
      const jobs = await Promise.all(['a', 'b', 'c'].map((m) => submitWork({ message: m, kind: 'default' }, { store, queue })));
      startConsumer();
      for (const job of jobs) {
        await eventually(async () => (await store.get(job.id))!.state === 'Done', 15_000, `${job.id} Done`);
      }
      expect(queueDepth(queue)).toEqual({ active: 0, deadLettered: 0 });
    });

    it('retries a failing start, then dead-letters it, and the reaper fails the job with the reason', async () => {
      const broken: ContainerRuntime = {
        start: async () => {
          throw new Error('ACI quota exceeded');
        },
        list: async () => [],
        status: async () => null,
        stop: async () => {},
        delete: async () => {},
        logs: async () => null,
      };
      const job = await submitWork({ message: 'hi', kind: 'default' }, { store, queue });
      startConsumer({ runtime: broken });
      await eventually(async () => queueDepth(queue).deadLettered === 1, 10_000, 'dead letter');
      expect(await store.get(job.id)).toMatchObject({ state: 'Pending', attempts: 0, error: 'delivery 3: ACI quota exceeded' });
      const report = await reap(reaperDeps({ runtime: broken }));
      expect(report.deadLettered).toBe(1);
      const failed = (await store.get(job.id))!;
      expect(failed.state).toBe('Failed');
      expect(failed.error).toMatch(/dead-lettered after 3 deliveries \(MaxDeliveryCountExceeded\).*Last error: delivery 3: ACI quota exceeded/);
      expect(queueDepth(queue)).toEqual({ active: 0, deadLettered: 0 });
    });

    it('dead-letters a message that is not work, without retrying it, and the reaper records it as poison', async () => {
      await queue.send({ messageId: 'junk', body: { nothing: true } as never });
      startConsumer();
      await eventually(async () => queueDepth(queue).deadLettered === 1);
      const [letter] = peekDeadLetters(queue, 1);
      expect(letter).toMatchObject({ reason: 'MalformedMessage', deliveryCount: 1 });
      await reap(reaperDeps());
      const { jobs } = await store.list({ limit: 10 });
      expect(jobs).toHaveLength(1);
      expect(jobs[0]).toMatchObject({ state: 'Failed', message: '{"nothing":true}' });
      expect(jobs[0]!.error).toMatch(/^poison: queue message junk was taken off the queue, not run: MalformedMessage: .*jobId is missing/);
      expect(queueDepth(queue)).toEqual({ active: 0, deadLettered: 0 });
    });

    it('takes no message while at capacity, so waiting never counts as a delivery', async () => {
      launch.kinds = await testKinds({ workSeconds: 0.5 });
      const jobs = await Promise.all(Array.from({ length: 4 }, (_, i) => submitWork({ message: `m${i}`, kind: 'default' }, { store, queue })));
      startConsumer({ maxConcurrent: 1 });
      for (const job of jobs) await eventually(async () => (await store.get(job.id))!.state === 'Done', 20_000);
      for (const job of jobs) expect((await store.get(job.id))!.attempts).toBe(1);
    });
  });

  describe('reaper', () => {
    it('copies logs and metrics of a finished container to the store and deletes it', async () => {
      const job = await submitWork({ message: 'hi', kind: 'default' }, { store, queue });
      startConsumer();
      await eventually(async () => (await runtime.status(job.containerName))?.state === 'Succeeded');
      const report = await reap(reaperDeps());
      expect(report).toMatchObject({ removed: 1, failed: 0 });
      expect(await runtime.list()).toEqual([]);
      const artifacts = (await store.getArtifacts(job.containerName))!;
      expect(artifacts.logs).toContain('Done');
      expect(artifacts.metrics!.memory.length).toBeGreaterThan(0);
    });

    it('fails a job whose container exited without finishing, with the exit code and last log line', async () => {
      launch.databaseUri = 'postgres://nowhere/jobs';
      const job = await submitWork({ message: 'hi', kind: 'default' }, { store, queue });
      startConsumer();
      await eventually(async () => (await runtime.status(job.containerName))?.state === 'Failed');
      await reap(reaperDeps());
      const failed = (await store.get(job.id))!;
      expect(failed.state).toBe('Failed');
      expect(failed.error).toMatch(/^exited with code 2: worker task-.*DATABASE_URI must start with/);
    });

    it('stops and fails a task that runs past the timeout', async () => {
      launch.kinds = await testKinds({ workSeconds: 60 });
      const job = await submitWork({ message: 'hi', kind: 'default' }, { store, queue });
      startConsumer();
      await eventually(async () => (await runtime.logs(job.containerName))?.includes('InProgress'));
      await reap(reaperDeps({ kinds: await testKinds({ timeoutSeconds: 5 }) }), new Date(Date.now() + 10_000));
      expect(await store.get(job.id)).toMatchObject({
        state: 'Failed',
        error: 'timed out: still running after 5 s (TASK_TIMEOUT_SECONDS)',
      });
      expect(await runtime.list()).toEqual([]);
      expect((await store.getArtifacts(job.containerName))!.logs).toContain('InProgress');
    });

    it('runs a task whose container is gone again, as its next attempt, and fails it once attempts run out', async () => {
      const job = await submitWork({ message: 'hi', kind: 'default' }, { store, queue });
      await queue.complete((await queue.receive(1))[0]!);
      await store.markDispatched(job.containerName, 1, new Date(), { cpu: 1, memoryGb: 1 });
      await store.markStarted(job.containerName, new Date());
      expect(await reap(reaperDeps())).toMatchObject({ retried: 1, failed: 0 });
      const retried = (await store.get(job.id))!;
      expect(retried).toMatchObject({ state: 'Pending', attempts: 1, containerName: containerNameFor(job.id, 2) });
      expect(retried.priorAttempts).toEqual([expect.objectContaining({ n: 1, containerName: job.containerName, reason: expect.stringMatching(/^the container was lost/) })]);
      const [next] = await queue.receive(1);
      expect(next).toMatchObject({ messageId: `${job.id}.attempt.2`, body: { jobId: job.id, message: 'hi', attempt: 2 } });
      await queue.complete(next!);

      // The second attempt is lost too, and MAX_ATTEMPTS is 2: the task fails, saying why.
      await store.markDispatched(retried.containerName, 2, new Date(), { cpu: 1, memoryGb: 1 });
      expect(await reap(reaperDeps({ kinds: await testKinds({ retry: { maxAttempts: 2, retryOnExitCodes: [] } }) }))).toMatchObject({ retried: 0, failed: 1 });
      const failed = (await store.get(job.id))!;
      expect(failed).toMatchObject({ state: 'Failed', attempts: 2 });
      expect(failed.error).toMatch(/^the container was lost .*; gave up after 2 attempts \(MAX_ATTEMPTS\)$/);
    });

    it('runs a worker killed by a signal again, and the task ends Done once, with both attempts', async () => {
      launch.kinds = await testKinds({ workSeconds: 3 });
      const job = await submitWork({ message: 'hi', kind: 'default' }, { store, queue });
      startConsumer();
      await eventually(async () => (await runtime.logs(job.containerName))?.includes('InProgress'));
      // As an OOM killer would: the worker dies by SIGKILL, its task unfinished.
      const worker = await eventually(() => workerPid(job.containerName));
      process.kill(worker, 'SIGKILL');
      await eventually(async () => (await runtime.status(job.containerName))?.state === 'Failed');
      expect(await reap(reaperDeps())).toMatchObject({ retried: 1, removed: 1 });
      launch.kinds = await testKinds({ workSeconds: 0.2 });
      await eventually(async () => (await store.get(job.id))!.state === 'Done', 15_000);
      const done = (await store.get(job.id))!;
      expect(done).toMatchObject({ attempts: 2, containerName: containerNameFor(job.id, 2) });
      expect(done.priorAttempts[0]!.reason).toMatch(/^the container was killed by signal 9 \(exit code 137\)(: |$)/);
      expect((await store.getArtifacts(job.containerName))!.logs).toContain('InProgress');
    });

    it('leaves Done a task whose worker is killed after writing Done: no new attempt, its logs saved', async () => {
      launch.kinds = await testKinds({ workSeconds: 60 });
      const job = await submitWork({ message: 'hi', kind: 'default' }, { store, queue });
      startConsumer();
      await eventually(async () => (await runtime.logs(job.containerName))?.includes('InProgress'));
      // The worker's own last write, then a SIGKILL before it exits (the few ms it spends closing its store).
      expect(await store.markDone(job.containerName, new Date(), 'finished')).toBe(true);
      process.kill(await eventually(() => workerPid(job.containerName)), 'SIGKILL');
      await eventually(async () => (await runtime.status(job.containerName))?.exitCode === 137);
      expect(await reap(reaperDeps())).toMatchObject({ removed: 1, retried: 0, failed: 0 });
      expect(await store.get(job.id)).toMatchObject({ state: 'Done', output: 'finished', attempts: 1, priorAttempts: [], containerName: job.containerName });
      expect(queueDepth(queue)).toEqual({ active: 0, deadLettered: 0 });
      expect((await store.getArtifacts(job.containerName))!.logs).toContain('Killed');
    });

    it('runs again an exit code the retry policy names, and no other', async () => {
      launch.databaseUri = 'postgres://nowhere/jobs'; // the worker exits 2: a bad environment
      const retried = await submitWork({ message: 'retried', kind: 'default' }, { store, queue });
      startConsumer();
      await eventually(async () => (await runtime.status(retried.containerName))?.state === 'Failed');
      await consumer!.stop();
      expect(await reap(reaperDeps({ kinds: await testKinds({ retry: { maxAttempts: 3, retryOnExitCodes: ['2'] } }) }))).toMatchObject({ retried: 1 });
      expect((await store.get(retried.id))!.containerName).toBe(containerNameFor(retried.id, 2));
      const notRetried = await submitWork({ message: 'not retried', kind: 'default' }, { store, queue });
      await dispatch({ jobId: notRetried.id, message: 'not retried' }, { store, runtime, launch });
      await eventually(async () => (await runtime.status(notRetried.containerName))?.state === 'Failed');
      expect(await reap(reaperDeps({ kinds: await testKinds({ retry: { maxAttempts: 3, retryOnExitCodes: ['1*'] } }) }))).toMatchObject({ retried: 0, failed: 1 });
    });

    it('leaves queued and healthy running work alone', async () => {
      launch.kinds = await testKinds({ workSeconds: 2 });
      const running = await submitWork({ message: 'run', kind: 'default' }, { store, queue });
      startConsumer({ maxConcurrent: 1 });
      const queued = await submitWork({ message: 'wait', kind: 'default' }, { store, queue });
      await eventually(async () => (await store.get(running.id))!.state === 'InProgress');
      expect(await reap(reaperDeps())).toEqual({ removed: 0, failed: 0, retried: 0, deadLettered: 0 });
      expect((await store.get(queued.id))!.state).toBe('Pending');
    });
  });
});
