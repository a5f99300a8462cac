import functions from '@azure/functions';
import { join } from 'node:path';
import type { ReceivedMessage } from '../apps/core/domain/work-queue.port.js';
import type { SpawnerDeps } from '../apps/spawner/spawner-deps.js';
import { clientsFor, PULL_IDENTITY, RESOURCE_GROUP, SUBSCRIPTION } from '../tests/fakes/azure-clients.js';
import { FakeArm } from '../tests/fakes/fake-arm.js';
import { fromBuild } from './build.js';
import { WORKER } from './cold-start.js';
import { scratchDir } from './fixtures.js';
import { row, type Row } from './report.js';
import { percentile, spread } from './stats.js';

const CREATE_LATENCY_MS = 2000;
const WRITE_BUCKET = { size: 10, refillPerSecond: 10 };
// host.json's maxConcurrentCalls: invocations at once on one instance.
const MAX_CONCURRENT_CALLS = 16;

async function modules() {
  return {
    ...(await fromBuild<typeof import('../apps/spawner/functions/work-queue.js')>('apps/spawner/functions/work-queue.js')),
    ...(await fromBuild<typeof import('../apps/core/adapters/azure/aci-runtime.js')>('apps/core/adapters/azure/aci-runtime.js')),
    ...(await fromBuild<typeof import('../apps/core/adapters/azure/azure-monitor-metrics.js')>('apps/core/adapters/azure/azure-monitor-metrics.js')),
    ...(await fromBuild<typeof import('../apps/core/domain/retry-policy.js')>('apps/core/domain/retry-policy.js')),
    ...(await fromBuild<typeof import('../apps/core/domain/task-kind.js')>('apps/core/domain/task-kind.js')),
    ...(await fromBuild<typeof import('../apps/core/settings/kinds.js')>('apps/core/settings/kinds.js')),
    ...(await fromBuild<typeof import('../apps/dashboard/submit-work.js')>('apps/dashboard/submit-work.js')),
  };
}

// A CommonJS package: under Node's ES modules its classes come from the default export.
const { InvocationContext } = functions;

function context(message: ReceivedMessage): functions.InvocationContext {
  return new InvocationContext({
    functionName: 'work-queue',
    triggerMetadata: { messageId: message.messageId, deliveryCount: message.deliveryCount, enqueuedTimeUtc: message.enqueuedAt.toISOString() },
    logHandler: () => {},
  });
}

interface Phase {
  /** The first invocation for each job's work message, and when its handler returned 'started'. */
  invokedAt: Map<string, number>;
  returnedAt: Map<string, number>;
}

/**
 * The Functions host, as far as the handler sees it: up to maxConcurrentCalls invocations at
 * once on the work queue (work and watches), complete on return, abandon on a throw.
 */
function functionsHost(deps: SpawnerDeps, handle: typeof import('../apps/spawner/functions/work-queue.js').onWorkQueueMessage, phase: Phase) {
  let running = true;
  let inFlight = 0;
  const invocations = new Set<Promise<void>>();
  const loop = (async () => {
    while (running) {
      const messages = inFlight < MAX_CONCURRENT_CALLS ? await deps.queue.receive(MAX_CONCURRENT_CALLS - inFlight) : [];
      for (const message of messages) {
        const jobId = (message.body as { jobId?: string; type?: string }).type === 'watch' ? null : (message.body as { jobId: string }).jobId;
        if (jobId && !phase.invokedAt.has(jobId)) phase.invokedAt.set(jobId, Date.now());
        inFlight++;
        const invocation = handle(message.body, context(message), deps)
          .then(async (outcome) => {
            if (jobId && outcome === 'started') phase.returnedAt.set(jobId, Date.now());
            await deps.queue.complete(message);
          })
          .catch(() => deps.queue.abandon(message))
          .finally(() => {
            inFlight--;
            invocations.delete(invocation);
          });
        invocations.add(invocation);
      }
      await (messages.length ? new Promise((resolve) => setTimeout(resolve, 2)) : deps.queue.waitForMessages(50));
    }
  })();
  return async () => {
    running = false;
    await loop;
    await Promise.all(invocations);
  };
}

/**
 * 5. The Azure path, simulated: the Function's work-queue handler with AciRuntime (production
 * settings: its 2 s poll of a create) and the real ARM SDK against the ARM fake, whose creates
 * take 2 s and whose writes pass ARM's token bucket (10 deep, 10 a second). Phase one adds a task
 * every 500 ms, below the bucket: what the handler adds to the create latency, until the container
 * runs and until the invocation returns. Phase two adds 60 at once: ARM writes per second at their
 * peak, and the 429s seen.
 */
export async function azurePath({ paced, burst }: { paced: number; burst: number }): Promise<Row[]> {
  const { onWorkQueueMessage, AciRuntime, AzureMonitorMetrics, DEFAULT_RETRY_POLICY, submitWork, KindCatalog, defaultKind, DEFAULT_KIND } = await modules();
  const kinds = new KindCatalog(defaultKind({ cpu: 1, memoryGb: 1.5, timeoutSeconds: 120, retry: DEFAULT_RETRY_POLICY, workSeconds: 0 }));
  const { SqliteJobStore } = await fromBuild<typeof import('../apps/core/adapters/sqlite/job-store.js')>('apps/core/adapters/sqlite/job-store.js');
  const { SqliteWorkQueue } = await fromBuild<typeof import('../apps/core/adapters/sqlite/work-queue.js')>('apps/core/adapters/sqlite/work-queue.js');
  const dir = scratchDir('azure');
  const arm = new FakeArm({ workerEntry: WORKER, logDir: join(dir.path, 'aci'), createLatencyMs: () => CREATE_LATENCY_MS, writeBucket: WRITE_BUCKET, metricsGrainMs: 1000, metricsDelayMs: 500 });
  await arm.start();
  const { aci, monitor } = clientsFor(arm);
  const store = new SqliteJobStore(join(dir.path, 'jobs.db'));
  const queue = new SqliteWorkQueue({ path: join(dir.path, 'queue.db'), lockDurationMs: 60_000, maxDeliveryCount: 10, duplicateDetectionWindowMs: 600_000 });
  const deps: SpawnerDeps = {
    store,
    queue,
    // As openAciRuntime makes it on Azure: no poll interval of its own.
    runtime: new AciRuntime(aci, { resourceGroup: RESOURCE_GROUP, launch: { location: 'westeurope', workerImage: 'acreda.azurecr.io/worker:1', registryServer: 'acreda.azurecr.io', pullIdentityId: PULL_IDENTITY } }),
    metrics: new AzureMonitorMetrics(monitor, { subscriptionId: SUBSCRIPTION, resourceGroup: RESOURCE_GROUP, grainSeconds: 1 }),
    launch: { databaseUri: `sqlite:${join(dir.path, 'jobs.db')}`, kinds },
    kinds,
    maxConcurrent: 200,
    deferSeconds: 1,
    watchSeconds: 5,
    metricsWaitSeconds: 5,
  };
  const runPhase = async (tasks: number, everyMs: number) => {
    const phase: Phase = { invokedAt: new Map(), returnedAt: new Map() };
    const stop = functionsHost(deps, onWorkQueueMessage, phase);
    const jobs = [];
    try {
      for (let i = 0; i < tasks; i++) {
        jobs.push(await submitWork({ message: `azure ${i}`, kind: DEFAULT_KIND }, { store, queue }));
        if (everyMs) await new Promise((resolve) => setTimeout(resolve, everyMs));
      }
      const deadline = Date.now() + 120_000;
      while (jobs.some((job) => !phase.returnedAt.has(job.id) || !arm.deployedAt.has(job.containerName))) {
        if (Date.now() > deadline) throw new Error('the Azure path did not start every task within 2 minutes');
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    } finally {
      await stop();
    }
    const untilRunning = jobs.map((job) => arm.deployedAt.get(job.containerName)! - phase.invokedAt.get(job.id)! - CREATE_LATENCY_MS);
    const untilReturned = jobs.map((job) => phase.returnedAt.get(job.id)! - phase.invokedAt.get(job.id)! - CREATE_LATENCY_MS);
    return { untilRunning: spread(untilRunning.map((ms) => ms / 1000)), untilReturned: spread(untilReturned.map((ms) => ms / 1000)) };
  };
  try {
    const pacedRun = await runPhase(paced, 500);
    const writesBefore = arm.acceptedWrites.length;
    const throttledBefore = arm.throttledWrites;
    const burstStarted = Date.now();
    const burstRun = await runPhase(burst, 0);
    const burstSeconds = (Date.now() - burstStarted) / 1000;
    const burstWrites = arm.acceptedWrites.length - writesBefore;
    const burstTimes = arm.acceptedWrites.slice(writesBefore);
    const burstWriteRate = burstTimes.length > 1 ? ((burstTimes.length - 1) * 1000) / (burstTimes[burstTimes.length - 1]! - burstTimes[0]!) : Number.NaN;
    const throttled = arm.throttledWrites - throttledBefore;
    const detail = { paced: pacedRun, burst: burstRun, burstSeconds, burstWrites, writeBucket: WRITE_BUCKET, createLatencyMs: CREATE_LATENCY_MS };
    const creates = [...arm.creates.values()];
    if (creates.some((n) => n !== 1)) throw new Error('a container group was created more than once');
    return [
      row('azureOverheadP50', 'Azure path: beyond the 2 s create, message → container running, p50', 's', null, pacedRun.untilRunning.p50, { max: 0.2 }, 'ours', detail),
      row('azureOverheadP95', 'Azure path: beyond the 2 s create, message → container running, p95', 's', null, pacedRun.untilRunning.p95, { max: 0.2 }, 'ours'),
      row('azureHandlerP95', 'Azure path: beyond the 2 s create, the invocation (billed), p95', 's', null, pacedRun.untilReturned.p95, { max: 0.2 }, 'ours'),
      // What the bucket lets through in one second at most: all it holds, and a second's refill.
      row('azurePeakWrites', `Azure path: most ARM writes in any one second, ${burst} tasks at once, vs the bucket's most`, 'writes', WRITE_BUCKET.size + WRITE_BUCKET.refillPerSecond, arm.peakWritesPerSecond(), { max: 1 }, 'ratio'),
      row('azureSustainedWrites', `Azure path: ARM writes per second over the burst, vs the bucket's refill`, 'writes/s', WRITE_BUCKET.refillPerSecond, burstWriteRate, null, 'ratio'),
      row('azure429s', `Azure path: 429s seen, ${burst} tasks at once`, '', null, throttled, null, 'ours'),
    ];
  } finally {
    await arm.close();
    await Promise.all([store.close(), queue.close()]);
    dir.remove();
  }
}
