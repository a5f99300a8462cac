import { beforeAll, describe, expect, it } from 'vitest';
import type { AzureStack } from '../../stacks/azure/azure-stack.js';
import { COSMOS_CONNECTION, DEPLOYER, installMocks, isSecret, SUBSCRIPTION, TOKEN, valueOf, type Recorded } from './pulumi-mocks.js';

// A 40-character stack name: every derived resource name must stay valid.
const STACK = 'dev-alexandra-with-a-long-stack-name-40c';

describe('the Azure stack, with Pulumi mocks', () => {
  let resources: Recorded[];
  let stack: AzureStack;
  const exchanged: string[][] = [];

  beforeAll(async () => {
    expect(STACK).toHaveLength(40);
    resources = await installMocks(
      'event-driven-aci',
      STACK,
      { 'azure-native:location': 'westeurope', 'event-driven-aci:dashboardToken': TOKEN, 'event-driven-aci:maxConcurrent': '30' },
      ['event-driven-aci:dashboardToken'],
    );
    // Mocks first, then the program: a static import would capture no mocks (undefined outputs).
    const { azureStack } = await import('../../stacks/azure/azure-stack.js');
    const { readAzureStackConfig } = await import('../../stacks/azure/config.js');
    stack = azureStack(readAzureStackConfig(), {
      exchangeAcrToken: async (server, token, tenant) => {
        exchanged.push([server, token, tenant]);
        return 'acr-refresh-token';
      },
    });
    await valueOf(stack.dashboardUrl);
    await valueOf(stack.spawnerAppName);
    // Let every pending registration land before looking at the graph.
    await new Promise((resolve) => setTimeout(resolve, 200));
  }, 60_000);

  const ofType = (type: string) => resources.filter((r) => r.type === type);
  const one = (type: string, where: (r: Recorded) => boolean = () => true) => {
    const found = ofType(type).filter(where);
    expect(found, type).toHaveLength(1);
    return found[0]!;
  };
  const settingsOf = (app: Recorded) =>
    Object.fromEntries((app.inputs.siteConfig.appSettings as { name: string; value: string }[]).map((s) => [s.name, s.value]));
  const functionApp = () => one('azure-native:web:WebApp', (r) => r.inputs.kind === 'functionapp,linux');
  const dashboardApp = () => one('azure-native:web:WebApp', (r) => r.inputs.kind === 'app,linux,container');

  it('holds every part of the environment', () => {
    const types = new Set(resources.map((r) => r.type));
    for (const type of [
      'azure-native:resources:ResourceGroup',
      'azure-native:servicebus:Namespace',
      'azure-native:servicebus:Queue',
      'azure-native:cosmosdb:DatabaseAccount',
      'azure-native:cosmosdb:MongoDBResourceMongoDBDatabase',
      'azure-native:cosmosdb:MongoDBResourceMongoDBCollection',
      'azure-native:containerregistry:Registry',
      'docker:index/image:Image',
      'azure-native:web:AppServicePlan',
      'azure-native:web:WebApp',
      'azure-native:managedidentity:UserAssignedIdentity',
      'azure-native:authorization:RoleDefinition',
      'azure-native:authorization:RoleAssignment',
      'azure-native:storage:StorageAccount',
      'azure-native:storage:Blob',
      'event-driven-aci:messaging:Messaging',
      'event-driven-aci:database:Database',
      'event-driven-aci:registry:RegistryImages',
      'event-driven-aci:dashboard:DashboardHosting',
      'event-driven-aci:spawner:SpawnerFunction',
      'event-driven-aci:identity:Identities',
    ]) {
      expect(types, type).toContain(type);
    }
    expect(ofType('azure-native:managedidentity:UserAssignedIdentity')).toHaveLength(3);
  });

  it('makes a Standard Service Bus queue with peek-lock, a delivery limit, dead letters and duplicate detection', () => {
    expect(one('azure-native:servicebus:Namespace').inputs).toMatchObject({ sku: { name: 'Standard' }, disableLocalAuth: true });
    expect(one('azure-native:servicebus:Queue').inputs).toMatchObject({
      queueName: 'work',
      lockDuration: 'PT60S',
      maxDeliveryCount: 5,
      deadLetteringOnMessageExpiration: true,
      requiresDuplicateDetection: true,
      duplicateDetectionHistoryTimeWindow: 'PT10M',
    });
  });

  it('makes a serverless Cosmos DB for MongoDB account with the indexes the store needs', () => {
    const account = one('azure-native:cosmosdb:DatabaseAccount');
    expect(account.inputs).toMatchObject({ kind: 'MongoDB', databaseAccountOfferType: 'Standard' });
    expect(account.inputs.capabilities).toContainEqual({ name: 'EnableServerless' });
    const jobs = one('azure-native:cosmosdb:MongoDBResourceMongoDBCollection', (r) => r.inputs.collectionName === 'jobs');
    expect(jobs.inputs.resource.indexes).toContainEqual({ key: { keys: ['containerName'] }, options: { unique: true } });
    // Idempotency keys are unique by _id alone: the collection is created empty with no other index.
    const keys = one('azure-native:cosmosdb:MongoDBResourceMongoDBCollection', (r) => r.inputs.collectionName === 'idempotency');
    expect(keys.inputs.resource.indexes).toEqual([{ key: { keys: ['_id'] } }]);
    expect(one('azure-native:cosmosdb:MongoDBResourceMongoDBDatabase').inputs.databaseName).toBe('event-driven-aci');
  });

  it('gives the worker a DATABASE_URI without ssl that keeps every other parameter', () => {
    const settings = settingsOf(functionApp());
    expect(settings.DATABASE_URI).toBe(COSMOS_CONNECTION);
    const worker = settings.WORKER_DATABASE_URI as string;
    expect(worker).not.toMatch(/[?&]ssl=/i);
    expect(worker).toBe(
      'mongodb://acct:KEY%3D%3D@acct.mongo.cosmos.azure.com:10255/?replicaSet=globaldb&retrywrites=false&maxIdleTimeMS=120000&appName=@acct@',
    );
  });

  it('keeps every connection string, key and token secret, and exports none in plain text', async () => {
    for (const [name, output] of Object.entries(stack.secrets)) expect(await isSecret(output), name).toBe(true);
    expect(await isSecret(stack.dashboardToken)).toBe(true);
    for (const output of [stack.dashboardUrl, stack.resourceGroupName, stack.queueName, stack.registryLoginServer, stack.spawnerAppName]) {
      expect(await isSecret(output)).toBe(false);
      const value = String(await valueOf(output));
      expect(value).not.toContain(TOKEN);
      expect(value).not.toContain('mongodb://');
      expect(value).not.toContain('KEY%3D%3D');
    }
  });

  it('uses no registry password and no service-principal secret: ACR admin off, identities everywhere', () => {
    expect(one('azure-native:containerregistry:Registry').inputs).toMatchObject({ adminUserEnabled: false, sku: { name: 'Basic' } });
    const dashboard = dashboardApp();
    expect(dashboard.inputs.siteConfig).toMatchObject({ acrUseManagedIdentityCreds: true, ftpsState: 'Disabled', minTlsVersion: '1.2' });
    expect(dashboard.inputs.siteConfig.linuxFxVersion).toMatch(/^DOCKER\|acreda.*\.azurecr\.io\/eda-dashboard@sha256:/);
    expect(dashboard.inputs.httpsOnly).toBe(true);
    for (const app of ofType('azure-native:web:WebApp')) {
      const text = JSON.stringify(settingsOf(app));
      expect(text).not.toMatch(/AccountKey=|SharedAccessKey|ClientSecret|AZURE_CLIENT_SECRET/);
    }
    // Images are pushed as the deployer: their Azure AD token exchanged for an ACR token.
    expect(exchanged).toEqual([[expect.stringMatching(/\.azurecr\.io$/), 'aad-access-token', expect.any(String)]]);
    for (const image of ofType('docker:index/image:Image')) {
      expect(image.inputs.registry.username).toBe('00000000-0000-0000-0000-000000000000');
      expect(image.inputs.registry.password).toBe('acr-refresh-token');
    }
    const push = ofType('azure-native:authorization:RoleAssignment').filter((r) => r.inputs.principalId === DEPLOYER);
    expect(push).toHaveLength(1);
    expect(push[0]!.inputs.roleDefinitionId).toMatch(/8311e382-0749-4cb8-b61a-304f252e45ec$/);
  });

  it('builds both images from apps/ and runs them by digest', () => {
    const images = ofType('docker:index/image:Image');
    expect(images.map((i) => i.inputs.build.dockerfile.replace(/^.*\/apps\//, 'apps/')).sort()).toEqual([
      'apps/dashboard/Dockerfile',
      'apps/worker/Dockerfile',
    ]);
    expect(settingsOf(functionApp()).WORKER_IMAGE).toMatch(/\.azurecr\.io\/eda-worker@sha256:[0-9a-f]{64}$/);
  });

  it('scopes the spawner’s custom role to the resource group and lets it manage only container groups', () => {
    const group = one('azure-native:resources:ResourceGroup');
    const groupId = `/subscriptions/${SUBSCRIPTION}/resourceGroups/${group.inputs.resourceGroupName}`;
    const role = one('azure-native:authorization:RoleDefinition');
    expect(role.inputs.scope).toBe(groupId);
    expect(role.inputs.assignableScopes).toEqual([groupId]);
    const actions = role.inputs.permissions.flatMap((p: { actions: string[] }) => p.actions) as string[];
    expect(actions.length).toBeGreaterThan(0);
    for (const action of actions) expect(action).toMatch(/^Microsoft\.ContainerInstance\/containerGroups\//);
    expect(role.inputs.permissions.flatMap((p: { dataActions?: string[] }) => p.dataActions ?? [])).toEqual([]);

    const spawnerIdentity = one('azure-native:managedidentity:UserAssignedIdentity', (r) => r.inputs.resourceName.startsWith('id-eda-spawner'));
    const assignment = one('azure-native:authorization:RoleAssignment', (r) => r.inputs.roleDefinitionId === role.state.id);
    expect(role.state.id).toMatch(new RegExp(`${role.inputs.roleDefinitionId}$`));
    expect(assignment.inputs.scope).toBe(groupId);
    expect(assignment.inputs.principalId).toBe(spawnerIdentity.state.principalId);
    // Attaching the pull identity to groups is allowed on that identity alone.
    const pullIdentity = one('azure-native:managedidentity:UserAssignedIdentity', (r) => r.inputs.resourceName.startsWith('id-eda-pull'));
    const operator = one('azure-native:authorization:RoleAssignment', (r) => /f1a07417-d97a-45cb-824c-7a7467783830$/.test(r.inputs.roleDefinitionId));
    expect(operator.inputs.scope).toMatch(new RegExp(`${pullIdentity.inputs.resourceName}$`));
    // The container groups pull with the pull identity, which has AcrPull on the registry.
    const registry = one('azure-native:containerregistry:Registry');
    const acrPull = ofType('azure-native:authorization:RoleAssignment').filter((r) => /7f951dda-4ed3-4680-a7ca-43fe172d538d$/.test(r.inputs.roleDefinitionId));
    expect(acrPull.map((r) => r.inputs.principalId)).toContain(pullIdentity.state.principalId);
    for (const grant of acrPull) expect(grant.inputs.scope).toMatch(new RegExp(`${registry.inputs.registryName}$`));
    expect(settingsOf(functionApp()).PULL_IDENTITY_ID).toMatch(new RegExp(`${pullIdentity.inputs.resourceName}$`));
  });

  it('runs the spawner on Flex Consumption with Node 22, its code package from apps/spawner, and identity connections', () => {
    expect(one('azure-native:web:AppServicePlan', (r) => r.inputs.sku.name === 'FC1').inputs.sku.tier).toBe('FlexConsumption');
    const app = functionApp();
    expect(app.inputs.functionAppConfig.runtime).toEqual({ name: 'node', version: '22' });
    expect(app.inputs.functionAppConfig.deployment.storage.authentication.type).toBe('UserAssignedIdentity');
    const settings = settingsOf(app);
    expect(settings).toMatchObject({
      ServiceBusConnection__credential: 'managedidentity',
      AzureWebJobsStorage__credential: 'managedidentity',
      QUEUE_NAME: 'work',
      MAX_CONCURRENT: '30',
      LOCATION: 'westeurope',
    });
    expect(settings.ServiceBusConnection__fullyQualifiedNamespace).toMatch(/^sb-eda-.*\.servicebus\.windows\.net$/);
    expect(settings.EDA_PACKAGE_SHA256).toMatch(/^[0-9a-f]{64}$/);
    expect(one('azure-native:storage:Blob').inputs.blobName).toBe('released-package.zip');
  });

  it('derives names that are valid for a 40-character stack name', () => {
    const name = (type: string, where?: (r: Recorded) => boolean) => one(type, where).state.name as string;
    expect(name('azure-native:storage:StorageAccount')).toMatch(/^[a-z0-9]{3,24}$/);
    expect(name('azure-native:containerregistry:Registry')).toMatch(/^[a-zA-Z0-9]{5,50}$/);
    expect(name('azure-native:servicebus:Namespace')).toMatch(/^[a-zA-Z][a-zA-Z0-9-]{4,48}[a-zA-Z0-9]$/);
    expect(name('azure-native:cosmosdb:DatabaseAccount')).toMatch(/^(?=.{3,44}$)[a-z0-9]+(-[a-z0-9]+)*$/);
    for (const app of ofType('azure-native:web:WebApp')) expect(app.state.name).toMatch(/^(?=.{2,60}$)[a-z0-9]+(-[a-z0-9]+)*$/);
    expect(name('azure-native:resources:ResourceGroup')).toMatch(/^[-\w.()]{1,90}$/);
    for (const identity of ofType('azure-native:managedidentity:UserAssignedIdentity')) {
      expect(identity.state.name).toMatch(/^[a-zA-Z0-9][a-zA-Z0-9_-]{2,127}$/);
    }
  });
});
