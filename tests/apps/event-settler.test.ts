// The local stack's event handling (issue 25), with no sweep at all: a dead letter settles its
// task when the queue makes it, and a disk error while settling is logged and tried again.
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ProcessRuntime } from '../../apps/core/adapters/process-runtime.js';
import type { SqliteJobStore } from '../../apps/core/adapters/sqlite-job-store.js';
import type { SqliteWorkQueue } from '../../apps/core/adapters/sqlite-work-queue.js';
import { DEFAULT_RETRY_POLICY } from '../../apps/core/domain/retry-policy.js';
import type { TaskKind } from '../../apps/core/domain/task-kind.js';
import { submitWork } from '../../apps/dashboard/submit-work.js';
import { dispatch, type WorkerLaunch } from '../../apps/spawner/dispatch.js';
import { EventSettler } from '../../apps/spawner/event-settler.js';
import { settleTask } from '../../apps/spawner/settle-task.js';
import { BUILT_WORKER, eventually, openEmbedded, tempDir, testKinds } from '../helpers.js';

const ECHO_KIND: TaskKind = {
  name: 'echo',
  command: ['sh', '-c', 'echo \'{"output": "ok"}\''],
  image: null,
  registry: null,
  cpu: 1,
  memoryGb: 1,
  timeoutSeconds: 60,
  retry: DEFAULT_RETRY_POLICY,
  env: {},
  secretEnv: {},
  store: false,
};

describe('EventSettler', () => {
  let dir: ReturnType<typeof tempDir>;
  let store: SqliteJobStore;
  let queue: SqliteWorkQueue;
  let runtime: ProcessRuntime;
  let launch: WorkerLaunch;
  let settler: EventSettler | null;
  const logs: string[] = [];

  beforeEach(async () => {
    dir = tempDir();
    ({ store, queue } = await openEmbedded(dir.path, { maxDeliveryCount: 1 }));
    runtime = new ProcessRuntime({ workerEntry: BUILT_WORKER, dir: join(dir.path, 'containers'), metricsIntervalMs: 100 });
    launch = { databaseUri: `sqlite:${join(dir.path, 'jobs.db')}`, kinds: await testKinds({}, [ECHO_KIND]) };
    settler = null;
    logs.length = 0;
  });
  afterEach(async () => {
    await settler?.stop();
    await runtime.close();
    await Promise.all([store.close(), queue.close()]);
    dir.remove();
  });

  const start = async (overrides: { store?: SqliteJobStore } = {}) => {
    settler = new EventSettler({
      store: overrides.store ?? store,
      runtime,
      metrics: runtime,
      queue,
      kinds: launch.kinds,
      metricsWaitSeconds: 0,
      watchSeconds: 1,
      retryMs: 20,
      log: (line) => logs.push(line),
    });
    await settler.start();
  };

  it('fails a task when the queue dead-letters its message', async () => {
    await start();
    const job = await submitWork({ message: 'never starts', kind: 'echo' }, { store, queue });
    const [message] = await queue.receive(1);
    // Its only delivery failed: abandoned past maxDeliveryCount, it is a dead letter.
    await queue.abandon(message!);
    const failed = await eventually(async () => {
      const current = await store.get(job.id);
      return current?.state === 'Failed' ? current : undefined;
    }, 5_000, 'the task Failed by the dead letter');
    expect(failed.error).toMatch(/^dead-lettered after 1 deliveries/);
    expect(await queue.receiveDeadLetters(10)).toEqual([]);
  });

  it('logs a disk error while settling a container’s exit and tries again until the task is Done', async () => {
    let faults = 2;
    const faulty = Object.create(store) as SqliteJobStore;
    faulty.markDone = async (...args) => {
      if (faults-- > 0) throw Object.assign(new Error('disk I/O error'), { code: 'SQLITE_IOERR' });
      return store.markDone(...args);
    };
    await start({ store: faulty });
    const job = await submitWork({ message: 'hi', kind: 'echo' }, { store, queue });
    await dispatch({ jobId: job.id, message: job.message }, { store, runtime, launch });
    const done = await eventually(async () => {
      const current = await store.get(job.id);
      return current?.state === 'Done' ? current : undefined;
    }, 5_000, 'Done after the disk errors');
    expect(done.output).toBe('ok');
    expect(logs.filter((line) => /disk I\/O error; trying again/.test(line))).toHaveLength(2);
  });

  it('a second look at a container another look has settled and deleted leaves the saved logs and metrics alone', async () => {
    const job = await submitWork({ message: 'hi', kind: 'echo' }, { store, queue });
    await dispatch({ jobId: job.id, message: job.message }, { store, runtime, launch });
    const found = await eventually(async () => {
      const status = await runtime.status(job.containerName);
      return status?.state === 'Succeeded' ? status : undefined;
    });
    const deps = { store, runtime, metrics: runtime, queue, kinds: launch.kinds, metricsWaitSeconds: 0 };
    const seen = (await store.get(job.id))!;
    // Both looks began with the same status (an exit event and the sweep, say); one ends first.
    expect(await settleTask(seen, job.containerName, found, deps, new Date())).toMatchObject({ removed: true });
    const saved = await store.getArtifacts(job.containerName);
    expect(saved!.logs).toContain('"output": "ok"');
    expect(await settleTask(seen, job.containerName, found, deps, new Date())).toMatchObject({ removed: false });
    expect(await store.getArtifacts(job.containerName)).toEqual(saved);
    expect((await store.get(job.id))!).toMatchObject({ state: 'Done', output: 'ok' });
  });
});
