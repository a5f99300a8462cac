import { importLocalOnly } from '../core/adapters/local-only.js';
import { openJobStore } from '../core/adapters/open-job-store.js';
import {
  azureCredential,
  openAciRuntime,
  openAzureMonitorMetrics,
  openServiceBusQueue,
} from '../core/adapters/azure/azure-settings.js';
import type { WorkQueue } from '../core/domain/work-queue.port.js';
import type { DashboardDeps } from './deps.js';
import type { DashboardSettings } from './settings.js';

/** The dashboard's adapters, chosen by its settings: no code changes between environments. */
export async function createDashboardDeps(settings: DashboardSettings): Promise<DashboardDeps> {
  const store = await openJobStore(settings.databaseUri);
  const credential = () => azureCredential(settings.managedIdentityClientId);
  let queue: WorkQueue;
  if (settings.queue.kind === 'servicebus') {
    queue = openServiceBusQueue(settings.queue.serviceBus, credential);
  } else {
    const { SqliteWorkQueue } = await importLocalOnly('QUEUE', () => import('../core/adapters/sqlite-work-queue.js'));
    queue = new SqliteWorkQueue({ path: settings.queue.path, lockDurationMs: 60_000, maxDeliveryCount: 5, duplicateDetectionWindowMs: 600_000 });
  }
  const common = { store, queue, prices: settings.prices, costLabel: settings.costLabel };
  if (settings.containers.kind === 'aci') {
    return {
      ...common,
      runtime: openAciRuntime(settings.containers.scope, credential()),
      metrics: openAzureMonitorMetrics(settings.containers.scope, credential()),
    };
  }
  return { ...common, runtime: { logs: async () => null }, metrics: { metrics: async () => null } };
}
