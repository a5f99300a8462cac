import { openJobStore } from '../core/adapters/open-job-store.js';
import { azureCredential, openAciWithQuota, openAzureMonitorMetrics, openServiceBusQueue } from '../core/adapters/azure/azure-clients.js';
import { openQuotaLedger } from '../core/adapters/open-quota-ledger.js';
import { knownSecrets } from '../core/domain/known-secrets.js';
import { SecretMasker } from '../core/domain/secret-masker.js';
import { withMaskedLogs } from '../core/masked-logs.js';
import { QuotaGuardedRuntime } from './quota-guard.js';
import type { SpawnerSettings } from './settings.js';
import type { SpawnerDeps } from './spawner-deps.js';

/** The spawner on Azure: Cosmos (or any store by URI), Service Bus, ACI and Azure Monitor. */
export async function createSpawnerDeps(settings: SpawnerSettings): Promise<SpawnerDeps> {
  const credential = azureCredential(settings.scope.managedIdentityClientId);
  const aci = openAciWithQuota(settings.scope, credential, settings.launch, { quotaBackoffMs: settings.deferSeconds * 1000 });
  // The groups, cores and create/delete windows every instance shares, in the store.
  const runtime = new QuotaGuardedRuntime(aci.runtime, {
    ledger: await openQuotaLedger(settings.databaseUri),
    limits: settings.quota,
    usage: aci.usage,
    budget: aci.budget,
    backoffMs: settings.deferSeconds * 1000,
    claimLifetimeMs: claimLifetimeMs(settings),
    warn: (line) => console.warn(line),
  });
  return {
    // Opened at every cold start, and sorts only by _id (its one insert, a poison record, is
    // guarded by _id): the dashboard checks the indexes, not every cold start (each check costs RUs).
    store: await openJobStore(settings.databaseUri, { verifyIndexes: false }),
    // Logs, outputs and reasons are masked with every kind's secrets before the store sees them.
    runtime: withMaskedLogs(runtime, new SecretMasker(knownSecrets(settings.kinds, settings.workerDatabaseUri)), { live: false }),
    quotaTight: () => runtime.tight(),
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

/** The longest a group may live (the longest kind's timeout, the metrics wait, and an hour's slack): an older claim is a leftover. */
function claimLifetimeMs(settings: SpawnerSettings): number {
  const longest = Math.max(...settings.kinds.names().map((name) => settings.kinds.get(name)!.timeoutSeconds));
  return (longest + settings.metricsWaitSeconds + 3600) * 1000;
}
