import { importLocalOnly } from '../core/adapters/local-only.js';
import { openJobStore } from '../core/adapters/open-job-store.js';
import { azureCredential, openAciRuntime, openAzureMonitorMetrics, openServiceBusQueue } from '../core/adapters/azure/azure-clients.js';
import type { WorkQueue } from '../core/domain/work-queue.port.js';
import type { DashboardDeps } from './deps.js';
import { openWhenReachable, type OpenWhenReachableOptions } from './open-when-reachable.js';
import type { DashboardSettings } from './settings.js';
import { withheldLiveLogs } from './withheld-live-logs.js';

/**
 * The dashboard's adapters, chosen by its settings: no code changes between environments. The
 * store and the queue open on first use and again after a failure, so the server starts and
 * stays up while either cannot be reached (its /healthz says which).
 */
export async function createDashboardDeps(
  settings: DashboardSettings,
  reachability: OpenWhenReachableOptions = {},
): Promise<DashboardDeps> {
  const credential = () => azureCredential(settings.managedIdentityClientId);
  const store = openWhenReachable('store', () => openJobStore(settings.databaseUri), reachability);
  const queue = openWhenReachable<WorkQueue>('queue', async () => {
    if (settings.queue.kind === 'servicebus') return openServiceBusQueue(settings.queue.serviceBus, credential);
    const { SqliteWorkQueue } = await importLocalOnly('QUEUE', () => import('../core/adapters/sqlite/work-queue.js'));
    const { path, tuning } = settings.queue;
    return new SqliteWorkQueue({
      path,
      lockDurationMs: tuning.lockDurationSeconds * 1000,
      maxDeliveryCount: tuning.maxDeliveryCount,
      duplicateDetectionWindowMs: tuning.duplicateWindowSeconds * 1000,
    });
  }, reachability);
  const common = { store, queue, prices: settings.prices, costLabel: settings.costLabel, kinds: settings.kinds };
  if (settings.containers.kind === 'aci') {
    return {
      ...common,
      runtime: withheldLiveLogs(openAciRuntime(settings.containers.scope, credential()), store, settings.kindsWithSecrets),
      metrics: openAzureMonitorMetrics(settings.containers.scope, credential()),
    };
  }
  return { ...common, runtime: { logs: async () => null }, metrics: { metrics: async () => null } };
}
