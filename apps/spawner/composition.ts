import { openJobStore } from '../core/adapters/open-job-store.js';
import { azureCredential, openAciRuntime, openAzureMonitorMetrics, openServiceBusQueue } from '../core/adapters/azure/azure-clients.js';
import type { SpawnerSettings } from './settings.js';
import type { SpawnerDeps } from './spawner-deps.js';

/** The spawner on Azure: Cosmos (or any store by URI), Service Bus, ACI and Azure Monitor. */
export async function createSpawnerDeps(settings: SpawnerSettings): Promise<SpawnerDeps> {
  const credential = azureCredential(settings.scope.managedIdentityClientId);
  return {
    // Opened at every cold start, and sorts only by _id (its one insert, a poison record, is
    // guarded by _id): the dashboard checks the indexes, not every cold start (each check costs RUs).
    store: await openJobStore(settings.databaseUri, { verifyIndexes: false }),
    runtime: openAciRuntime(settings.scope, credential, settings.launch),
    metrics: openAzureMonitorMetrics(settings.scope, credential),
    queue: openServiceBusQueue(settings.serviceBus, () => credential),
    launch: { databaseUri: settings.workerDatabaseUri, kinds: settings.kinds },
    kinds: settings.kinds,
    maxConcurrent: settings.maxConcurrent,
    deferSeconds: settings.deferSeconds,
    watchSeconds: settings.watchSeconds,
    metricsWaitSeconds: settings.metricsWaitSeconds,
  };
}
