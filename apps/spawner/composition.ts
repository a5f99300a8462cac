import { openJobStore } from '../core/adapters/open-job-store.js';
import { azureCredential, openAciRuntime, openAzureMonitorMetrics, openServiceBusQueue } from '../core/adapters/azure/azure-clients.js';
import { knownSecrets } from '../core/domain/known-secrets.js';
import { SecretMasker } from '../core/domain/secret-masker.js';
import { withMaskedLogs } from '../core/masked-logs.js';
import type { SpawnerSettings } from './settings.js';
import type { SpawnerDeps } from './spawner-deps.js';

/** The spawner on Azure: Cosmos (or any store by URI), Service Bus, ACI and Azure Monitor. */
export async function createSpawnerDeps(settings: SpawnerSettings): Promise<SpawnerDeps> {
  const credential = azureCredential(settings.scope.managedIdentityClientId);
  return {
    // Opened at every cold start, and sorts only by _id (its one insert, a poison record, is
    // guarded by _id): the dashboard checks the indexes, not every cold start (each check costs RUs).
    store: await openJobStore(settings.databaseUri, { verifyIndexes: false }),
    // Logs, outputs and reasons are masked with every kind's secrets before the store sees them.
    runtime: withMaskedLogs(openAciRuntime(settings.scope, credential, settings.launch), new SecretMasker(knownSecrets(settings.kinds, settings.workerDatabaseUri)), { live: false }),
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
