import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ProcessRuntime } from '../../apps/core/adapters/process-runtime.js';
import { SqliteJobStore } from '../../apps/core/adapters/sqlite-job-store.js';
import { SqliteWorkQueue } from '../../apps/core/adapters/sqlite-work-queue.js';
import type { ContainerRuntime } from '../../apps/core/domain/container-runtime.port.js';
import { dispatch, type WorkerLaunch } from '../../apps/spawner/dispatch.js';
import { LocalConsumer } from '../../apps/spawner/local-consumer.js';
import { reap, type ReaperDeps } from '../../apps/spawner/reaper.js';
import { submitWork } from '../../apps/dashboard/submit-work.js';
import { BUILT_WORKER, ECHO_WORKER, eventually, openEmbedded, tempDir } from '../helpers.js';

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
    runtime = new ProcessRuntime({ workerEntry: BUILT_WORKER, logDir: join(dir.path, 'containers'), metricsIntervalMs: 100 });
    launch = { databaseUri: `sqlite:${join(dir.path, 'jobs.db')}`, taskEnv: { WORK_SECONDS: '0.2' }, cpu: 1, memoryGb: 1.5 };
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
    taskTimeoutSeconds: 60,
    metricsWaitSeconds: 0,
    watchSeconds: 1,
    log,
    ...overrides,
  });

  describe('dispatch', () => {
    it('starts the job’s container with the worker contract, once', async () => {
      const job = await submitWork('hi', { store, queue });
      const fixture = new ProcessRuntime({ workerEntry: ECHO_WORKER, logDir: join(dir.path, 'echo'), metricsIntervalMs: 100 });
      const deps = { store, runtime: fixture, launch };
      expect(await dispatch({ jobId: job.id, message: 'hi' }, 1, deps)).toBe('started');
      expect(await dispatch({ jobId: job.id, message: 'hi' }, 2, deps)).toBe('already-started');
      await eventually(async () => (await fixture.status(job.containerName))?.exitCode === 0);
      const env = JSON.parse(/^env (.*)$/m.exec((await fixture.logs(job.containerName))!)![1]!);
      expect(env).toEqual({ MESSAGE: 'hi', CONTAINER_NAME: job.containerName, DATABASE_URI: launch.databaseUri, WORK_SECONDS: '0.2' });
      expect(await store.get(job.id)).toMatchObject({ attempts: 2, cpu: 1, memoryGb: 1.5 });
      expect((await store.get(job.id))!.dispatchedAt).not.toBeNull();
      await fixture.close();
    });

    it('starts nothing for a finished or unknown job', async () => {
      const job = await submitWork('hi', { store, queue });
      await store.markDone(job.containerName, new Date(), 'done elsewhere');
      expect(await dispatch({ jobId: job.id, message: 'hi' }, 1, { store, runtime, launch })).toBe('already-finished');
      expect(await dispatch({ jobId: 'nope', message: 'hi' }, 1, { store, runtime, launch })).toBe('unknown-job');
      expect(await runtime.list()).toEqual([]);
    });
  });

  describe('local consumer', () => {
    it('runs queued work to Done and completes the messages', async () => {
      const jobs = await Promise.all(['a', 'b', 'c'].map((m) => submitWork(m, { store, queue })));
      startConsumer();
      for (const job of jobs) {
        await eventually(async () => (await store.get(job.id))!.state === 'Done', 15_000, `${job.id} Done`);
      }
      expect(await queue.depth()).toEqual({ active: 0, deadLettered: 0 });
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
      const job = await submitWork('hi', { store, queue });
      startConsumer({ runtime: broken });
      await eventually(async () => (await queue.depth()).deadLettered === 1, 10_000, 'dead letter');
      expect(await store.get(job.id)).toMatchObject({ state: 'Pending', attempts: 3, error: 'ACI quota exceeded' });
      const report = await reap(reaperDeps({ runtime: broken }));
      expect(report.deadLettered).toBe(1);
      const failed = (await store.get(job.id))!;
      expect(failed.state).toBe('Failed');
      expect(failed.error).toMatch(/dead-lettered after 3 deliveries \(MaxDeliveryCountExceeded\).*ACI quota exceeded/);
      expect(await queue.depth()).toEqual({ active: 0, deadLettered: 0 });
    });

    it('dead-letters a message that is not work, without retrying it, and the reaper records it as poison', async () => {
      await queue.send({ messageId: 'junk', body: { nothing: true } as never });
      startConsumer();
      await eventually(async () => (await queue.depth()).deadLettered === 1);
      const [letter] = await queue.peekDeadLetters(1);
      expect(letter).toMatchObject({ reason: 'MalformedMessage', deliveryCount: 1 });
      await reap(reaperDeps());
      const { jobs } = await store.list({ limit: 10 });
      expect(jobs).toHaveLength(1);
      expect(jobs[0]).toMatchObject({ state: 'Failed', message: '{"nothing":true}' });
      expect(jobs[0]!.error).toMatch(/^poison: queue message junk was taken off the queue, not run: MalformedMessage: .*jobId is missing/);
      expect(await queue.depth()).toEqual({ active: 0, deadLettered: 0 });
    });

    it('takes no message while at capacity, so waiting never counts as a delivery', async () => {
      launch.taskEnv.WORK_SECONDS = '0.5';
      const jobs = await Promise.all(Array.from({ length: 4 }, (_, i) => submitWork(`m${i}`, { store, queue })));
      startConsumer({ maxConcurrent: 1 });
      for (const job of jobs) await eventually(async () => (await store.get(job.id))!.state === 'Done', 20_000);
      for (const job of jobs) expect((await store.get(job.id))!.attempts).toBe(1);
    });
  });

  describe('reaper', () => {
    it('copies logs and metrics of a finished container to the store and deletes it', async () => {
      const job = await submitWork('hi', { store, queue });
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
      const job = await submitWork('hi', { store, queue });
      startConsumer();
      await eventually(async () => (await runtime.status(job.containerName))?.state === 'Failed');
      await reap(reaperDeps());
      const failed = (await store.get(job.id))!;
      expect(failed.state).toBe('Failed');
      expect(failed.error).toMatch(/^the container exited with code 2 before the task finished: worker task-.*DATABASE_URI must start with/);
    });

    it('stops and fails a task that runs past the timeout', async () => {
      launch.taskEnv.WORK_SECONDS = '60';
      const job = await submitWork('hi', { store, queue });
      startConsumer();
      await eventually(async () => (await store.get(job.id))!.state === 'InProgress');
      await reap(reaperDeps({ taskTimeoutSeconds: 5 }), new Date(Date.now() + 10_000));
      expect(await store.get(job.id)).toMatchObject({
        state: 'Failed',
        error: 'timed out: still running after 5 s (TASK_TIMEOUT_SECONDS)',
      });
      expect(await runtime.list()).toEqual([]);
      expect((await store.getArtifacts(job.containerName))!.logs).toContain('InProgress');
    });

    it('fails a running job whose container is gone', async () => {
      const job = await submitWork('hi', { store, queue });
      await store.markDispatched(job.id, new Date(), 1, { cpu: 1, memoryGb: 1 });
      await store.markStarted(job.containerName, new Date());
      const report = await reap(reaperDeps());
      expect(report.failed).toBe(1);
      expect((await store.get(job.id))!.error).toMatch(/the container is gone/);
    });

    it('leaves queued and healthy running work alone', async () => {
      launch.taskEnv.WORK_SECONDS = '2';
      const running = await submitWork('run', { store, queue });
      startConsumer({ maxConcurrent: 1 });
      const queued = await submitWork('wait', { store, queue });
      await eventually(async () => (await store.get(running.id))!.state === 'InProgress');
      expect(await reap(reaperDeps())).toEqual({ removed: 0, failed: 0, deadLettered: 0 });
      expect((await store.get(queued.id))!.state).toBe('Pending');
    });
  });
});
