import { openJobStore } from '../core/adapters/open-job-store.js';
import {
  azureCredential,
  openAciRuntime,
  openAzureMonitorMetrics,
  openServiceBusQueue,
} from '../core/adapters/azure/azure-settings.js';
import type { SpawnerSettings } from './settings.js';
import type { SpawnerDeps } from './spawner-deps.js';

/** The spawner on Azure: Cosmos (or any store by URI), Service Bus, ACI and Azure Monitor. */
export async function createSpawnerDeps(settings: SpawnerSettings): Promise<SpawnerDeps> {
  const credential = azureCredential(settings.scope.managedIdentityClientId);
  return {
    store: await openJobStore(settings.databaseUri),
    runtime: openAciRuntime(settings.scope, credential, settings.launch),
    metrics: openAzureMonitorMetrics(settings.scope, credential),
    queue: openServiceBusQueue(settings.serviceBus, () => credential),
    launch: {
      databaseUri: settings.workerDatabaseUri,
      taskEnv: { WORK_SECONDS: String(settings.workSeconds) },
      cpu: settings.workerCpu,
      memoryGb: settings.workerMemoryGb,
    },
    maxConcurrent: settings.maxConcurrent,
    taskTimeoutSeconds: settings.taskTimeoutSeconds,
    deferSeconds: settings.deferSeconds,
    watchSeconds: settings.watchSeconds,
    metricsWaitSeconds: settings.metricsWaitSeconds,
    retryPolicy: settings.retryPolicy,
  };
}
