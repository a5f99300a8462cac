import { createRequire } from 'node:module';
import { beforeAll, describe, expect, it } from 'vitest';
import { JOB_STORE_INDEXES } from '../../apps/core/store-schema/indexes.js';
import { BUILT_IN_ROLES } from '../../components/role-definitions.js';
import type { AzureStack } from '../../stacks/azure/azure-stack.js';
import { stackNames } from '../../stacks/azure/naming.js';
import { STACK_RESOURCE_PROVIDERS } from '../../stacks/azure/resource-providers.js';
import {
  appSettingsOf,
  COSMOS_CONNECTION,
  deploymentParametersOf,
  DEPLOYER,
  isSecret,
  mockedAzureStack,
  SUBSCRIPTION,
  TOKEN,
  transitiveDependencies,
  valueOf,
  type Recorded,
} from './pulumi-mocks.js';
import { cosmosWireVersion } from '../fakes/mongo-wire/cosmos-hello.js';

const require = createRequire(import.meta.url);
// The driver's accepted range, from the installed package itself.
const { MIN_SUPPORTED_WIRE_VERSION, MAX_SUPPORTED_WIRE_VERSION } = require('mongodb/lib/cmap/wire_protocol/constants.js') as {
  MIN_SUPPORTED_WIRE_VERSION: number;
  MAX_SUPPORTED_WIRE_VERSION: number;
};

// A 40-character stack name: every derived resource name must stay valid.
const STACK = 'dev-alexandra-with-a-long-stack-name-40c';
const ORGANIZATION = 'team-blue';
const REGISTRATION_TYPE = 'pulumi-nodejs:dynamic/event-driven-aci:ResourceProviderRegistration';

describe('the Azure stack, with Pulumi mocks', () => {
  let resources: Recorded[];
  let stack: AzureStack;
  const exchanged: string[][] = [];

  beforeAll(async () => {
    expect(STACK).toHaveLength(40);
    ({ resources, stack } = await mockedAzureStack({
      stack: STACK,
      organization: ORGANIZATION,
      config: { 'azure-native:location': 'westeurope', 'event-driven-aci:dashboardToken': TOKEN, 'event-driven-aci:maxConcurrent': '30' },
      secretKeys: ['event-driven-aci:dashboardToken'],
      exchangeAcrToken: async (server, token, tenant) => {
        exchanged.push([server, token, tenant]);
        return 'acr-refresh-token';
      },
    }));
  }, 60_000);

  const ofType = (type: string) => resources.filter((r) => r.type === type);
  const one = (type: string, where: (r: Recorded) => boolean = () => true) => {
    const found = ofType(type).filter(where);
    expect(found, type).toHaveLength(1);
    return found[0]!;
  };
  const settingsOf = appSettingsOf;
  const functionApp = () => one('azure-native:web:WebApp', (r) => r.inputs.kind === 'functionapp,linux');
  const dashboardApp = () => one('azure-native:web:WebApp', (r) => r.inputs.kind === 'app,linux,container');
  const identity = (role: 'pull' | 'spawner' | 'dashboard') =>
    one('azure-native:managedidentity:UserAssignedIdentity', (r) => r.inputs.resourceName.startsWith(`id-eda-${role}`));
  const grantsOf = (roleId: string) =>
    ofType('azure-native:authorization:RoleAssignment').filter((r) => (r.inputs.roleDefinitionId as string).endsWith(`/${roleId}`));

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
    for (const resource of resources) expect(resource.urn, resource.name).not.toBe('');
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
    // Idempotency keys are unique by _id alone: the collection is created empty with no other index.
    const keys = one('azure-native:cosmosdb:MongoDBResourceMongoDBCollection', (r) => r.inputs.collectionName === 'idempotency');
    expect(keys.inputs.resource.indexes).toEqual([{ key: { keys: ['_id'] } }]);
    expect(one('azure-native:cosmosdb:MongoDBResourceMongoDBDatabase').inputs.databaseName).toBe('event-driven-aci');
  });

  it('asks Cosmos for a server version whose wire version the mongodb driver accepts', () => {
    const serverVersion = one('azure-native:cosmosdb:DatabaseAccount').inputs.apiProperties.serverVersion as string;
    expect(serverVersion).toBe('6.0');
    // Both numbers, read where they live: what Cosmos reports for that version, and the range
    // the installed driver accepts (it refuses any server outside it at connect).
    const wire = cosmosWireVersion(serverVersion);
    expect(wire).toBeGreaterThanOrEqual(MIN_SUPPORTED_WIRE_VERSION);
    expect(wire).toBeLessThanOrEqual(MAX_SUPPORTED_WIRE_VERSION);
    expect(cosmosWireVersion('4.2')).toBeLessThan(MIN_SUPPORTED_WIRE_VERSION);
  });

  it('creates every index the store relies on with its collection, so no app ever creates one', () => {
    const indexesOf = (name: string) =>
      one('azure-native:cosmosdb:MongoDBResourceMongoDBCollection', (r) => r.inputs.collectionName === name).inputs.resource.indexes;
    expect(indexesOf('jobs')).toEqual([
      { key: { keys: ['_id'] } },
      { key: { keys: ['containerName'] }, options: { unique: true } },
      { key: { keys: ['state', '_id'] } },
      { key: { keys: ['kind', '_id'] } },
      { key: { keys: ['state', 'kind', '_id'] } },
      { key: { keys: ['rev'] } },
    ]);
    expect(indexesOf('artifacts')).toEqual([{ key: { keys: ['_id'] } }]);
    // No counters collection: the revision counter is a document in jobs, written in the same
    // transaction as the job (a Cosmos transaction covers one collection).
    expect(ofType('azure-native:cosmosdb:MongoDBResourceMongoDBCollection').map((r) => r.inputs.collectionName).sort()).toEqual(['artifacts', 'idempotency', 'jobs', 'quota']);
    // The list the store checks at run time is the same list.
    for (const index of JOB_STORE_INDEXES) {
      expect(indexesOf(index.collection)).toContainEqual(index.unique ? { key: { keys: index.keys }, options: { unique: true } } : { key: { keys: index.keys } });
    }
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

  it('gives the spawner a role of its own at subscription scope that only reads ACI’s usage', () => {
    const subscriptionScope = `/subscriptions/${SUBSCRIPTION}`;
    const role = one('azure-native:authorization:RoleDefinition', (r) => r.inputs.scope === subscriptionScope);
    expect(role.inputs.assignableScopes).toEqual([subscriptionScope]);
    expect(role.inputs.permissions).toEqual([{ actions: ['Microsoft.ContainerInstance/locations/usages/read'], notActions: [] }]);
    expect(role.inputs.roleDefinitionId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const spawnerRole = one('azure-native:authorization:RoleDefinition', (r) => r.inputs.scope !== subscriptionScope);
    expect(role.inputs.roleDefinitionId).not.toBe(spawnerRole.inputs.roleDefinitionId);
    expect(role.inputs.roleName).not.toBe(spawnerRole.inputs.roleName);
    const assignment = one(
      'azure-native:authorization:RoleAssignment',
      (r) => r.inputs.roleDefinitionId === `${subscriptionScope}/providers/Microsoft.Authorization/roleDefinitions/${role.inputs.roleDefinitionId}`,
    );
    expect(assignment.inputs.scope).toBe(subscriptionScope);
    expect(assignment.inputs.principalId).toBe(identity('spawner').state.principalId);
    expect(assignment.inputs.principalType).toBe('ServicePrincipal');
    expect(transitiveDependencies(resources, assignment.urn)).toContain(role.urn);
    // Nothing else is granted at subscription scope.
    expect(ofType('azure-native:authorization:RoleAssignment').filter((r) => r.inputs.scope === subscriptionScope)).toEqual([assignment]);
    // And the spawner reads its quota settings from the stack's config.
    expect(settingsOf(functionApp())).toMatchObject({ CONTAINER_GROUP_QUOTA: '100', CORE_QUOTA: '10' });
  });

  it('scopes the spawner’s custom role to the resource group and lets it manage only container groups', () => {
    const group = one('azure-native:resources:ResourceGroup');
    const groupId = `/subscriptions/${SUBSCRIPTION}/resourceGroups/${group.inputs.resourceGroupName}`;
    const role = one('azure-native:authorization:RoleDefinition', (r) => r.inputs.scope !== `/subscriptions/${SUBSCRIPTION}`);
    expect(role.inputs.scope).toBe(groupId);
    expect(role.inputs.assignableScopes).toEqual([groupId]);
    const actions = role.inputs.permissions.flatMap((p: { actions: string[] }) => p.actions) as string[];
    expect(actions.length).toBeGreaterThan(0);
    for (const action of actions) expect(action).toMatch(/^Microsoft\.ContainerInstance\/containerGroups\//);
    expect(role.inputs.permissions.flatMap((p: { dataActions?: string[] }) => p.dataActions ?? [])).toEqual([]);

    const spawnerIdentity = identity('spawner');
    // By the id built from the role's GUID, never by the group-scoped id ARM returns for the definition.
    const subscriptionLevelId = `/subscriptions/${SUBSCRIPTION}/providers/Microsoft.Authorization/roleDefinitions/${role.inputs.roleDefinitionId}`;
    expect(role.inputs.roleDefinitionId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const assignment = one('azure-native:authorization:RoleAssignment', (r) => r.inputs.roleDefinitionId === subscriptionLevelId);
    expect(ofType('azure-native:authorization:RoleAssignment').filter((r) => r.inputs.roleDefinitionId === role.state.id)).toEqual([]);
    expect(assignment.inputs.scope).toBe(groupId);
    expect(assignment.inputs.principalId).toBe(spawnerIdentity.state.principalId);
    // ... and it still waits for the definition.
    expect(transitiveDependencies(resources, assignment.urn)).toContain(role.urn);
    // Attaching the pull identity to groups is allowed on that identity alone.
    const pullIdentity = identity('pull');
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
    expect(one('azure-native:storage:Blob').inputs.blobName).toMatch(/^[0-9a-f]{64}\/released-package\.zip$/);
  });

  it('deploys the package with OneDeploy, after the app and its access to the deployment storage exist', () => {
    const deployment = one('azure-native:resources:Deployment');
    expect(deployment.inputs.properties.mode).toBe('Incremental');
    const [extension, ...others] = deployment.inputs.properties.template.resources;
    expect(others).toEqual([]);
    // The body Microsoft Learn's Flex Consumption example shows: packageUri, and no remote build.
    expect(extension).toEqual({
      type: 'Microsoft.Web/sites/extensions',
      apiVersion: '2022-09-01',
      name: "[format('{0}/onedeploy', parameters('appName'))]",
      location: "[parameters('location')]",
      properties: { packageUri: expect.stringContaining('listServiceSas('), remoteBuild: false },
    });
    const blob = one('azure-native:storage:Blob');
    const account = one('azure-native:storage:StorageAccount');
    const app = functionApp();
    expect(deploymentParametersOf(deployment)).toEqual({
      appName: app.state.name,
      location: 'westeurope',
      storageAccountId: account.state.id,
      packageUrl: `https://${account.state.name}.blob.core.windows.net/packages/${blob.inputs.blobName}`,
      packageCanonicalPath: `/blob/${account.state.name}/packages/${blob.inputs.blobName}`,
    });
    // Private blob, no key in any input: the SAS is made inside ARM when the deployment runs.
    expect(blob.inputs.containerName).toBe('packages');
    expect(JSON.stringify(deployment.inputs)).not.toMatch(/sig=|AccountKey/);
    const storageOwner = grantsOf(BUILT_IN_ROLES.storageBlobDataOwner);
    expect(storageOwner).toHaveLength(1);
    const waitsFor = transitiveDependencies(resources, deployment.urn);
    for (const before of [app, blob, storageOwner[0]!]) expect(waitsFor, before.name).toContain(before.urn);
  });

  it('grants the spawner Azure Service Bus Data Owner on the queue, so Flex scales on queue depth; the dashboard keeps send and peek', () => {
    const queue = one('azure-native:servicebus:Queue');
    const roles = (principalId: string) =>
      ofType('azure-native:authorization:RoleAssignment')
        .filter((r) => r.inputs.principalId === principalId && r.inputs.scope === queue.state.id)
        .map((r) => (r.inputs.roleDefinitionId as string).split('/').pop())
        .sort();
    expect(roles(identity('spawner').state.principalId)).toEqual([BUILT_IN_ROLES.serviceBusDataOwner]);
    expect(roles(identity('dashboard').state.principalId)).toEqual(
      [BUILT_IN_ROLES.serviceBusDataSender, BUILT_IN_ROLES.serviceBusDataReceiver].sort(),
    );
    expect(grantsOf(BUILT_IN_ROLES.serviceBusDataOwner)).toHaveLength(1);
  });

  it('creates the dashboard after its AcrPull grant, so its first image pull is authorized', () => {
    const registry = one('azure-native:containerregistry:Registry');
    const dashboardPull = one(
      'azure-native:authorization:RoleAssignment',
      (r) => r.inputs.principalId === identity('dashboard').state.principalId && (r.inputs.roleDefinitionId as string).endsWith(BUILT_IN_ROLES.acrPull),
    );
    expect(dashboardPull.inputs.scope).toBe(registry.state.id);
    // After the grant's propagation wait, which follows the grant (grant-propagation.test.ts checks every grant).
    expect(transitiveDependencies(resources, dashboardApp().urn)).toContain(dashboardPull.urn);
  });

  it('registers every resource provider the stack uses before it creates anything', () => {
    const registration = one(REGISTRATION_TYPE);
    expect(registration.inputs).toMatchObject({ subscriptionId: SUBSCRIPTION, accessToken: 'aad-access-token', armEndpoint: 'https://management.azure.com' });
    const namespaces = registration.inputs.namespaces as string[];
    expect(namespaces.sort()).toEqual(Object.keys(STACK_RESOURCE_PROVIDERS).sort());

    // Every namespace of every Azure resource the program declares, and of the one-deploy template's resources.
    const NAMESPACE_OF_MODULE: Record<string, string> = {
      resources: 'Microsoft.Resources',
      authorization: 'Microsoft.Authorization',
      managedidentity: 'Microsoft.ManagedIdentity',
      servicebus: 'Microsoft.ServiceBus',
      cosmosdb: 'Microsoft.DocumentDB',
      containerregistry: 'Microsoft.ContainerRegistry',
      storage: 'Microsoft.Storage',
      web: 'Microsoft.Web',
    };
    const declared = new Set<string>();
    for (const resource of resources.filter((r) => r.type.startsWith('azure-native:'))) {
      const module = resource.type.split(':')[1]!;
      expect(NAMESPACE_OF_MODULE, `add the ARM namespace of azure-native module "${module}"`).toHaveProperty(module);
      declared.add(NAMESPACE_OF_MODULE[module]!);
    }
    for (const templated of one('azure-native:resources:Deployment').inputs.properties.template.resources) declared.add(templated.type.split('/')[0]);
    for (const namespace of declared) expect(namespaces).toContain(namespace);
    // The rest are used at run time, by the apps: container groups, their metrics, the Flex host.
    expect(namespaces.filter((n) => !declared.has(n)).sort()).toEqual(['Microsoft.App', 'Microsoft.ContainerInstance', 'Microsoft.Insights']);

    // Nothing is created before the registrations: every resource but the registration waits for it.
    for (const resource of resources.filter((r) => r.urn !== registration.urn && !r.type.startsWith('event-driven-aci:'))) {
      expect(transitiveDependencies(resources, resource.urn), `${resource.type} ${resource.name}`).toContain(registration.urn);
    }
  });

  it('derives names from the subscription, the organization, the project and the stack', () => {
    const expected = stackNames({ subscriptionId: SUBSCRIPTION, organization: ORGANIZATION, project: 'event-driven-aci', stack: STACK });
    expect(one('azure-native:resources:ResourceGroup').state.name).toBe(expected.resourceGroup);
    expect(one('azure-native:containerregistry:Registry').state.name).toBe(expected.registry);
    const definition = (scope: 'group' | 'subscription') =>
      one('azure-native:authorization:RoleDefinition', (r) => (r.inputs.scope === `/subscriptions/${SUBSCRIPTION}`) === (scope === 'subscription'));
    expect(definition('group').inputs.roleDefinitionId).toBe(expected.spawnerRoleId);
    expect(definition('subscription').inputs.roleDefinitionId).toBe(expected.usageRoleId);
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
