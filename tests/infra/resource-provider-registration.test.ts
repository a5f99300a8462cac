import { execFileSync } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type * as pulumi from '@pulumi/pulumi';
import { afterEach, describe, expect, it } from 'vitest';
import {
  ensureRegistered,
  resourceProviderRegistrationProvider,
  type ResourceProviderRegistrationInputs,
} from '../../components/resource-provider-registration.js';
import { ROOT } from '../helpers.js';

const SUBSCRIPTION = '11111111-2222-3333-4444-555555555555';

interface FakeProvider {
  state: string;
  /** GETs still answered 'Registering' after a register call. */
  registeringFor?: number;
  /** Answer register with 403 AuthorizationFailed, as ARM does without /register/action. */
  refuse?: boolean;
}

/** A local fake of ARM's Providers - Get and Providers - Register (Microsoft.Resources 2021-04-01). */
class FakeProviders {
  readonly requests: { method: string; path: string; authorization: string | undefined }[] = [];
  private server!: Server;
  endpoint = '';

  constructor(private readonly providers: Record<string, FakeProvider>) {}

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://fake');
      this.requests.push({ method: req.method ?? '', path: url.pathname, authorization: req.headers.authorization });
      const match = /^\/subscriptions\/([^/]+)\/providers\/([^/]+)(\/register)?$/.exec(url.pathname);
      const answer = (status: number, body: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      if (url.searchParams.get('api-version') !== '2021-04-01') return answer(400, { error: { code: 'InvalidApiVersionParameter' } });
      if (!match || match[1] !== SUBSCRIPTION) return answer(404, { error: { code: 'NotFound' } });
      const namespace = match[2]!;
      const provider = this.providers[namespace];
      if (!provider) return answer(404, { error: { code: 'InvalidResourceNamespace', message: `${namespace} is not a namespace` } });
      if (req.method === 'GET' && !match[3]) {
        if (provider.state === 'Registering' && provider.registeringFor !== undefined && provider.registeringFor-- <= 0) provider.state = 'Registered';
        return answer(200, { id: `/subscriptions/${SUBSCRIPTION}/providers/${namespace}`, namespace, registrationState: provider.state });
      }
      if (req.method === 'POST' && match[3]) {
        if (provider.refuse) {
          return answer(403, {
            error: {
              code: 'AuthorizationFailed',
              message: `The client does not have authorization to perform action '${namespace}/register/action' over scope '/subscriptions/${SUBSCRIPTION}'`,
            },
          });
        }
        provider.state = provider.registeringFor === 0 ? 'Registered' : 'Registering';
        return answer(200, { namespace, registrationState: provider.state });
      }
      return answer(405, { error: { code: 'MethodNotAllowed' } });
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.endpoint = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  registers(): string[] {
    return this.requests.filter((r) => r.method === 'POST').map((r) => r.path.split('/')[4]!);
  }
}

describe('resource provider registration', () => {
  const fakes: FakeProviders[] = [];
  afterEach(async () => {
    await Promise.all(fakes.splice(0).map((f) => f.close()));
  });

  async function fake(providers: Record<string, FakeProvider>): Promise<FakeProviders> {
    const started = new FakeProviders(providers);
    await started.start();
    fakes.push(started);
    return started;
  }
  const inputs = (arm: FakeProviders, namespaces: string[]): ResourceProviderRegistrationInputs => ({
    subscriptionId: SUBSCRIPTION,
    namespaces,
    accessToken: 'deployer-arm-token',
    armEndpoint: arm.endpoint,
    pollIntervalMs: 10,
  });

  it('registers only what is not registered, as the deployer, and waits until Azure says Registered', async () => {
    const arm = await fake({
      'Microsoft.Web': { state: 'Registered' },
      'Microsoft.ContainerInstance': { state: 'NotRegistered', registeringFor: 2 },
      'Microsoft.App': { state: 'Unregistered', registeringFor: 1 },
      'Microsoft.Insights': { state: 'Registering', registeringFor: 1 },
    });
    const namespaces = ['Microsoft.Web', 'Microsoft.ContainerInstance', 'Microsoft.App', 'Microsoft.Insights'];
    const outs = await ensureRegistered(inputs(arm, namespaces));
    expect(outs).toEqual({ subscriptionId: SUBSCRIPTION, namespaces, registered: ['Microsoft.ContainerInstance', 'Microsoft.App', 'Microsoft.Insights'] });
    // One register call each for the two that were not registered; one already registering is only waited for.
    expect(arm.registers().sort()).toEqual(['Microsoft.App', 'Microsoft.ContainerInstance']);
    expect(new Set(arm.requests.map((r) => r.authorization))).toEqual(new Set(['Bearer deployer-arm-token']));
    // It returned only once each was Registered: the last answer for every namespace says so.
    const lastGet = (namespace: string) => arm.requests.filter((r) => r.method === 'GET' && r.path.endsWith(`/${namespace}`)).length;
    expect(lastGet('Microsoft.ContainerInstance')).toBe(1 + 3);
  });

  it('does nothing but read when everything is registered', async () => {
    const arm = await fake({ 'Microsoft.Web': { state: 'Registered' }, 'Microsoft.Storage': { state: 'Registered' } });
    const outs = await ensureRegistered(inputs(arm, ['Microsoft.Web', 'Microsoft.Storage']));
    expect(outs.registered).toEqual([]);
    expect(arm.requests.map((r) => r.method)).toEqual(['GET', 'GET']);
  });

  it('stops, when the deployer may not register, with the exact az commands for each namespace it could not register', async () => {
    const arm = await fake({
      'Microsoft.Web': { state: 'Registered' },
      'Microsoft.ContainerInstance': { state: 'NotRegistered', refuse: true },
      'Microsoft.App': { state: 'NotRegistered', refuse: true },
    });
    const failure = ensureRegistered(inputs(arm, ['Microsoft.Web', 'Microsoft.ContainerInstance', 'Microsoft.App']));
    await expect(failure).rejects.toThrow(
      [
        `the subscription ${SUBSCRIPTION} has not registered Microsoft.ContainerInstance, Microsoft.App, and the account running pulumi up may not register them ` +
          `(HTTP 403 AuthorizationFailed: The client does not have authorization to perform action 'Microsoft.ContainerInstance/register/action' over scope '/subscriptions/${SUBSCRIPTION}'; ` +
          `HTTP 403 AuthorizationFailed: The client does not have authorization to perform action 'Microsoft.App/register/action' over scope '/subscriptions/${SUBSCRIPTION}'). ` +
          'Someone with Contributor or Owner on the subscription can run:',
        `  az provider register --subscription ${SUBSCRIPTION} --namespace Microsoft.ContainerInstance --wait`,
        `  az provider register --subscription ${SUBSCRIPTION} --namespace Microsoft.App --wait`,
        'then run pulumi up again.',
      ].join('\n'),
    );
  });

  it('says which namespace ARM does not know, rather than waiting for it', async () => {
    const arm = await fake({ 'Microsoft.Web': { state: 'Registered' } });
    await expect(ensureRegistered(inputs(arm, ['Microsoft.Web', 'Microsoft.Nonexistent']))).rejects.toThrow(
      'reading resource provider Microsoft.Nonexistent failed: HTTP 404 InvalidResourceNamespace: Microsoft.Nonexistent is not a namespace',
    );
  });

  it('sees a new token as no change, a new namespace as an update, and a new subscription as a replacement', async () => {
    const olds = { subscriptionId: SUBSCRIPTION, namespaces: ['Microsoft.Web', 'Microsoft.App'], registered: [] };
    const news = (extra: Partial<ResourceProviderRegistrationInputs>): ResourceProviderRegistrationInputs => ({
      subscriptionId: SUBSCRIPTION,
      namespaces: ['Microsoft.App', 'Microsoft.Web'],
      accessToken: 'a token from a later run',
      armEndpoint: 'https://management.azure.com',
      pollIntervalMs: 5000,
      ...extra,
    });
    const diff = resourceProviderRegistrationProvider.diff!.bind(resourceProviderRegistrationProvider);
    expect(await diff('id', olds, news({}))).toMatchObject({ changes: false, replaces: [] });
    expect(await diff('id', olds, news({ namespaces: ['Microsoft.App', 'Microsoft.Web', 'Microsoft.Storage'] }))).toMatchObject({ changes: true, replaces: [] });
    expect(await diff('id', olds, news({ subscriptionId: 'another' }))).toMatchObject({ changes: true, replaces: ['subscriptionId'] });
  });

  it('works as Pulumi ships it: serialized from this ES module program and loaded by the dynamic provider host', async () => {
    // The closure Pulumi stores for the engine, made under `node --import tsx` as Pulumi.yaml runs the program.
    const serialized = execFileSync(process.execPath, ['--import', 'tsx', join(ROOT, 'tests/infra/serialize-dynamic-provider.ts')], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    // Loaded the way @pulumi/pulumi's dynamic provider host loads it (require-from-string, then handler()).
    const requireFromPulumi = createRequire(createRequire(import.meta.url).resolve('@pulumi/pulumi'));
    const requireFromString = requireFromPulumi('require-from-string') as (code: string) => { handler: () => pulumi.dynamic.ResourceProvider };
    const provider = requireFromString(serialized).handler();

    const arm = await fake({ 'Microsoft.Web': { state: 'Registered' }, 'Microsoft.ContainerInstance': { state: 'NotRegistered', registeringFor: 1 } });
    const created = await provider.create(inputs(arm, ['Microsoft.Web', 'Microsoft.ContainerInstance']));
    expect(created).toEqual({
      id: `/subscriptions/${SUBSCRIPTION}/providers`,
      outs: { subscriptionId: SUBSCRIPTION, namespaces: ['Microsoft.Web', 'Microsoft.ContainerInstance'], registered: ['Microsoft.ContainerInstance'] },
    });
    expect(arm.registers()).toEqual(['Microsoft.ContainerInstance']);
  }, 60_000);
});
