import { InvocationContext } from '@azure/functions';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AciRuntime } from '../../apps/core/adapters/azure/aci-runtime.js';
import { AciUsage } from '../../apps/core/adapters/azure/aci-usage.js';
import { AzureMonitorMetrics } from '../../apps/core/adapters/azure/azure-monitor-metrics.js';
import { CreateBudgetHeaders } from '../../apps/core/adapters/azure/create-budget.js';
import { SqliteQuotaLedger } from '../../apps/core/adapters/sqlite/quota-ledger.js';
import type { SqliteJobStore } from '../../apps/core/adapters/sqlite/job-store.js';
import type { SqliteWorkQueue } from '../../apps/core/adapters/sqlite/work-queue.js';
import type { TaskKind } from '../../apps/core/domain/task-kind.js';
import type { ReceivedMessage } from '../../apps/core/domain/work-queue.port.js';
import { submitWork } from '../../apps/dashboard/submit-work.js';
import { onWorkQueueMessage, type WorkQueueOutcome } from '../../apps/spawner/functions/work-queue.js';
import { QuotaGuardedRuntime, type QuotaGuardOptions } from '../../apps/spawner/quota-guard.js';
import type { SpawnerDeps } from '../../apps/spawner/spawner-deps.js';
import { clientsFor, PULL_IDENTITY, RESOURCE_GROUP, SUBSCRIPTION } from '../fakes/azure-clients.js';
import { FakeArm, type FakeArmOptions } from '../fakes/fake-arm.js';
import { BUILT_WORKER, eventually, openEmbedded, sleep, tempDir, testKinds } from '../helpers.js';

// ACI's quotas through the Function handlers: the real ACI SDK against the ARM fake (its
// refusals, usage answer and budget headers in fake-arm-quota.ts), the quota guard as the
// composition builds it, and the SQLite queue, store and ledger standing in for Service Bus and
// Cosmos.

function context(message?: Pick<ReceivedMessage, 'messageId' | 'deliveryCount'>): InvocationContext {
  return new InvocationContext({
    functionName: 'work-queue',
    triggerMetadata: message ? { messageId: message.messageId, deliveryCount: message.deliveryCount } : { deliveryCount: 1 },
    logHandler: () => {},
  });
}

describe('ACI quotas as Azure counts them', () => {
  let dir: ReturnType<typeof tempDir>;
  let arm: FakeArm;
  let store: SqliteJobStore;
  let queue: SqliteWorkQueue;
  let ledger: SqliteQuotaLedger;
  let guard: QuotaGuardedRuntime;
  let deps: SpawnerDeps;
  let warnings: string[];

  interface SetUp {
    fake?: Partial<FakeArmOptions>;
    guard?: Partial<QuotaGuardOptions>;
    deps?: Partial<SpawnerDeps>;
    kinds?: TaskKind[];
    workSeconds?: number;
  }

  async function setUp(options: SetUp = {}) {
    dir = tempDir();
    arm = new FakeArm({ workerEntry: BUILT_WORKER, logDir: join(dir.path, 'aci'), createLatencyMs: () => 200, ...options.fake });
    await arm.start();
    const { aci, monitor } = clientsFor(arm);
    const budget = new CreateBudgetHeaders();
    aci.pipeline.addPolicy(budget.policy());
    const kinds = await testKinds({ workSeconds: options.workSeconds ?? 0, timeoutSeconds: 120 }, options.kinds ?? []);
    const dbPath = join(dir.path, 'jobs.db');
    ({ store, queue } = await openEmbedded(dir.path, { lockDurationMs: 60_000, maxDeliveryCount: 10 }));
    ledger = new SqliteQuotaLedger(dbPath);
    warnings = [];
    const runtime = new AciRuntime(aci, {
      resourceGroup: RESOURCE_GROUP,
      launch: { location: 'westeurope', workerImage: 'acreda.azurecr.io/worker:1', registryServer: 'acreda.azurecr.io', pullIdentityId: PULL_IDENTITY },
      pollIntervalMs: 100,
      quotaBackoffMs: 300,
    });
    guard = new QuotaGuardedRuntime(runtime, {
      ledger,
      limits: { containerGroupQuota: 100, coreQuota: 10 },
      usage: new AciUsage(aci, 'westeurope'),
      budget,
      backoffMs: 300,
      claimLifetimeMs: 600_000,
      warn: (line) => warnings.push(line),
      ...options.guard,
    });
    deps = {
      store,
      queue,
      runtime: guard,
      quotaTight: () => guard.tight(),
      metrics: new AzureMonitorMetrics(monitor, { subscriptionId: SUBSCRIPTION, resourceGroup: RESOURCE_GROUP, grainSeconds: 1 }),
      launch: { databaseUri: `sqlite:${dbPath}`, kinds },
      kinds,
      maxConcurrent: 50,
      deferSeconds: 0.3,
      watchSeconds: 0.3,
      metricsWaitSeconds: 0,
      ...options.deps,
    };
  }

  afterEach(async () => {
    expect(arm.invalidBodies).toEqual([]);
    await arm.close();
    ledger.close();
    await Promise.all([store.close(), queue.close()]);
    dir.remove();
  });

  async function deliverReady(): Promise<WorkQueueOutcome[]> {
    const outcomes: WorkQueueOutcome[] = [];
    for (const message of await queue.receive(50)) {
      try {
        outcomes.push(await onWorkQueueMessage(message.body, context(message), deps));
        await queue.complete(message);
      } catch {
        await queue.abandon(message);
      }
    }
    return outcomes;
  }

  async function kindWith(name: string, changes: Partial<TaskKind>): Promise<TaskKind> {
    return { ...(await testKinds()).defaultKind, name, ...changes };
  }

  it('with coreQuota 4 and a 2-vCPU kind, at most 2 groups exist at once, and every task ends Done', async () => {
    const big = await kindWith('big', { cpu: 2 });
    await setUp({ kinds: [big], workSeconds: 1, guard: { limits: { containerGroupQuota: 100, coreQuota: 4 } } });
    const jobs = [];
    for (let i = 0; i < 5; i++) jobs.push(await submitWork({ message: `big ${i}`, kind: 'big' }, { store, queue }));
    const outcomes: WorkQueueOutcome[] = [];
    await eventually(async () => {
      outcomes.push(...(await deliverReady()));
      return (await store.counts()).Done === 5 && arm.groupNames().length === 0;
    }, 60_000, 'five Done, every group deleted');
    expect(arm.peakGroups).toBe(2);
    expect(outcomes).toContain('deferred');
    for (const job of jobs) expect(arm.creates.get((await store.get(job.id))!.containerName)).toBe(1);
    // Nothing is left counted once every group is gone.
    expect(await ledger.claimed(new Date(0))).toEqual({ groups: 0, cores: 0 });
  }, 90_000);

  it('defers instead of creating when the usage read shows other stacks’ groups filling the region', async () => {
    await setUp({ fake: { quota: { groupLimit: 5, otherGroups: 5, coreLimit: 100 } } });
    const job = await submitWork({ message: 'hi', kind: 'default' }, { store, queue });
    expect(await deliverReady()).toEqual(['deferred']);
    expect(arm.putBodies).toEqual([]);
    expect(arm.requests.some((r) => r.path.endsWith('/locations/westeurope/usages'))).toBe(true);
    // The reason is on the task, and the figures for the dashboard in the store.
    expect((await store.get(job.id))!.error).toMatch(/waiting to start: deferred: quota 'ContainerGroups' is full \(5 of 5 groups in use \(the region's usage/);
    expect(await ledger.readFigures()).toMatchObject({ groups: { used: 5, limit: 5, source: 'usage' }, latestDeferral: { jobId: job.id, kind: 'count' } });
  });

  it('uses a cores row when the usage answer has one', async () => {
    await setUp({ fake: { quota: { coreLimit: 3, otherCores: 2.5, coresRow: true } } });
    await submitWork({ message: 'hi', kind: 'default' }, { store, queue });
    expect(await deliverReady()).toEqual(['deferred']);
    expect(arm.putBodies).toEqual([]);
    expect(await ledger.readFigures()).toMatchObject({ cores: { used: 2.5, limit: 3, source: 'usage' } });
  });

  it('on a 403 usage read, counts from the store and the latest refusal, with one warning line', async () => {
    await setUp({ fake: { quota: { usageDenied: true, coreLimit: 2, otherCores: 1, refusalStatus: 400 } }, workSeconds: 3 });
    const first = await submitWork({ message: 'one', kind: 'default' }, { store, queue });
    expect(await deliverReady()).toEqual(['started']);
    // ACI refuses the second (1 core of another stack + 1 of ours): the refusal's figures are kept.
    await submitWork({ message: 'two', kind: 'default' }, { store, queue });
    expect(await deliverReady()).toContain('deferred');
    expect(arm.quota!.refusals).toEqual([{ quota: 'StandardCores', status: 400 }]);
    expect(await ledger.readFigures()).toMatchObject({ usageDenied: true, latestRefusal: { quota: 'StandardCores', limit: 2, usage: 2, requested: 1 } });
    // The next try is kept back by the refusal's figures, before Azure is asked again.
    const puts = arm.putBodies.length;
    await eventually(async () => (await deliverReady()).includes('deferred'), 10_000, 'the deferred work delivered again, and kept out');
    expect(arm.putBodies.length).toBe(puts);
    expect(await ledger.readFigures()).toMatchObject({ cores: { source: 'refusal', limit: 2 } });
    expect(warnings.filter((w) => /usage read refused/.test(w))).toHaveLength(1);
    expect(warnings[0]).toMatch(/locations\/usages\/read at subscription scope/);
    await eventually(async () => (await store.get(first.id))!.state === 'Done', 20_000);
  }, 30_000);

  it('a task kept out past startWaitSeconds ends Failed as not-started, naming the quota, with its attempts unspent', async () => {
    const quick = await kindWith('quick', { timeoutSeconds: 600, startWaitSeconds: 4 });
    // No usage read (403): ACI's own refusal keeps it out first, then its figures do.
    await setUp({ kinds: [quick], fake: { quota: { coreLimit: 100, groupLimit: 0, usageDenied: true } } });
    const job = await submitWork({ message: 'never room', kind: 'quick' }, { store, queue });
    const outcomes: WorkQueueOutcome[] = [];
    await eventually(async () => {
      outcomes.push(...(await deliverReady()));
      return outcomes.includes('not-started');
    }, 20_000, 'the task given up as not started');
    const failed = (await store.get(job.id))!;
    expect(failed).toMatchObject({ state: 'Failed', attempts: 0 });
    expect(failed.error).toMatch(/^not-started: the container did not start: .*quota 'ContainerGroups'/);
    expect(arm.quota!.refusals.length).toBeGreaterThan(0);
    expect(failed.error).toMatch(/still not started after 4 s \(the kind's startWaitSeconds\)/);
    expect(outcomes.filter((o) => o === 'deferred').length).toBeGreaterThan(1);
    expect(arm.creates.size).toBe(0);
  }, 30_000);

  it('shares the create window between instances through the store: two spawners make no more creates than it holds', async () => {
    await setUp({ guard: { rates: { pt5m: { limit: 3, ms: 3600_000 }, pt1h: { limit: 300, ms: 3600_000 } } } });
    const { aci } = clientsFor(arm);
    const other = new QuotaGuardedRuntime(new AciRuntime(aci, { resourceGroup: RESOURCE_GROUP, launch: { location: 'westeurope', workerImage: 'w', registryServer: 'acreda.azurecr.io', pullIdentityId: PULL_IDENTITY }, pollIntervalMs: 100 }), {
      ledger: new SqliteQuotaLedger(join(dir.path, 'jobs.db')),
      limits: { containerGroupQuota: 100, coreQuota: 10 },
      usage: null,
      budget: null,
      backoffMs: 300,
      claimLifetimeMs: 600_000,
      rates: { pt5m: { limit: 3, ms: 3600_000 }, pt1h: { limit: 300, ms: 3600_000 } },
      warn: () => {},
    });
    for (let i = 0; i < 6; i++) await submitWork({ message: `t${i}`, kind: 'default' }, { store, queue });
    const messages = await queue.receive(6);
    const outcomes = await Promise.all(messages.map((m, i) => onWorkQueueMessage(m.body, context(m), i % 2 ? deps : { ...deps, runtime: other })));
    expect(outcomes.filter((o) => o === 'started')).toHaveLength(3);
    expect(outcomes.filter((o) => o === 'deferred')).toHaveLength(3);
    expect(arm.creates.size).toBe(3);
    expect(await ledger.readFigures()).toMatchObject({ latestDeferral: { kind: 'rate', reason: expect.stringMatching(/creates per 5 minutes/) } });
  }, 30_000);

  it('raises the shared window to what the create’s headers report (other stacks’ creates count too)', async () => {
    await setUp({ fake: { quota: { coreLimit: 100, otherCreates: 50 } } });
    await submitWork({ message: 'hi', kind: 'default' }, { store, queue });
    expect(await deliverReady()).toEqual(['started']);
    // This stack made one create; the headers said 49 left of 100, so 51 are used in the window.
    const start = new Date(Math.floor(Date.now() / 300_000) * 300_000).toISOString();
    expect(await ledger.take({ name: 'create.pt5m', start, limit: 52 })).toBe(true);
    expect(await ledger.take({ name: 'create.pt5m', start, limit: 52 })).toBe(false);
  });

  it('stops counting a group a look finds gone, but not a claim whose create may be in flight', async () => {
    await setUp();
    await ledger.claimGroup('task-lost', 1, new Date(Date.now() - 20 * 60_000));
    await ledger.claimGroup('task-in-flight', 1, new Date());
    expect(await guard.status('task-lost')).toBeNull();
    expect(await guard.status('task-in-flight')).toBeNull();
    expect(await ledger.claimed(new Date(0))).toEqual({ groups: 1, cores: 1 });
  });

  it('deletes a group kept for metrics at once while a quota keeps another task out', async () => {
    await setUp({ fake: { metricsGrainMs: 1000, metricsDelayMs: 3_600_000 }, deps: { metricsWaitSeconds: 3600 }, guard: { limits: { containerGroupQuota: 1, coreQuota: 10 } } });
    const first = await submitWork({ message: 'first', kind: 'default' }, { store, queue });
    expect(await deliverReady()).toEqual(['started']);
    await eventually(async () => (await store.get(first.id))!.state === 'Done', 20_000);
    // Done, kept for metrics that will not come for an hour; the second task is kept out by it.
    await submitWork({ message: 'second', kind: 'default' }, { store, queue });
    await eventually(async () => {
      await deliverReady();
      return (await store.counts()).Done === 2;
    }, 30_000, 'the first group deleted early, and the second task run');
    expect(await store.getArtifacts(first.containerName)).toMatchObject({ logs: expect.stringContaining('Done') });
  }, 60_000);
});
