import { InvocationContext } from '@azure/functions';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AciRuntime, type AciRuntimeOptions } from '../../apps/core/adapters/azure/aci-runtime.js';
import { AzureMonitorMetrics } from '../../apps/core/adapters/azure/azure-monitor-metrics.js';
import { SqliteJobStore } from '../../apps/core/adapters/sqlite-job-store.js';
import { SqliteWorkQueue } from '../../apps/core/adapters/sqlite-work-queue.js';
import { submitWork } from '../../apps/dashboard/submit-work.js';
import { dispatchWork } from '../../apps/spawner/functions/dispatch-work.js';
import { reapContainers } from '../../apps/spawner/functions/reap-containers.js';
import type { SpawnerDeps } from '../../apps/spawner/spawner-deps.js';
import { BUILT_WORKER, eventually, openEmbedded, sleep, tempDir } from '../helpers.js';
import { clientsFor, PULL_IDENTITY, RESOURCE_GROUP, SUBSCRIPTION } from '../fakes/azure-clients.js';
import { FakeArm, type FakeArmOptions } from '../fakes/fake-arm.js';

// The Function handlers, called directly as the Functions host would, with the real ACI and
// Monitor SDKs against the ARM fake (whose containers run the built worker) and the SQLite
// queue and store standing in for Service Bus and Cosmos.

const TIMER = { isPastDue: false, schedule: { adjustForDST: false }, scheduleStatus: { last: '', next: '', lastUpdated: '' } };

function context(deliveryCount = 1): InvocationContext {
  return new InvocationContext({ functionName: 'dispatch-work', triggerMetadata: { deliveryCount }, logHandler: () => {} });
}

describe('the spawner as Azure Functions', () => {
  let dir: ReturnType<typeof tempDir>;
  let arm: FakeArm;
  let store: SqliteJobStore;
  let queue: SqliteWorkQueue;
  let deps: SpawnerDeps;

  async function setUp(fake: Partial<FakeArmOptions> = {}, overrides: Partial<SpawnerDeps> = {}, aciOptions: Partial<AciRuntimeOptions> = {}) {
    dir = tempDir();
    arm = new FakeArm({ workerEntry: BUILT_WORKER, logDir: join(dir.path, 'aci'), ...fake });
    await arm.start();
    const { aci, monitor } = clientsFor(arm);
    const dbPath = join(dir.path, 'jobs.db');
    ({ store, queue } = await openEmbedded(dir.path, { lockDurationMs: 60_000, maxDeliveryCount: 10 }));
    deps = {
      store,
      queue,
      runtime: new AciRuntime(aci, {
        resourceGroup: RESOURCE_GROUP,
        launch: { location: 'westeurope', workerImage: 'acreda.azurecr.io/worker:1', registryServer: 'acreda.azurecr.io', pullIdentityId: PULL_IDENTITY },
        pollIntervalMs: 200,
        ...aciOptions,
      }),
      metrics: new AzureMonitorMetrics(monitor, { subscriptionId: SUBSCRIPTION, resourceGroup: RESOURCE_GROUP }),
      launch: { databaseUri: `sqlite:${dbPath}`, taskEnv: { WORK_SECONDS: '0' }, cpu: 1, memoryGb: 1.5 },
      maxConcurrent: 10,
      taskTimeoutSeconds: 120,
      deferSeconds: 1,
      ...overrides,
    };
  }

  beforeEach(() => {
    dir = undefined as never;
  });
  afterEach(async () => {
    expect(arm.invalidBodies).toEqual([]);
    await arm.close();
    await Promise.all([store.close(), queue.close()]);
    dir.remove();
  });

  it('starts one container group for a message, and nothing for its redelivery', async () => {
    await setUp();
    const job = await submitWork('hi', { store, queue });
    expect(await dispatchWork({ jobId: job.id, message: 'hi' }, context(1), deps)).toBe('started');
    expect(await dispatchWork({ jobId: job.id, message: 'hi' }, context(2), deps)).toBe('already-started');
    await eventually(async () => (await store.get(job.id))!.state === 'Done');
    expect(await dispatchWork({ jobId: job.id, message: 'hi' }, context(3), deps)).toBe('already-finished');
    expect(arm.creates.get(job.containerName)).toBe(1);
  });

  it('defers at capacity: the message comes back later and no delivery is spent', async () => {
    await setUp({}, { maxConcurrent: 1 });
    const running = await submitWork('running', { store, queue });
    await store.markStarted(running.containerName, new Date());
    const waiting = await submitWork('waiting', { store, queue });
    await queue.receive(10); // the original deliveries, held as a trigger would
    expect(await dispatchWork({ jobId: waiting.id, message: 'waiting' }, context(1), deps)).toBe('deferred');
    expect(arm.creates.size).toBe(0);
    expect(await queue.receive(10)).toEqual([]); // scheduled for later, not now
    await sleep(1100);
    const [again] = await queue.receive(10);
    expect(again).toMatchObject({ body: { jobId: waiting.id, message: 'waiting' }, deliveryCount: 1 });
    expect(again!.messageId).toMatch(new RegExp(`^${waiting.id}\\.deferred\\.`));
  });

  it('records the error and throws when ACI refuses, so Service Bus retries', async () => {
    await setUp({ throttle: (method) => (method === 'PUT' ? 0 : null) });
    // A 429 that never ends: the SDK's retries run out and the error reaches the handler.
    const job = await submitWork('hi', { store, queue });
    await expect(dispatchWork({ jobId: job.id, message: 'hi' }, context(4), deps)).rejects.toThrow();
    expect(await store.get(job.id)).toMatchObject({ state: 'Pending', attempts: 4 });
    expect((await store.get(job.id))!.error).toBeTruthy();
  }, 120_000);

  it('refuses a message that is not work', async () => {
    await setUp();
    await expect(dispatchWork('hello', context(), deps)).rejects.toMatchObject({ code: 'MALFORMED_MESSAGE' });
  });

  it('runs 200 tasks through ACI (1 to 3 s creates, some 429s): each Done exactly once, no group left', async () => {
    let puts = 0;
    await setUp(
      {
        createLatencyMs: () => 1000 + Math.random() * 2000,
        throttle: (method) => (method === 'PUT' && ++puts % 9 === 0 ? 1 : null),
      },
      { maxConcurrent: 24 },
      // ACI's create quota (100 per 5 minutes), scaled down so that this run meets it.
      { createQuota: { max: 50, windowMs: 10_000 } },
    );
    const jobs = [];
    for (let i = 0; i < 200; i++) jobs.push(await submitWork(`task ${i}`, { store, queue }));

    // The Functions host: up to maxConcurrentCalls invocations at once, complete on return,
    // abandon on throw; and the reaper's timer.
    const maxConcurrentCalls = 16;
    let inFlight = 0;
    let deferred = 0;
    let running = true;
    const invocations = new Set<Promise<void>>();
    const host = (async () => {
      while (running) {
        if (inFlight >= maxConcurrentCalls) {
          await sleep(20);
          continue;
        }
        const messages = await queue.receive(maxConcurrentCalls - inFlight);
        for (const message of messages) {
          inFlight++;
          const invocation = dispatchWork(message.body, context(message.deliveryCount), deps)
            .then(async (outcome) => {
              if (outcome === 'deferred') deferred++;
              await queue.complete(message);
            })
            .catch(() => queue.abandon(message))
            .finally(() => {
              inFlight--;
              invocations.delete(invocation);
            });
          invocations.add(invocation);
        }
        await (messages.length ? sleep(5) : queue.waitForMessages(100));
      }
    })();
    const timer = (async () => {
      while (running) {
        await reapContainers(TIMER, context(), deps);
        await sleep(500);
      }
    })();

    try {
      await eventually(async () => (await store.counts()).Done === 200, 150_000, '200 Done');
    } finally {
      running = false;
      await Promise.all([host, timer, ...invocations]);
    }
    await eventually(async () => {
      await reapContainers(TIMER, context(), deps);
      return arm.groupNames().length === 0;
    }, 30_000, 'every group deleted');

    expect(await store.counts()).toEqual({ Pending: 0, InProgress: 0, Done: 200, Failed: 0 });
    for (const job of jobs) expect(arm.creates.get(job.containerName), job.containerName).toBe(1);
    expect(arm.creates.size).toBe(200);
    expect(arm.requests.filter((r) => r.status === 429).length).toBeGreaterThan(0);
    expect(deferred).toBeGreaterThan(0); // at capacity and at the create quota
    expect(await queue.depth()).toEqual({ active: 0, deadLettered: 0 });
    // Logs were copied to the store before each group was deleted.
    expect((await store.getArtifacts(jobs[0]!.containerName))!.logs).toContain('Done');
  }, 200_000);
});
