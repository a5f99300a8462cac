import type { SettingsReader } from './reader.js';

/** What a create needs; a reader of logs and states (the dashboard) goes without. */
export interface AciLaunch {
  location: string;
  /** The worker image in the stack's registry, e.g. `myacr.azurecr.io/worker:sha`. */
  workerImage: string;
  /** The registry's login server; the image is pulled with `pullIdentityId`, no password. */
  registryServer: string;
  /** Resource id of the user-assigned identity that has AcrPull on the registry. */
  pullIdentityId: string;
}

/** Where the stack's container groups live, and which identity the app runs as. */
export interface AzureScope {
  subscriptionId: string;
  resourceGroup: string;
  /** The user-assigned identity's client id (App Service and Functions set AZURE_CLIENT_ID). */
  managedIdentityClientId?: string;
}

/**
 * How many container groups, and how many cores, this stack may hold at once in its region
 * (groups running, provisioning, or kept for their metrics). ACI's own limits are per
 * subscription and region: 100 groups, and cores that are 100 by the table but often 10 in real
 * subscriptions (Learn: container-instances-resource-and-quota-limits; MicrosoftDocs/azure-docs#51738).
 */
export interface AciQuotaSettings {
  containerGroupQuota: number;
  coreQuota: number;
}

export const DEFAULT_ACI_QUOTA: AciQuotaSettings = { containerGroupQuota: 100, coreQuota: 10 };

export function readAciQuota(read: SettingsReader): AciQuotaSettings {
  return {
    containerGroupQuota: read.integer('CONTAINER_GROUP_QUOTA', DEFAULT_ACI_QUOTA.containerGroupQuota, { min: 1, max: 10_000 }),
    coreQuota: read.number('CORE_QUOTA', DEFAULT_ACI_QUOTA.coreQuota, { min: 0.1, max: 100_000 }),
  };
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
