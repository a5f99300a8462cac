import {
  readAciLaunch,
  readAciQuota,
  readAzureScope,
  readServiceBusSettings,
  type AciLaunch,
  type AciQuotaSettings,
  type AzureScope,
  type ServiceBusSettings,
} from '../core/settings/azure.js';
import type { KindCatalog } from '../core/domain/task-kind.js';
import { readBuiltInKind } from '../core/settings/common.js';
import { readKindsSetting } from '../core/settings/kinds.js';
import { SettingsReader } from '../core/settings/reader.js';

/** The spawner Function's settings (app settings the Pulumi program writes), read once. */
export interface SpawnerSettings {
  /** The store for the spawner itself (Cosmos: the connection string as Azure gives it). */
  databaseUri: string;
  /** The store as workers reach it (Cosmos: `ssl=true` removed; docs/design.md). */
  workerDatabaseUri: string;
  serviceBus: ServiceBusSettings;
  scope: AzureScope;
  launch: AciLaunch;
  /** The groups and cores this stack may hold in its region (CONTAINER_GROUP_QUOTA, CORE_QUOTA). */
  quota: AciQuotaSettings;
  maxConcurrent: number;
  /**
   * How long a message waits when the spawner is at capacity; and the first wait of a start the
   * platform refused or failed (doubled for each later one, up to 5 minutes, within the kind's
   * startWaitSeconds).
   */
  deferSeconds: number;
  /** Seconds between looks at a running task. */
  watchSeconds: number;
  /** How long a finished group waits for Azure Monitor to report its metrics before it is deleted. */
  metricsWaitSeconds: number;
  /** The built-in worker's kind and the user's own (KINDS, written by the Pulumi program). */
  kinds: KindCatalog;
}

export function readSpawnerSettings(env: Record<string, string | undefined>): SpawnerSettings {
  const read = new SettingsReader(env);
  const builtIn = readBuiltInKind(read);
  const settings: SpawnerSettings = {
    databaseUri: read.requiredString('DATABASE_URI'),
    workerDatabaseUri: read.requiredString('WORKER_DATABASE_URI'),
    serviceBus: readServiceBusSettings(read),
    scope: readAzureScope(read),
    launch: readAciLaunch(read),
    quota: readAciQuota(read),
    maxConcurrent: read.integer('MAX_CONCURRENT', 20, { min: 1, max: 1000 }),
    deferSeconds: read.number('DEFER_SECONDS', 15, { min: 1, max: 3600 }),
    watchSeconds: read.number('WATCH_SECONDS', 5, { min: 1, max: 300 }),
    // Azure Monitor reports container metrics at a one-minute grain, minutes after the fact.
    metricsWaitSeconds: read.number('METRICS_WAIT_SECONDS', 300, { min: 0, max: 3600 }),
    kinds: readKindsSetting(read, 'KINDS', builtIn),
  };
  read.done();
  return settings;
}
