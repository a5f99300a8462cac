import { ContainerInstanceManagementClient } from '@azure/arm-containerinstance';
import { MonitorClient } from '@azure/arm-monitor';
import type { TokenCredential } from '@azure/core-auth';
import { DefaultAzureCredential } from '@azure/identity';
import type { SettingsReader } from '../../settings.js';
import { AciRuntime, type AciLaunch } from './aci-runtime.js';
import { AzureMonitorMetrics } from './azure-monitor-metrics.js';
import { ServiceBusWorkQueue } from './service-bus-work-queue.js';

/** Where the stack's container groups live, and which identity the app runs as. */
export interface AzureScope {
  subscriptionId: string;
  resourceGroup: string;
  /** The user-assigned identity's client id (App Service and Functions set AZURE_CLIENT_ID). */
  managedIdentityClientId?: string;
}

export interface ServiceBusSettings {
  queueName: string;
  /** `<name>.servicebus.windows.net`: connect by identity (the deployed default). */
  namespace?: string;
  /** Or a connection string (development against a real namespace). */
  connectionString?: string;
}

export function readAzureScope(read: SettingsReader): AzureScope {
  const clientId = read.string('AZURE_CLIENT_ID', '');
  return {
    subscriptionId: read.requiredString('AZURE_SUBSCRIPTION_ID'),
    resourceGroup: read.requiredString('RESOURCE_GROUP'),
    ...(clientId ? { managedIdentityClientId: clientId } : {}),
  };
}

export function readAciLaunch(read: SettingsReader): AciLaunch {
  return {
    location: read.requiredString('LOCATION'),
    workerImage: read.requiredString('WORKER_IMAGE'),
    registryServer: read.requiredString('REGISTRY_SERVER'),
    pullIdentityId: read.requiredString('PULL_IDENTITY_ID'),
  };
}

export function readServiceBusSettings(read: SettingsReader): ServiceBusSettings {
  const namespace = read.string('SERVICEBUS_NAMESPACE', '');
  const connectionString = read.string('SERVICEBUS_CONNECTION_STRING', '');
  if (!namespace && !connectionString) read.requiredString('SERVICEBUS_NAMESPACE'); // reports it missing
  return {
    queueName: read.requiredString('QUEUE_NAME'),
    ...(namespace ? { namespace } : {}),
    ...(connectionString ? { connectionString } : {}),
  };
}

/** Managed identity on Azure, the developer's `az login` elsewhere: no secrets in settings. */
export function azureCredential(managedIdentityClientId?: string | null): TokenCredential {
  return new DefaultAzureCredential(managedIdentityClientId ? { managedIdentityClientId } : {});
}

export function openAciRuntime(scope: AzureScope, credential: TokenCredential, launch?: AciLaunch): AciRuntime {
  const client = new ContainerInstanceManagementClient(credential, scope.subscriptionId);
  return new AciRuntime(client, { resourceGroup: scope.resourceGroup, ...(launch ? { launch } : {}) });
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
