import * as pulumi from '@pulumi/pulumi';

// Providers - Get and Providers - Register, Microsoft.Resources 2021-04-01
// (azure-rest-api-specs: specification/resources/resource-manager/Microsoft.Resources/stable/2021-04-01/resources.json):
//   GET  /subscriptions/{id}/providers/{namespace}           -> { namespace, registrationState }
//   POST /subscriptions/{id}/providers/{namespace}/register
// Registering needs `/register/action` on the subscription, which Contributor and Owner have:
// https://learn.microsoft.com/azure/azure-resource-manager/management/resource-providers-and-types
const API_VERSION = '2021-04-01';
const REGISTRATION_TIMEOUT_MS = 15 * 60_000;

export interface ResourceProviderRegistrationInputs {
  subscriptionId: string;
  namespaces: string[];
  /** The deployer's ARM token (authorization.getClientToken): registration runs as whoever runs `pulumi up`. */
  accessToken: string;
  armEndpoint: string;
  pollIntervalMs: number;
}

export interface ResourceProviderRegistrationOutputs {
  subscriptionId: string;
  namespaces: string[];
  /** The namespaces this resource registered (the others already were). */
  registered: string[];
}

interface ArmAnswer {
  status: number;
  body: { registrationState?: string; error?: { code?: string; message?: string } };
}

// Everything the provider calls lives in this file and uses only globals (fetch, setTimeout):
// Pulumi serializes the provider's closure into the state, and from an ES module it can only
// capture plain functions and values (pulumi/pulumi#18977).
async function arm(inputs: ResourceProviderRegistrationInputs, method: 'GET' | 'POST', path: string): Promise<ArmAnswer> {
  const url = `${inputs.armEndpoint}/subscriptions/${inputs.subscriptionId}/providers/${path}?api-version=${API_VERSION}`;
  const response = await fetch(url, { method, headers: { authorization: `Bearer ${inputs.accessToken}` } });
  const text = await response.text();
  let body: ArmAnswer['body'] = {};
  try {
    body = text ? (JSON.parse(text) as ArmAnswer['body']) : {};
  } catch {
    body = { error: { message: text.slice(0, 300) } };
  }
  return { status: response.status, body };
}

function explain(answer: ArmAnswer): string {
  return `HTTP ${answer.status}${answer.body.error?.code ? ` ${answer.body.error.code}` : ''}${answer.body.error?.message ? `: ${answer.body.error.message}` : ''}`;
}

/** The exact commands someone allowed to register would run, one per namespace. */
function registerCommands(subscriptionId: string, namespaces: string[]): string {
  return namespaces.map((namespace) => `  az provider register --subscription ${subscriptionId} --namespace ${namespace} --wait`).join('\n');
}

function refusal(subscriptionId: string, namespaces: string[], why: string): Error {
  return new Error(
    `the subscription ${subscriptionId} has not registered ${namespaces.join(', ')}, and the account running pulumi up ` +
      `may not register them (${why}). Someone with Contributor or Owner on the subscription can run:\n` +
      `${registerCommands(subscriptionId, namespaces)}\nthen run pulumi up again.`,
  );
}

async function registrationState(inputs: ResourceProviderRegistrationInputs, namespace: string): Promise<string> {
  const answer = await arm(inputs, 'GET', namespace);
  if (answer.status !== 200) {
    if (answer.status === 401 || answer.status === 403) throw refusal(inputs.subscriptionId, [namespace], `reading its state: ${explain(answer)}`);
    throw new Error(`reading resource provider ${namespace} failed: ${explain(answer)}`);
  }
  return answer.body.registrationState ?? 'Unknown';
}

/**
 * Registers every namespace that is not registered yet and waits until each is, or stops with
 * the `az provider register` commands when the deployer may not register them.
 */
export async function ensureRegistered(inputs: ResourceProviderRegistrationInputs): Promise<ResourceProviderRegistrationOutputs> {
  const states = await Promise.all(inputs.namespaces.map(async (namespace) => [namespace, await registrationState(inputs, namespace)] as const));
  const missing = states.filter(([, state]) => state !== 'Registered').map(([namespace]) => namespace);

  const refused: string[] = [];
  const reasons: string[] = [];
  for (const [namespace, state] of states) {
    if (state === 'Registered' || state === 'Registering') continue;
    const answer = await arm(inputs, 'POST', `${namespace}/register`);
    if (answer.status === 401 || answer.status === 403) {
      refused.push(namespace);
      reasons.push(explain(answer));
    } else if (answer.status < 200 || answer.status >= 300) {
      throw new Error(`registering resource provider ${namespace} failed: ${explain(answer)}`);
    }
  }
  if (refused.length > 0) throw refusal(inputs.subscriptionId, refused, [...new Set(reasons)].join('; '));

  const deadline = Date.now() + REGISTRATION_TIMEOUT_MS;
  let waiting = missing;
  while (waiting.length > 0) {
    const still: string[] = [];
    for (const namespace of waiting) if ((await registrationState(inputs, namespace)) !== 'Registered') still.push(namespace);
    waiting = still;
    if (waiting.length === 0) break;
    if (Date.now() > deadline) {
      throw new Error(
        `resource providers ${waiting.join(', ')} were still registering after ${REGISTRATION_TIMEOUT_MS / 60_000} minutes; ` +
          `check them with az provider show --namespace <namespace>, or run:\n${registerCommands(inputs.subscriptionId, waiting)}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, inputs.pollIntervalMs));
  }
  return { subscriptionId: inputs.subscriptionId, namespaces: inputs.namespaces, registered: missing };
}

function sameNamespaces(a: string[], b: string[]): boolean {
  const key = (list: string[]) => JSON.stringify([...list].sort());
  return key(a) === key(b);
}

/**
 * The dynamic provider: registration happens in create (and in update, when the list changes),
 * which `pulumi up` runs and preview never does. The token changes every run and is not a
 * change: only the subscription and the namespaces are compared, so an unchanged list does
 * nothing at all. Delete leaves the registrations: they belong to the subscription.
 */
export const resourceProviderRegistrationProvider: pulumi.dynamic.ResourceProvider = {
  async create(inputs: ResourceProviderRegistrationInputs) {
    const outs = await ensureRegistered(inputs);
    return { id: `/subscriptions/${inputs.subscriptionId}/providers`, outs };
  },
  async diff(_id: string, olds: ResourceProviderRegistrationOutputs, news: ResourceProviderRegistrationInputs) {
    const replaces = olds.subscriptionId === news.subscriptionId ? [] : ['subscriptionId'];
    const changes = replaces.length > 0 || !sameNamespaces(olds.namespaces, news.namespaces);
    return { changes, replaces, deleteBeforeReplace: false };
  },
  async update(_id: string, _olds: ResourceProviderRegistrationOutputs, news: ResourceProviderRegistrationInputs) {
    return { outs: await ensureRegistered(news) };
  },
};

export interface ResourceProviderRegistrationArgs {
  subscriptionId: pulumi.Input<string>;
  namespaces: pulumi.Input<string[]>;
  accessToken: pulumi.Input<string>;
  /** ARM's endpoint (tests point it at a fake). */
  armEndpoint?: pulumi.Input<string>;
  pollIntervalMs?: pulumi.Input<number>;
}

/**
 * Makes sure the subscription has registered every resource provider the stack uses: in a
 * fresh subscription some are not, and the first create of that type fails with
 * MissingSubscriptionRegistration (the spawner's container groups too, and its role in the
 * resource group cannot register anything). azure-native has no resource for this; this is a
 * dynamic resource over the ARM operations above.
 */
export class ResourceProviderRegistration extends pulumi.dynamic.Resource {
  declare readonly namespaces: pulumi.Output<string[]>;
  declare readonly registered: pulumi.Output<string[]>;

  constructor(name: string, args: ResourceProviderRegistrationArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      resourceProviderRegistrationProvider,
      name,
      {
        subscriptionId: args.subscriptionId,
        namespaces: args.namespaces,
        accessToken: pulumi.secret(args.accessToken),
        armEndpoint: args.armEndpoint ?? 'https://management.azure.com',
        pollIntervalMs: args.pollIntervalMs ?? 5_000,
        registered: undefined,
      },
      opts,
      'event-driven-aci',
      'ResourceProviderRegistration',
    );
  }
}
