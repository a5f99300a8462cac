import * as pulumi from '@pulumi/pulumi';
import { createHash, randomBytes } from 'node:crypto';
import type { AcrTokenExchange } from '../../components/acr-token.js';
import type { AzureStack } from '../../stacks/azure/azure-stack.js';

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
  urn: string;
  inputs: Record<string, any>;
  /** The inputs with every secret replaced by SECRET_MASK: what Pulumi would keep in plain text. */
  plainInputs: Record<string, any>;
  state: Record<string, any>;
  /** The URNs it waits for: its dependsOn and every resource whose outputs are among its inputs. */
  dependencies: string[];
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

export const SECRET_MASK = '[secret]';

/** Inputs as the program gave them, with Pulumi's secret wrappers taken off (or each secret masked). */
function unwrapSecrets(value: unknown, mask = false): any {
  if (Array.isArray(value)) return value.map((item) => unwrapSecrets(item, mask));
  if (value === null || typeof value !== 'object') return value;
  const object = value as Record<string, unknown>;
  if (SECRET_SIG in object) return mask ? SECRET_MASK : unwrapSecrets(object.value);
  return Object.fromEntries(Object.entries(object).map(([k, v]) => [k, unwrapSecrets(v, mask)]));
}

/**
 * What the engine keeps of each RandomBytes between `pulumi up`s: a resource whose inputs did not
 * change is not replaced, so its outputs are the ones in the state; changed inputs make new bytes
 * (https://www.pulumi.com/registry/packages/random/: "resources generate a new value only when
 * their inputs or keepers change"). Kept for the whole test process, as a stack's state is.
 */
export const randomState = new Map<string, { inputs: string; hex: string }>();

function randomBytesState(name: string, inputs: Record<string, any>): { hex: string; base64: string } {
  const key = JSON.stringify(unwrapSecrets(inputs));
  let kept = randomState.get(name);
  if (!kept || kept.inputs !== key) {
    kept = { inputs: key, hex: randomBytes(Number(inputs.length)).toString('hex') };
    randomState.set(name, kept);
  }
  return { hex: kept.hex, base64: Buffer.from(kept.hex, 'hex').toString('base64') };
}

function guid(seed: string): string {
  const h = createHash('sha256').update(seed).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

export interface MockTarget {
  project: string;
  stack: string;
  organization?: string;
  config: Record<string, string>;
  secretKeys: string[];
  /** Run as `pulumi preview` does (pulumi.runtime.isDryRun() is true). */
  preview?: boolean;
}

type RegisterRequest = { getType(): string; getName(): string; getParent(): string; getDependenciesList(): string[] };
type MockMonitorLike = {
  newUrn(parent: string, type: string, name: string): string;
  registerResource(req: RegisterRequest, callback: (...args: unknown[]) => void): Promise<void>;
};

/**
 * Records every resource with its dependencies; answers the invokes the program uses; any
 * other invoke throws. The mocks API gives newResource no dependencies, so the monitor's
 * registerResource is wrapped to read them from the request the SDK sends.
 */
export async function installMocks({ project, stack, organization = 'organization', config, secretKeys, preview = false }: MockTarget): Promise<Recorded[]> {
  const recorded: Recorded[] = [];
  // Filled by the wrapped registerResource just before it calls newResource for the same resource.
  const registering = new Map<string, { urn: string; dependencies: string[] }>();
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
        if (args.type === 'random:index/randomBytes:RandomBytes') Object.assign(computed, randomBytesState(args.name, args.inputs));
        if (args.type === 'docker:index/image:Image') computed.repoDigest = `${args.inputs.imageName.split(':')[0]}@sha256:${'ab'.repeat(32)}`;
        const state = { ...args.inputs, ...computed };
        const resourceId = (computed.id as string) ?? id;
        const { urn, dependencies } = registering.get(`${args.type}::${args.name}`) ?? { urn: '', dependencies: [] };
        recorded.push({
          type: args.type,
          name: args.name,
          urn,
          inputs: unwrapSecrets(args.inputs),
          plainInputs: unwrapSecrets(args.inputs, true),
          state: { ...unwrapSecrets(state), id: resourceId },
          dependencies,
        });
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
    preview,
    organization,
  );
  const monitor = pulumi.runtime.getMonitor() as unknown as MockMonitorLike;
  const register = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req, callback) => {
    registering.set(`${req.getType()}::${req.getName()}`, {
      urn: monitor.newUrn(req.getParent(), req.getType(), req.getName()),
      dependencies: req.getDependenciesList(),
    });
    return register(req, callback);
  };
  return recorded;
}

/**
 * The Azure stack under mocks, as `pulumi up` would declare it with this config: the mocks
 * first, then the program (a static import before them yields undefined outputs, no error).
 * Resolves once every resource is registered.
 */
export async function mockedAzureStack(
  target: Omit<MockTarget, 'project'> & { exchangeAcrToken?: AcrTokenExchange },
): Promise<{ resources: Recorded[]; stack: AzureStack }> {
  const { exchangeAcrToken = async () => 'acr-refresh-token', ...mocks } = target;
  const resources = await installMocks({ project: 'event-driven-aci', ...mocks });
  const { azureStack } = await import('../../stacks/azure/azure-stack.js');
  const { readAzureStackConfig } = await import('../../stacks/azure/config.js');
  const stack = azureStack(readAzureStackConfig(), { exchangeAcrToken });
  await registrationsSettled();
  return { resources, stack };
}

/**
 * Resolves when every resource registration the program started has finished, the way Pulumi
 * waits before it exits (runtime.waitForRPCs, which the typings keep internal).
 */
export async function registrationsSettled(): Promise<void> {
  const waitForRPCs = (pulumi.runtime as unknown as { waitForRPCs?: () => Promise<void> }).waitForRPCs;
  if (!waitForRPCs) throw new Error('@pulumi/pulumi no longer has runtime.waitForRPCs: find another way to wait for registrations');
  await waitForRPCs();
}

/** Every URN `urn` waits for, directly or through others. */
export function transitiveDependencies(resources: Recorded[], urn: string): Set<string> {
  const byUrn = new Map(resources.map((r) => [r.urn, r]));
  const seen = new Set<string>();
  const visit = (u: string) => {
    for (const dependency of byUrn.get(u)?.dependencies ?? []) {
      if (seen.has(dependency)) continue;
      seen.add(dependency);
      visit(dependency);
    }
  };
  visit(urn);
  return seen;
}

/** A Web App's or Function App's app settings, as a name → value map. */
export function appSettingsOf(app: Recorded): Record<string, string> {
  return Object.fromEntries((app.inputs.siteConfig.appSettings as { name: string; value: string }[]).map((s) => [s.name, s.value]));
}

/** An ARM deployment's parameter values, as a name → value map. */
export function deploymentParametersOf(deployment: Recorded): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(deployment.inputs.properties.parameters as Record<string, { value: unknown }>).map(([k, v]) => [k, v.value]),
  );
}

export function valueOf<T>(output: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) => output.apply(resolve));
}

export async function isSecret(output: pulumi.Output<unknown>): Promise<boolean> {
  return (output as unknown as { isSecret: Promise<boolean> }).isSecret;
}
