import { InvocationContext } from '@azure/functions';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { AciRuntime, type AciRuntimeOptions } from '../../apps/core/adapters/azure/aci-runtime.js';
import { AzureMonitorMetrics } from '../../apps/core/adapters/azure/azure-monitor-metrics.js';
import type { SqliteJobStore } from '../../apps/core/adapters/sqlite/job-store.js';
import type { SqliteWorkQueue } from '../../apps/core/adapters/sqlite/work-queue.js';
import type { DeadLetter, OutgoingMessage, ReceivedMessage } from '../../apps/core/domain/work-queue.port.js';
import { serviceBusInvocation } from '../functions-invocation.js';
import { submitWork } from '../../apps/dashboard/submit-work.js';
import { onDeadLetter } from '../../apps/spawner/functions/dead-letters.js';
import { onWorkQueueMessage, type WorkQueueOutcome } from '../../apps/spawner/functions/work-queue.js';
import type { SpawnerDeps } from '../../apps/spawner/spawner-deps.js';
import { QuotaGuardedRuntime } from '../../apps/spawner/quota-guard.js';
import { SqliteQuotaLedger } from '../../apps/core/adapters/sqlite/quota-ledger.js';
import { BUILT_WORKER, eventually, openEmbedded, ROOT, sleep, tempDir, testKinds } from '../helpers.js';
import type { TaskKind } from '../../apps/core/domain/task-kind.js';
import { clientsFor, PULL_IDENTITY, RESOURCE_GROUP, SUBSCRIPTION } from '../fakes/azure-clients.js';
import { FakeArm, type FakeArmOptions } from '../fakes/fake-arm.js';
import { queueDepth } from '../queue-inspection.js';

// The Function handlers, called directly as the Functions host would (one trigger on the work
// queue, one on its dead letter queue, and no timer), with the real ACI and Monitor SDKs
// against the ARM fake (whose containers run the built worker, and whose metrics come per
// grain and late, as Azure Monitor's do) and the SQLite queue and store standing in for
// Service Bus and Cosmos.

function context(message?: Pick<ReceivedMessage, 'messageId' | 'deliveryCount' | 'enqueuedAt'>, extra: Record<string, unknown> = {}): InvocationContext {
  return new InvocationContext({
    functionName: 'work-queue',
    triggerMetadata: message
      ? { messageId: message.messageId, deliveryCount: message.deliveryCount, enqueuedTimeUtc: message.enqueuedAt.toISOString(), ...extra }
      : { deliveryCount: 1, ...extra },
    logHandler: () => {},
  });
}

/**
 * A dead letter as the Functions host hands it to the Node.js worker (RPC typed data, the
 * Service Bus extension's PascalCase metadata: ApplicationProperties carries Service Bus's
 * DeadLetterReason and DeadLetterErrorDescription), through @azure/functions' own conversion.
 */
function deadLetterInvocation(letter: DeadLetter) {
  return serviceBusInvocation('dead-letters', { json: JSON.stringify(letter.body) }, {
    MessageId: { string: letter.messageId },
    DeliveryCount: { int: letter.deliveryCount },
    EnqueuedTimeUtc: { string: letter.enqueuedAt.toISOString() },
    ApplicationProperties: { json: JSON.stringify({ DeadLetterReason: letter.reason, DeadLetterErrorDescription: letter.description }) },
  });
}

describe('the spawner as Azure Functions', () => {
  let dir: ReturnType<typeof tempDir>;
  let arm: FakeArm;
  let store: SqliteJobStore;
  let queue: SqliteWorkQueue;
  let deps: SpawnerDeps;
  /** Every message the handlers sent, with its schedule. */
  let sent: OutgoingMessage[];

  interface SetUp {
    fake?: Partial<FakeArmOptions>;
    deps?: Partial<SpawnerDeps>;
    aci?: Partial<AciRuntimeOptions>;
    workSeconds?: string;
    timeoutSeconds?: number;
    maxDeliveryCount?: number;
    kinds?: TaskKind[];
  }

  async function setUp(options: SetUp = {}) {
    dir = tempDir();
    // Azure Monitor's shape, scaled down: a one-second grain, reported half a second late.
    arm = new FakeArm({ workerEntry: BUILT_WORKER, logDir: join(dir.path, 'aci'), metricsGrainMs: 1000, metricsDelayMs: 500, ...options.fake });
    await arm.start();
    const { aci, monitor } = clientsFor(arm);
    const dbPath = join(dir.path, 'jobs.db');
    const kinds = await testKinds({ workSeconds: Number(options.workSeconds ?? '0'), timeoutSeconds: options.timeoutSeconds ?? 120 }, options.kinds ?? []);
    ({ store, queue } = await openEmbedded(dir.path, { lockDurationMs: 60_000, maxDeliveryCount: options.maxDeliveryCount ?? 10 }));
    sent = [];
    const send = queue.send.bind(queue);
    queue.send = async (message) => {
      sent.push(message);
      return send(message);
    };
    deps = {
      store,
      queue,
      runtime: new AciRuntime(aci, {
        resourceGroup: RESOURCE_GROUP,
        launch: { location: 'westeurope', workerImage: 'acreda.azurecr.io/worker:1', registryServer: 'acreda.azurecr.io', pullIdentityId: PULL_IDENTITY },
        pollIntervalMs: 200,
        ...options.aci,
      }),
      metrics: new AzureMonitorMetrics(monitor, { subscriptionId: SUBSCRIPTION, resourceGroup: RESOURCE_GROUP, grainSeconds: 1 }),
      launch: { databaseUri: `sqlite:${dbPath}`, kinds },
      kinds,
      maxConcurrent: 10,
      deferSeconds: 1,
      watchSeconds: 0.3,
      metricsWaitSeconds: 20,
      ...options.deps,
    };
  }

  afterEach(async () => {
    expect(arm.invalidBodies).toEqual([]);
    await arm.close();
    await Promise.all([store.close(), queue.close()]);
    dir.remove();
  });

  /** Delivers what is ready to the work-queue trigger, completing on return, abandoning on throw. */
  async function deliverReady(handle = (message: ReceivedMessage) => onWorkQueueMessage(message.body, context(message), deps)) {
    const outcomes: WorkQueueOutcome[] = [];
    for (const message of await queue.receive(50)) {
      try {
        outcomes.push(await handle(message));
        await queue.complete(message);
      } catch {
        await queue.abandon(message);
      }
    }
    return outcomes;
  }

  it('starts one container group for a message, nothing for its redelivery, and one watch chain', async () => {
    await setUp();
    const job = await submitWork({ message: 'hi', kind: 'default' }, { store, queue });
    const [work] = await queue.receive(1);
    expect(await onWorkQueueMessage(work!.body, context(work), deps)).toBe('started');
    expect(await onWorkQueueMessage(work!.body, context({ ...work!, deliveryCount: 2 }), deps)).toBe('already-started');
    await queue.complete(work!);
    await eventually(async () => (await store.get(job.id))!.state === 'Done');
    expect(await onWorkQueueMessage({ jobId: job.id, message: 'hi' }, context(), deps)).toBe('already-finished');
    expect(arm.creates.get(job.containerName)).toBe(1);
    // The second delivery sent the same first watch: the queue kept one.
    const watches = await eventually(async () => {
      const ready = await queue.receive(10);
      return ready.length > 0 ? ready : undefined;
    }, 10_000, 'the first watch');
    await sleep(400);
    expect([...watches, ...(await queue.receive(10))].map((m) => m.messageId)).toEqual([`${job.containerName}.watch.1`]);
  });

  it('defers at capacity: the message comes back later and no delivery is spent', async () => {
    await setUp({ deps: { maxConcurrent: 1 } });
    const running = await submitWork({ message: 'running', kind: 'default' }, { store, queue });
    await store.markStarted(running.containerName, new Date());
    const waiting = await submitWork({ message: 'waiting', kind: 'default' }, { store, queue });
    await queue.receive(10); // the original deliveries, held as a trigger would
    expect(await onWorkQueueMessage({ jobId: waiting.id, message: 'waiting' }, context(), deps)).toBe('deferred');
    expect(arm.creates.size).toBe(0);
    expect(await queue.receive(10)).toEqual([]); // scheduled for later, not now
    await sleep(1100);
    const [again] = await queue.receive(10);
    expect(again).toMatchObject({ body: { jobId: waiting.id, message: 'waiting' }, deliveryCount: 1 });
    expect(again!.messageId).toMatch(new RegExp(`^${waiting.id}\\.deferred\\.`));
  });

  it('defers, with the reason on the task, when ACI throttles creates past the SDK’s own retries', async () => {
    await setUp({ fake: { throttle: (method) => (method === 'PUT' ? 0 : null) } });
    // A 429 that never ends: the SDK's retries run out; a rate refusal is retry-later (quota-refusal.ts).
    const job = await submitWork({ message: 'hi', kind: 'default' }, { store, queue });
    expect(await onWorkQueueMessage({ jobId: job.id, message: 'hi' }, context({ messageId: job.id, deliveryCount: 4, enqueuedAt: new Date() }), deps)).toBe('deferred');
    expect(await store.get(job.id)).toMatchObject({ state: 'Pending', attempts: 0 });
    expect((await store.get(job.id))!.error).toMatch(/^waiting to start: ACI refused the create: quota 'requests'.*\[TooManyRequests\]/);
  }, 120_000);

  it('defers a create refused for capacity or ServiceUnavailable with backoff under fixed ids, never abandoning it', async () => {
    let refusing: 'capacity' | '503' | null = 'capacity';
    await setUp({
      fake: {
        createError: () =>
          refusing === 'capacity'
            ? { status: 409, code: 'ServiceUnavailable', message: "The requested resource with 'cpu: 1' is not available in the location 'westeurope' at this moment." }
            : refusing === '503'
              ? { status: 503, code: 'ServiceUnavailable', message: 'The service is unavailable' }
              : null,
      },
      deps: { deferSeconds: 0.2 },
    });
    const job = await submitWork({ message: 'hi', kind: 'default' }, { store, queue });
    const [work] = await queue.receive(1);
    // Returns (the trigger completes the message): no delivery is spent on the platform's fault.
    expect(await onWorkQueueMessage(work!.body, context(work), deps)).toBe('deferred');
    await queue.complete(work!);
    const first = sent.find((m) => m.messageId === `${job.id}.deferred.1.1`)!;
    expect(first.body).toMatchObject({ jobId: job.id, deferral: { n: 1 } });
    const since = (first.body as { deferral: { since: string } }).deferral.since;
    expect(first.scheduledAt!.getTime()).toBeGreaterThan(Date.now());
    refusing = '503';
    const [again] = await eventually(async () => {
      const ready = await queue.receive(1);
      return ready.length ? ready : undefined;
    });
    // The 503 goes through the SDK's own retries first, then defers the same way: link 2, twice the wait, the same start.
    expect(await onWorkQueueMessage(again!.body, context(again), deps)).toBe('deferred');
    await queue.complete(again!);
    const second = sent.find((m) => m.messageId === `${job.id}.deferred.1.2`)!;
    expect(second.body).toMatchObject({ deferral: { n: 2, since } });
    // Why it waits is on the task for the dashboard (issue 22): no dispatch error, no attempt spent.
    expect(await store.get(job.id)).toMatchObject({ state: 'Pending', attempts: 0, error: expect.stringMatching(/^waiting to start: ACI: ServiceUnavailable: /) });
    expect(arm.creates.size).toBe(0);
    refusing = null;
    // The third try is accepted: the task runs, as its first attempt.
    const done = await eventually(async () => {
      await deliverReady();
      const current = (await store.get(job.id))!;
      return current.state === 'Done' ? current : undefined;
    }, 30_000, 'Done after the refusals');
    expect(done.priorAttempts).toEqual([]);
    expect(arm.creates.get(job.containerName)).toBe(1);
    expect(queueDepth(queue).deadLettered).toBe(0);
  }, 90_000);

  it('aborts a create that hangs within the stated bound and defers it', async () => {
    await setUp({ fake: { hang: (method) => method === 'PUT' }, aci: { callTimeoutMs: 500 } });
    const job = await submitWork({ message: 'hi', kind: 'default' }, { store, queue });
    const began = Date.now();
    expect(await onWorkQueueMessage({ jobId: job.id, message: 'hi' }, context(), deps)).toBe('deferred');
    expect(Date.now() - began).toBeLessThan(5000);
    expect(sent.map((m) => m.messageId)).toContain(`${job.id}.deferred.1.1`);
  });

  it('runs a platform provisioning failure again, as the same attempt', async () => {
    let failures = 0;
    await setUp({
      fake: { provisioningFailure: () => (failures++ === 0 ? { name: 'Failed', message: "The requested resource is not available in the location 'westeurope' at this moment." } : null) },
      deps: { deferSeconds: 0.2 },
    });
    const job = await submitWork({ message: 'hi', kind: 'default' }, { store, queue });
    const done = await eventually(async () => {
      await deliverReady();
      const current = (await store.get(job.id))!;
      return current.state === 'Done' ? current : undefined;
    }, 30_000, 'Done after a provisioning failure');
    expect(arm.creates.get(job.containerName)).toBe(2);
    expect(done.priorAttempts).toEqual([]);
    expect(sent.map((m) => m.messageId)).toContain(`${job.id}.deferred.1.1`);
    // The second start has a watch chain of its own.
    expect(sent.map((m) => m.messageId)).toContain(`${job.containerName}.deferred.1.watch.1`);
  }, 40_000);

  it('ends a missing image Failed with ACI’s message after the start wait, never spending attempts', async () => {
    const image = 'ghcr.io/acme/missing:1';
    const missing: TaskKind = {
      name: 'missing', command: null, image, registry: null, cpu: 0.5, memoryGb: 0.5, timeoutSeconds: 60, startWaitSeconds: 2,
      retry: { maxAttempts: 1, retryOnExitCodes: [] }, env: {}, secretEnv: {}, store: false,
    };
    await setUp({
      kinds: [missing],
      fake: { provisioningFailure: () => ({ name: 'Failed', message: `Failed to pull image "${image}": manifest unknown` }) },
      deps: { deferSeconds: 0.2 },
    });
    const job = await submitWork({ message: 'hi', kind: 'missing' }, { store, queue });
    const failed = await eventually(async () => {
      await deliverReady();
      const current = (await store.get(job.id))!;
      return current.state === 'Failed' ? current : undefined;
    }, 30_000, 'Failed after the start wait');
    expect(failed.error).toMatch(/^not-started: the container did not start: ACI: InaccessibleImage: Failed to pull image "ghcr\.io\/acme\/missing:1": manifest unknown; still not started after 2 s \(the kind's startWaitSeconds\)$/);
    expect(failed.priorAttempts).toEqual([]);
    // Tried more than maxAttempts (1) times: the start wait bounds it, not attempts.
    expect(arm.creates.get(job.containerName)!).toBeGreaterThan(1);
    await eventually(async () => {
      await deliverReady();
      return arm.groupNames().length === 0;
    }, 10_000, 'the failed group deleted');
  }, 40_000);

  it('saves a timed-out task’s logs before its stop, and deletes its group at that look', async () => {
    await setUp({ workSeconds: '30', timeoutSeconds: 1 });
    const job = await submitWork({ message: 'hi', kind: 'default' }, { store, queue });
    const failed = await eventually(async () => {
      await deliverReady();
      const current = (await store.get(job.id))!;
      return current.state === 'Failed' ? current : undefined;
    }, 20_000, 'timed out');
    expect(failed.error).toMatch(/^timed out/);
    // Deleted at the look that stopped it: no wait for metrics a stopped group cannot produce.
    expect(arm.groupNames()).toEqual([]);
    const paths = arm.requests.filter((r) => r.path.includes(job.containerName)).map((r) => `${r.method} ${r.path.split(job.containerName)[1]}`);
    const stop = paths.indexOf('POST /stop');
    expect(stop).toBeGreaterThan(0);
    expect(paths.slice(0, stop)).toContain('GET /containers/worker/logs');
    expect(paths.slice(stop + 1).filter((p) => p === 'POST /stop')).toEqual([]);
    expect(paths[paths.length - 1]).toBe('DELETE ');
    expect((await store.getArtifacts(job.containerName))!.logs).toMatch(/\S/);
  }, 30_000);

  it('records a message that is neither work nor a watch as poison, once, and completes it', async () => {
    await setUp();
    const poison = { messageId: 'not-work', deliveryCount: 1, enqueuedAt: new Date('2026-11-30T01:00:00Z') };
    expect(await onWorkQueueMessage('hello', context(poison), deps)).toBe('poison');
    expect(await onWorkQueueMessage('hello', context({ ...poison, deliveryCount: 2 }), deps)).toBe('poison');
    const { jobs } = await store.list({ limit: 10 });
    expect(jobs).toHaveLength(1);
    expect(jobs[0]).toMatchObject({ state: 'Failed', message: 'hello', enqueuedAt: '2026-11-30T01:00:00.000Z' });
    expect(jobs[0]!.error).toMatch(/^poison: queue message not-work was taken off the queue, not run: .*not an object/);
    expect(arm.creates.size).toBe(0);
  });

  it('keeps a finished group until Azure Monitor has reported its last minute, then saves its metrics and deletes it', async () => {
    // Reports arrive 3 s after their grain closes: the group outlives its task by that much.
    await setUp({ fake: { metricsDelayMs: 3000 } });
    const job = await submitWork({ message: 'hi', kind: 'default' }, { store, queue });
    await deliverReady();
    await eventually(async () => (await store.get(job.id))!.state === 'Done');
    const exitedAt = Date.now();
    const lookedAt: number[] = [];
    await eventually(async () => {
      const outcomes = await deliverReady();
      if (outcomes.length > 0) lookedAt.push(Date.now());
      return arm.groupNames().length === 0 && queueDepth(queue).active === 0;
    }, 20_000, 'the group deleted and the chain ended');
    expect(Date.now() - exitedAt).toBeGreaterThan(2000);
    const saved = (await store.getArtifacts(job.containerName))!;
    expect(saved.logs).toContain('Done');
    expect(saved.metrics!.memory.length).toBeGreaterThan(0);
    expect(deps.metrics.settled!(saved.metrics!, new Date((await store.get(job.id))!.finishedAt!))).toBe(true);
  }, 30_000);

  it('deletes a finished group after the bounded wait when metrics never come, and ends the chain', async () => {
    await setUp({ fake: { metricsDelayMs: 3_600_000 }, deps: { metricsWaitSeconds: 2 } });
    const job = await submitWork({ message: 'hi', kind: 'default' }, { store, queue });
    await deliverReady();
    await eventually(async () => {
      await deliverReady();
      return arm.groupNames().length === 0 && queueDepth(queue).active === 0;
    }, 20_000, 'the group deleted after the wait');
    expect(await store.get(job.id)).toMatchObject({ state: 'Done' });
    expect((await store.getArtifacts(job.containerName))!.metrics).toEqual({ cpu: [], memory: [] });
  }, 30_000);

  it('a crash between sending the next watch and completing this one leaves one chain, not two', async () => {
    await setUp({ workSeconds: '3' });
    const job = await submitWork({ message: 'hi', kind: 'default' }, { store, queue });
    await deliverReady();
    await eventually(async () => (await store.get(job.id))!.state === 'InProgress');
    const [first] = await eventually(async () => {
      const ready = await queue.receive(1);
      return ready.length ? ready : undefined;
    });
    expect(first!.messageId).toBe(`${job.containerName}.watch.1`);
    // The handler runs (and sends watch 2), then the instance dies before the message is
    // completed: the lock is released and the same watch is delivered again.
    expect(await onWorkQueueMessage(first!.body, context(first), deps)).toBe('watching');
    await queue.abandon(first!);
    const [again] = await queue.receive(1);
    expect(again).toMatchObject({ messageId: `${job.containerName}.watch.1`, deliveryCount: 2 });
    expect(await onWorkQueueMessage(again!.body, context(again), deps)).toBe('watching');
    await queue.complete(again!);
    await sleep(400);
    expect((await queue.receive(10)).map((m) => m.messageId)).toEqual([`${job.containerName}.watch.2`]);
  }, 30_000);

  it('a watch that was dead-lettered restarts its chain; dead-lettered work fails its task', async () => {
    await setUp({ maxDeliveryCount: 1, workSeconds: '2' });
    const job = await submitWork({ message: 'hi', kind: 'default' }, { store, queue });
    await deliverReady();
    const watch = await eventually(async () => (await queue.receive(1))[0]);
    // Every delivery of this watch failed: Service Bus dead-letters it after the last one.
    await queue.abandon(watch);
    expect(await queue.receive(10)).toEqual([]);
    const [letter] = await queue.receiveDeadLetters(10);
    expect(letter!.messageId).toBe(`${job.containerName}.watch.1`);
    const watchLetter = await deadLetterInvocation(letter!);
    expect(await onDeadLetter(watchLetter.message, watchLetter.context, deps)).toBe('watching');
    await queue.complete(letter!);
    await sleep(400);
    expect((await queue.receive(10)).map((m) => m.messageId)).toEqual([`${job.containerName}.watch.2`]);

    const stuck = await submitWork({ message: 'never started', kind: 'default' }, { store, queue });
    const [work] = await queue.receive(1);
    await store.noteDispatchError(stuck.containerName, 'ACI said no');
    await queue.abandon(work!);
    const [workLetter] = await queue.receiveDeadLetters(10);
    const invocation = await deadLetterInvocation(workLetter!);
    // What the library hands the handler: every key's first letter lower-cased, at every depth.
    expect(invocation.context.triggerMetadata).toMatchObject({ messageId: workLetter!.messageId, applicationProperties: { deadLetterReason: 'MaxDeliveryCountExceeded' } });
    expect(await onDeadLetter(invocation.message, invocation.context, deps)).toBe('failed');
    expect((await store.get(stuck.id))!.error).toMatch(/^dead-lettered after 1 deliveries \(MaxDeliveryCountExceeded\): \S.*Last error: ACI said no$/);
  }, 30_000);

  it('settles a dead letter whose store was down for 10 minutes: scheduled copies with backoff, then Failed with its reason', async () => {
    await setUp({ maxDeliveryCount: 1 });
    const stuck = await submitWork({ message: 'never started', kind: 'default' }, { store, queue });
    const [work] = await queue.receive(1);
    await queue.abandon(work!);
    const [letter] = await queue.receiveDeadLetters(10);
    const invocation = await deadLetterInvocation(letter!);
    let down = true;
    const outage = new Proxy(store, {
      get(target, key) {
        const value = Reflect.get(target, key) as unknown;
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) => {
          if (down) return Promise.reject(new Error('connect ECONNREFUSED: the store is down'));
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
    const outageDeps = { ...deps, store: outage };
    const t0 = Date.now();
    expect(await onDeadLetter(invocation.message, invocation.context, outageDeps, new Date(t0))).toBe('copied');
    await queue.complete(letter!); // completed: its copy carries it on
    vi.useFakeTimers({ toFake: ['Date'] });
    const outcomes: string[] = [];
    try {
      for (let copy = sent.at(-1)!; ; copy = sent.at(-1)!) {
        vi.setSystemTime(copy.scheduledAt!);
        if (Date.now() - t0 >= 10 * 60_000) down = false;
        const outcome = await onWorkQueueMessage(copy.body, context(), outageDeps);
        outcomes.push(outcome);
        if (outcome !== 'copied') break;
      }
    } finally {
      vi.useRealTimers();
    }
    expect(outcomes).toEqual(['copied', 'copied', 'copied', 'failed']);
    const copies = sent.filter((m) => m.messageId.startsWith(`${letter!.messageId}.dead-letter.`));
    expect(copies.map((m) => m.messageId)).toEqual([1, 2, 3, 4].map((n) => `${letter!.messageId}.dead-letter.${n}`));
    // 1, 2, 4 and 8 minutes after the failure before each.
    expect(copies.map((m, i) => Math.round((m.scheduledAt!.getTime() - (i === 0 ? t0 : copies[i - 1]!.scheduledAt!.getTime())) / 60_000))).toEqual([1, 2, 4, 8]);
    const failed = (await store.get(stuck.id))!;
    expect(failed.state).toBe('Failed');
    expect(failed.error).toMatch(/^dead-lettered after 1 deliveries \(MaxDeliveryCountExceeded\): \S/);
  }, 30_000);

  it('runs a kind of the user\'s own image: its resources, secure values and registry in the request ACI validates, its state read from the container', async () => {
    const image = 'ghcr.io/acme/wordcount@sha256:' + '0'.repeat(64);
    const wordcount: TaskKind = {
      name: 'wordcount',
      command: null,
      image,
      registry: { server: 'ghcr.io', username: 'acme-bot', password: 'registry-password' },
      cpu: 0.5,
      memoryGb: 0.7,
      timeoutSeconds: 60,
      retry: { maxAttempts: 2, retryOnExitCodes: [] },
      env: { STEP_SECONDS: '0.2' },
      secretEnv: { API_TOKEN: 'token-value' },
      store: false,
    };
    await setUp({ kinds: [wordcount], fake: { images: { [image]: ['sh', join(ROOT, 'examples/wordcount/wordcount.sh')] } } });
    const job = await submitWork({ message: 'one two three', kind: 'wordcount' }, { store, queue });
    await deliverReady();
    const body = arm.putBodies.find((b) => (b as { tags?: Record<string, string> }).tags?.['job-id'] === job.id) as {
      properties: { imageRegistryCredentials: unknown[]; containers: { properties: { image: string; resources: unknown; environmentVariables: { name: string; value?: string; secureValue?: string }[] } }[] };
    };
    const [container] = body.properties.containers;
    expect(container!.properties.image).toBe(image);
    expect(container!.properties.resources).toEqual({ requests: { cpu: 0.5, memoryInGB: 0.7 } });
    expect(Object.fromEntries(container!.properties.environmentVariables.map((v) => [v.name, v]))).toEqual({
      STEP_SECONDS: { name: 'STEP_SECONDS', value: '0.2' },
      API_TOKEN: { name: 'API_TOKEN', secureValue: 'token-value' },
      MESSAGE: { name: 'MESSAGE', value: 'one two three' },
      CONTAINER_NAME: { name: 'CONTAINER_NAME', value: job.containerName },
      // Names only, as a plain value: what the container may mask with.
      SECRET_VARIABLES: { name: 'SECRET_VARIABLES', value: 'API_TOKEN' },
    });
    expect(body.properties.imageRegistryCredentials).toEqual([
      { server: 'acreda.azurecr.io', identity: PULL_IDENTITY },
      { server: 'ghcr.io', username: 'acme-bot', password: 'registry-password' },
    ]);
    // The watches follow it: InProgress while it runs, then Done with its output.
    const done = await eventually(async () => {
      await deliverReady();
      const current = (await store.get(job.id))!;
      return current.state === 'Done' && arm.groupNames().length === 0 ? current : undefined;
    }, 20_000, 'Done, and the group deleted');
    expect(done).toMatchObject({ output: '3 words on 1 lines', kind: 'wordcount', cpu: 0.5, memoryGb: 0.7 });
    expect(done.startedAt).not.toBeNull();
  }, 30_000);

  it('runs 100 tasks with no timer at all: each ends Done once, each group is deleted after its metrics, and nothing is left scheduled', async () => {
    let puts = 0;
    await setUp({
      fake: {
        createLatencyMs: () => 500 + Math.random() * 1500,
        throttle: (method) => (method === 'PUT' && ++puts % 9 === 0 ? 1 : null),
      },
      deps: { maxConcurrent: 24, metricsWaitSeconds: 30 },
    });
    // ACI's create rate (100 per 5 minutes), scaled down so that this run meets it, counted in the
    // store as on Azure (quota-guard.ts); groups and cores as many as the run needs.
    const ledger = new SqliteQuotaLedger(join(dir.path, 'jobs.db'));
    deps.runtime = new QuotaGuardedRuntime(deps.runtime, {
      ledger,
      limits: { containerGroupQuota: 100, coreQuota: 100 },
      usage: null,
      budget: null,
      backoffMs: 1000,
      claimLifetimeMs: 600_000,
      rates: { pt5m: { limit: 20, ms: 8_000 }, pt1h: { limit: 1000, ms: 3600_000 } },
      warn: () => {},
    });
    const jobs = [];
    for (let i = 0; i < 100; i++) jobs.push(await submitWork({ message: `task ${i}`, kind: 'default' }, { store, queue }));

    // The Functions host: up to maxConcurrentCalls invocations at once on the work queue,
    // complete on return, abandon on throw; the dead letter trigger likewise. No timer.
    const maxConcurrentCalls = 16;
    let inFlight = 0;
    let running = true;
    const outcomes = new Map<string, number>();
    const invocations = new Set<Promise<void>>();
    const invoke = (message: ReceivedMessage, handle: () => Promise<string>, settle: (ok: boolean) => Promise<void>) => {
      inFlight++;
      const invocation = handle()
        .then(async (outcome) => {
          outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
          await settle(true);
        })
        .catch(() => settle(false))
        .finally(() => {
          inFlight--;
          invocations.delete(invocation);
        });
      invocations.add(invocation);
    };
    const host = (async () => {
      while (running) {
        if (inFlight >= maxConcurrentCalls) {
          await sleep(20);
          continue;
        }
        const messages = await queue.receive(maxConcurrentCalls - inFlight);
        for (const message of messages) {
          invoke(message, () => onWorkQueueMessage(message.body, context(message), deps), (ok) => (ok ? queue.complete(message) : queue.abandon(message)));
        }
        for (const letter of await queue.receiveDeadLetters(maxConcurrentCalls)) {
          invoke(letter, () => onDeadLetter(letter.body, context(letter), deps), (ok) => (ok ? queue.complete(letter) : queue.abandon(letter)));
        }
        await (messages.length ? sleep(5) : queue.waitForMessages(100));
      }
    })();

    try {
      await eventually(async () => arm.groupNames().length === 0 && (await store.counts()).Done === 100, 180_000, '100 Done, every group deleted');
      await eventually(async () => queueDepth(queue).active === 0 && inFlight === 0, 30_000, 'the last watches to end');
    } finally {
      running = false;
      await Promise.all([host, ...invocations]);
    }

    expect(await store.counts()).toEqual({ Pending: 0, InProgress: 0, Done: 100, Failed: 0 });
    for (const job of jobs) {
      expect(arm.creates.get(job.containerName), job.containerName).toBe(1);
      const saved = (await store.getArtifacts(job.containerName))!;
      expect(saved.logs, job.containerName).toContain('Done');
      // Deleted after its metrics: the last grain of its life had been reported.
      expect(deps.metrics.settled!(saved.metrics!, new Date((await store.get(job.id))!.finishedAt!)), job.containerName).toBe(true);
    }
    expect(arm.requests.filter((r) => r.status === 429).length).toBeGreaterThan(0);
    expect(outcomes.get('deferred') ?? 0).toBeGreaterThan(0); // at capacity and at the create quota
    expect(outcomes.get('settled')).toBe(100);
    // Nothing is scheduled once the last task has ended: no message waits, now or later.
    expect(queueDepth(queue)).toEqual({ active: 0, deadLettered: 0 });
  }, 240_000);
});
