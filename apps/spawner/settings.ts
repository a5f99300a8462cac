import {
  readAciLaunch,
  readAzureScope,
  readServiceBusSettings,
  type AzureScope,
  type ServiceBusSettings,
} from '../core/adapters/azure/azure-settings.js';
import type { AciLaunch } from '../core/adapters/azure/aci-runtime.js';
import type { RetryPolicy } from '../core/domain/retry-policy.js';
import { ACI_LINUX_LIMITS, TIMEOUT_LIMITS, type KindCatalog } from '../core/domain/task-kind.js';
import { defaultKind, readKindsSetting } from '../core/kind-settings.js';
import { readRetryPolicy } from '../core/retry-settings.js';
import { SettingsReader } from '../core/settings.js';
import { DEFAULT_WORK_SECONDS } from '../core/domain/worker-contract.js';

/** The spawner Function's settings (app settings the Pulumi program writes), read once. */
export interface SpawnerSettings {
  /** The store for the spawner itself (Cosmos: the connection string as Azure gives it). */
  databaseUri: string;
  /** The store as workers reach it (Cosmos: `ssl=true` removed; DESIGN.md). */
  workerDatabaseUri: string;
  serviceBus: ServiceBusSettings;
  scope: AzureScope;
  launch: AciLaunch;
  workerCpu: number;
  workerMemoryGb: number;
  workSeconds: number;
  maxConcurrent: number;
  taskTimeoutSeconds: number;
  /** How long a message waits when the spawner is at capacity or at ACI's create quota. */
  deferSeconds: number;
  /** Seconds between looks at a running task. */
  watchSeconds: number;
  /** How long a finished group waits for Azure Monitor to report its metrics before it is deleted. */
  metricsWaitSeconds: number;
  retryPolicy: RetryPolicy;
  /** The built-in worker's kind and the user's own (KINDS, written by the Pulumi program). */
  kinds: KindCatalog;
}

export function readSpawnerSettings(env: Record<string, string | undefined>): SpawnerSettings {
  const read = new SettingsReader(env);
  const workerCpu = read.number('WORKER_CPU', 1, ACI_LINUX_LIMITS.cpu);
  const workerMemoryGb = read.number('WORKER_MEMORY_GB', 1.5, ACI_LINUX_LIMITS.memoryGb);
  const workSeconds = read.number('WORK_SECONDS', DEFAULT_WORK_SECONDS, { min: 0 });
  const taskTimeoutSeconds = read.number('TASK_TIMEOUT_SECONDS', 600, TIMEOUT_LIMITS);
  const retryPolicy = readRetryPolicy(read);
  const builtIn = defaultKind({ cpu: workerCpu, memoryGb: workerMemoryGb, timeoutSeconds: taskTimeoutSeconds, retry: retryPolicy, workSeconds });
  const settings: SpawnerSettings = {
    databaseUri: read.requiredString('DATABASE_URI'),
    workerDatabaseUri: read.requiredString('WORKER_DATABASE_URI'),
    serviceBus: readServiceBusSettings(read),
    scope: readAzureScope(read),
    launch: readAciLaunch(read),
    workerCpu,
    workerMemoryGb,
    workSeconds,
    maxConcurrent: read.integer('MAX_CONCURRENT', 20, { min: 1, max: 1000 }),
    taskTimeoutSeconds,
    deferSeconds: read.number('DEFER_SECONDS', 15, { min: 1, max: 3600 }),
    watchSeconds: read.number('WATCH_SECONDS', 5, { min: 1, max: 300 }),
    // Azure Monitor reports container metrics at a one-minute grain, minutes after the fact.
    metricsWaitSeconds: read.number('METRICS_WAIT_SECONDS', 300, { min: 0, max: 3600 }),
    retryPolicy,
    kinds: readKindsSetting(read, 'KINDS', builtIn),
  };
  read.done();
  return settings;
}
