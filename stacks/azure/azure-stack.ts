import * as pulumi from '@pulumi/pulumi';
import * as authorization from '@pulumi/azure-native/authorization/index.js';
import * as resources from '@pulumi/azure-native/resources/index.js';
import { join } from 'node:path';
import { exchangeAcrRefreshToken, type AcrTokenExchange } from '../../components/acr-token.js';
import { AciUsageReader } from '../../components/aci-usage-reader.js';
import { DashboardHosting } from '../../components/dashboard-hosting.js';
import { Database } from '../../components/database.js';
import { Identities } from '../../components/identity.js';
import { Messaging } from '../../components/messaging.js';
import { RegistryImages } from '../../components/registry-images.js';
import { ResourceProviderRegistration } from '../../components/resource-provider-registration.js';
import { SpawnerFunction } from '../../components/spawner-function.js';
import type { AzureStackConfig } from './config.js';
import { dashboardTokenOf } from './dashboard-token.js';
import { buildFunctionPackage } from './function-package.js';
import { kindsSettings } from './kinds-setting.js';
import { stackNames } from './naming.js';
import { PROJECT_ROOT } from './project-root.js';
import { STACK_RESOURCE_PROVIDER_NAMESPACES } from './resource-providers.js';

const QUEUE_NAME = 'work';
const DATABASE_NAME = 'event-driven-aci';

export interface AzureStackOptions {
  /** How the deployer's Azure AD token becomes an ACR token (tests replace the network call). */
  exchangeAcrToken?: AcrTokenExchange;
}

export interface AzureStack {
  dashboardUrl: pulumi.Output<string>;
  resourceGroupName: pulumi.Output<string>;
  queueName: pulumi.Output<string>;
  registryLoginServer: pulumi.Output<string>;
  spawnerAppName: pulumi.Output<string>;
  dashboardToken: pulumi.Output<string>;
  /** Secrets the apps receive; exposed for checks, never exported in plain text. */
  secrets: Record<string, pulumi.Output<string>>;
}

/**
 * The whole Azure environment as one stack: resource group, identities and roles, the Service
 * Bus queue, Cosmos DB for MongoDB, the registry with both images, the dashboard on App
 * Service and the spawner Function. Config is read by the caller (config.ts) and passed in.
 */
export function azureStack(config: AzureStackConfig, options: AzureStackOptions = {}): AzureStack {
  const client = authorization.getClientConfigOutput();
  const deployerToken = pulumi.secret(authorization.getClientTokenOutput().token);
  const names = client.subscriptionId.apply((subscriptionId) =>
    stackNames({ subscriptionId, organization: pulumi.getOrganization(), project: pulumi.getProject(), stack: pulumi.getStack() }),
  );
  const name = (key: keyof ReturnType<typeof stackNames>) => names.apply((n) => n[key]);
  const { location } = config;
  const dashboardToken = dashboardTokenOf(config.dashboardToken);

  // Before anything else: every other resource is in the group, so each waits for the registrations.
  const providers = new ResourceProviderRegistration('resource-providers', {
    subscriptionId: client.subscriptionId,
    namespaces: STACK_RESOURCE_PROVIDER_NAMESPACES,
    accessToken: deployerToken,
  });
  const group = new resources.ResourceGroup(
    'group',
    { resourceGroupName: name('resourceGroup'), location },
    { dependsOn: [providers] },
  );
  const resourceGroupName = group.name;

  const identities = new Identities('identity', {
    resourceGroupName,
    resourceGroupId: group.id,
    location,
    subscriptionId: client.subscriptionId,
    names: { pull: name('pullIdentity'), spawner: name('spawnerIdentity'), dashboard: name('dashboardIdentity') },
    spawnerRole: { name: name('spawnerRoleName'), id: name('spawnerRoleId') },
  });

  // ACI's usage is a subscription-scope resource: the spawner reads it with a role of its own there.
  const usageReader = new AciUsageReader(
    'aci-usage-reader',
    {
      subscriptionId: client.subscriptionId,
      principalId: identities.spawner.principalId,
      role: { name: name('usageRoleName'), id: name('usageRoleId') },
    },
    { dependsOn: [providers] },
  );

  const messaging = new Messaging('messaging', {
    resourceGroupName,
    location,
    subscriptionId: client.subscriptionId,
    namespaceName: name('serviceBusNamespace'),
    queueName: QUEUE_NAME,
    lockDurationSeconds: config.lockDurationSeconds,
    maxDeliveryCount: config.maxDeliveryCount,
    duplicateWindowMinutes: config.duplicateWindowMinutes,
    senderPrincipalIds: [identities.dashboard.principalId],
    // The dashboard's health check peeks at the queue, which needs the receiver's right.
    receiverPrincipalIds: [identities.dashboard.principalId],
    triggerPrincipalIds: [identities.spawner.principalId],
  });

  const database = new Database('database', {
    resourceGroupName,
    location,
    accountName: name('cosmosAccount'),
    databaseName: DATABASE_NAME,
  });

  const registry = new RegistryImages('registry', {
    resourceGroupName,
    location,
    subscriptionId: client.subscriptionId,
    tenantId: client.tenantId,
    registryName: name('registry'),
    contextDir: PROJECT_ROOT,
    deployer: { objectId: client.objectId, principalType: config.deployerPrincipalType, accessToken: deployerToken },
    pullers: { containerGroups: identities.pull.principalId, dashboard: identities.dashboard.principalId },
    exchangeToken: options.exchangeAcrToken ?? exchangeAcrRefreshToken,
    kindBuilds: Object.fromEntries(config.kinds.flatMap((kind) => (kind.build ? [[kind.name, kind.build]] : []))),
  });
  // Every kind's image is pulled as the pull identity (AcrPull on this registry: the built ones
  // and any other image in it) or with the kind's own registry credentials; public ones need none.
  const kinds = kindsSettings(config.kinds, registry.kindImages);

  const prices = {
    PRICE_VCPU_SECOND: String(config.prices.vcpuSecondUsd),
    PRICE_GB_SECOND: String(config.prices.gbSecondUsd),
  };

  const dashboard = new DashboardHosting('dashboard', {
    resourceGroupName,
    location,
    planName: name('dashboardPlan'),
    appName: name('dashboardApp'),
    sku: config.dashboardSku,
    image: registry.dashboardImage,
    identity: identities.dashboard,
    grants: [registry.pullGrant('dashboard'), ...identities.grants.dashboard, ...messaging.grants.senders, ...messaging.grants.receivers],
    settings: {
      DATABASE_URI: database.connectionString,
      DASHBOARD_TOKEN: dashboardToken,
      QUEUE: 'servicebus',
      QUEUE_NAME: messaging.queueName,
      SERVICEBUS_NAMESPACE: messaging.fullyQualifiedNamespace,
      CONTAINERS: 'aci',
      AZURE_CLIENT_ID: identities.dashboard.clientId,
      AZURE_SUBSCRIPTION_ID: client.subscriptionId,
      RESOURCE_GROUP: resourceGroupName,
      COST_LABEL: 'ACI',
      KINDS: kinds.dashboard,
      ...(kinds.withSecrets ? { KINDS_WITH_SECRETS: kinds.withSecrets } : {}),
      ...prices,
    },
  });

  const functionPackage = buildFunctionPackage(PROJECT_ROOT, join(PROJECT_ROOT, 'dist/function-app'));
  const spawner = new SpawnerFunction('spawner', {
    resourceGroupName,
    location,
    subscriptionId: client.subscriptionId,
    storageAccountName: name('storageAccount'),
    planName: name('spawnerPlan'),
    appName: name('spawnerApp'),
    packageDir: functionPackage.dir,
    packageHash: functionPackage.sha256,
    identity: identities.spawner,
    grants: [registry.pullGrant('containerGroups'), ...identities.grants.spawner, usageReader.grant, ...messaging.grants.triggers],
    serviceBusNamespace: messaging.fullyQualifiedNamespace,
    maxInstances: config.spawnerMaxInstances,
    settings: {
      DATABASE_URI: database.connectionString,
      WORKER_DATABASE_URI: database.workerConnectionString,
      QUEUE_NAME: messaging.queueName,
      SERVICEBUS_NAMESPACE: messaging.fullyQualifiedNamespace,
      AZURE_CLIENT_ID: identities.spawner.clientId,
      AZURE_SUBSCRIPTION_ID: client.subscriptionId,
      RESOURCE_GROUP: resourceGroupName,
      LOCATION: location,
      WORKER_IMAGE: registry.workerImage,
      REGISTRY_SERVER: registry.loginServer,
      PULL_IDENTITY_ID: identities.pull.id,
      WORKER_CPU: String(config.workerCpu),
      WORKER_MEMORY_GB: String(config.workerMemoryGb),
      WORK_SECONDS: String(config.workSeconds),
      MAX_CONCURRENT: String(config.maxConcurrent),
      CONTAINER_GROUP_QUOTA: String(config.containerGroupQuota),
      CORE_QUOTA: String(config.coreQuota),
      TASK_TIMEOUT_SECONDS: String(config.taskTimeoutSeconds),
      MAX_ATTEMPTS: String(config.maxAttempts),
      KINDS: kinds.spawner,
    },
  });

  return {
    dashboardUrl: dashboard.url,
    resourceGroupName,
    queueName: messaging.queueName,
    registryLoginServer: registry.loginServer,
    spawnerAppName: spawner.appName,
    dashboardToken: dashboardToken,
    secrets: {
      databaseUri: database.connectionString,
      workerDatabaseUri: database.workerConnectionString,
      dashboardToken: dashboardToken,
      kinds: kinds.spawner,
    },
  };
}
