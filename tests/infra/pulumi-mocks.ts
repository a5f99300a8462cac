import * as pulumi from '@pulumi/pulumi';
import { createHash } from 'node:crypto';

export const SUBSCRIPTION = '11111111-2222-3333-4444-555555555555';
export const TENANT = '99999999-8888-7777-6666-555555555555';
export const DEPLOYER = 'dddddddd-0000-0000-0000-000000000001';
/** What Azure returns for a Cosmos DB for MongoDB account, with ssl=true among other parameters. */
export const COSMOS_CONNECTION =
  'mongodb://acct:KEY%3D%3D@acct.mongo.cosmos.azure.com:10255/?ssl=true&replicaSet=globaldb&retrywrites=false&maxIdleTimeMS=120000&appName=@acct@';
export const TOKEN = 'dashboard-token-for-the-mock-stack-0123456789';

export interface Recorded {
  type: string;
  name: string;
  inputs: Record<string, any>;
  state: Record<string, any>;
}

// The name each azure-native type takes from its inputs, as Azure would report it back.
const NAME_INPUT: Record<string, string> = {
  'azure-native:resources:ResourceGroup': 'resourceGroupName',
  'azure-native:servicebus:Namespace': 'namespaceName',
  'azure-native:servicebus:Queue': 'queueName',
  'azure-native:cosmosdb:DatabaseAccount': 'accountName',
  'azure-native:cosmosdb:MongoDBResourceMongoDBDatabase': 'databaseName',
  'azure-native:cosmosdb:MongoDBResourceMongoDBCollection': 'collectionName',
  'azure-native:containerregistry:Registry': 'registryName',
  'azure-native:storage:StorageAccount': 'accountName',
  'azure-native:storage:BlobContainer': 'containerName',
  'azure-native:storage:Blob': 'blobName',
  'azure-native:managedidentity:UserAssignedIdentity': 'resourceName',
  'azure-native:web:WebApp': 'name',
  'azure-native:web:AppServicePlan': 'name',
  'azure-native:authorization:RoleDefinition': 'roleDefinitionId',
};

// How the mock monitor hands over secret inputs: { [SECRET_SIG]: SECRET_VALUE, value }.
const SECRET_SIG = '4dabf18193072939515e22adb298388d';

/** Inputs as the program gave them, with Pulumi's secret wrappers taken off. */
function unwrapSecrets(value: unknown): any {
  if (Array.isArray(value)) return value.map(unwrapSecrets);
  if (value === null || typeof value !== 'object') return value;
  const object = value as Record<string, unknown>;
  if (SECRET_SIG in object) return unwrapSecrets(object.value);
  return Object.fromEntries(Object.entries(object).map(([k, v]) => [k, unwrapSecrets(v)]));
}

function guid(seed: string): string {
  const h = createHash('sha256').update(seed).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/** Records every resource; answers the invokes the program uses; any other invoke throws. */
export async function installMocks(project: string, stack: string, config: Record<string, string>, secretKeys: string[]): Promise<Recorded[]> {
  const recorded: Recorded[] = [];
  pulumi.runtime.setAllConfig(config, secretKeys);
  await pulumi.runtime.setMocks(
    {
      newResource(args) {
        const name = args.inputs[NAME_INPUT[args.type] ?? ''] ?? args.name;
        const id = args.type.startsWith('azure-native:')
          ? `/subscriptions/${SUBSCRIPTION}/resourceGroups/rg/providers/${args.type.split(':')[1]}/${name}`
          : `${args.name}-id`;
        const computed: Record<string, unknown> = { name };
        if (args.type === 'azure-native:resources:ResourceGroup') computed.id = `/subscriptions/${SUBSCRIPTION}/resourceGroups/${name}`;
        if (args.type === 'azure-native:containerregistry:Registry') computed.loginServer = `${name}.azurecr.io`;
        if (args.type === 'azure-native:managedidentity:UserAssignedIdentity') {
          computed.clientId = guid(`client/${name}`);
          computed.principalId = guid(`principal/${name}`);
        }
        if (args.type === 'azure-native:web:WebApp') computed.defaultHostName = `${name}.azurewebsites.net`;
        if (args.type === 'azure-native:storage:StorageAccount') computed.primaryEndpoints = { blob: `https://${name}.blob.core.windows.net/` };
        if (args.type === 'docker:index/image:Image') computed.repoDigest = `${args.inputs.imageName.split(':')[0]}@sha256:${'ab'.repeat(32)}`;
        const state = { ...args.inputs, ...computed };
        const resourceId = (computed.id as string) ?? id;
        recorded.push({ type: args.type, name: args.name, inputs: unwrapSecrets(args.inputs), state: { ...unwrapSecrets(state), id: resourceId } });
        return { id: resourceId, state };
      },
      call(args) {
        switch (args.token) {
          case 'azure-native:authorization:getClientConfig':
            return { subscriptionId: SUBSCRIPTION, tenantId: TENANT, objectId: DEPLOYER, clientId: 'deployer-client' };
          case 'azure-native:authorization:getClientToken':
            return { token: 'aad-access-token' };
          case 'azure-native:cosmosdb:listDatabaseAccountConnectionStrings':
            return {
              connectionStrings: [
                { connectionString: COSMOS_CONNECTION, description: 'Primary MongoDB Connection String', keyKind: 'Primary', type: 'MongoDB' },
              ],
            };
          default:
            throw new Error(`unmocked invoke ${args.token}`);
        }
      },
    },
    project,
    stack,
    false,
  );
  return recorded;
}

export function valueOf<T>(output: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) => output.apply(resolve));
}

export async function isSecret(output: pulumi.Output<unknown>): Promise<boolean> {
  return (output as unknown as { isSecret: Promise<boolean> }).isSecret;
}
