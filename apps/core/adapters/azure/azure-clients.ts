import { ContainerInstanceManagementClient } from '@azure/arm-containerinstance';
import { MonitorClient } from '@azure/arm-monitor';
import type { TokenCredential } from '@azure/core-auth';
import { DefaultAzureCredential } from '@azure/identity';
import type { AciLaunch, AzureScope, ServiceBusSettings } from './options.js';
import { AciRuntime } from './aci-runtime.js';
import { AciUsage } from './aci-usage.js';
import { CreateBudgetHeaders } from './create-budget.js';
import { AzureMonitorMetrics } from './azure-monitor-metrics.js';
import { ServiceBusWorkQueue } from './service-bus-work-queue.js';

/** Managed identity on Azure, the developer's `az login` elsewhere: no secrets in settings. */
export function azureCredential(managedIdentityClientId?: string | null): TokenCredential {
  return new DefaultAzureCredential(managedIdentityClientId ? { managedIdentityClientId } : {});
}

export function openAciRuntime(scope: AzureScope, credential: TokenCredential, launch?: AciLaunch): AciRuntime {
  const client = new ContainerInstanceManagementClient(credential, scope.subscriptionId);
  return new AciRuntime(client, { resourceGroup: scope.resourceGroup, ...(launch ? { launch } : {}) });
}

/**
 * The spawner's ACI: the runtime that creates groups, the region's usage read, and the create
 * budget its responses' headers report, all on one client.
 */
export function openAciWithQuota(
  scope: AzureScope,
  credential: TokenCredential,
  launch: AciLaunch,
  options: { quotaBackoffMs: number },
): { runtime: AciRuntime; usage: AciUsage; budget: CreateBudgetHeaders } {
  const client = new ContainerInstanceManagementClient(credential, scope.subscriptionId);
  const budget = new CreateBudgetHeaders();
  client.pipeline.addPolicy(budget.policy());
  return {
    runtime: new AciRuntime(client, { resourceGroup: scope.resourceGroup, launch, quotaBackoffMs: options.quotaBackoffMs }),
    usage: new AciUsage(client, launch.location),
    budget,
  };
}

export function openAzureMonitorMetrics(scope: AzureScope, credential: TokenCredential): AzureMonitorMetrics {
  const client = new MonitorClient(credential, scope.subscriptionId);
  return new AzureMonitorMetrics(client, { subscriptionId: scope.subscriptionId, resourceGroup: scope.resourceGroup });
}

export function openServiceBusQueue(settings: ServiceBusSettings, credential: () => TokenCredential): ServiceBusWorkQueue {
  return settings.connectionString
    ? ServiceBusWorkQueue.connect({ queueName: settings.queueName, connectionString: settings.connectionString })
    : ServiceBusWorkQueue.connect({ queueName: settings.queueName, fullyQualifiedNamespace: settings.namespace!, credential: credential() });
}
