import { beforeAll, describe, expect, it, vi } from 'vitest';
import { readDashboardSettings } from '../../apps/dashboard/settings.js';
import { readSpawnerSettings } from '../../apps/spawner/settings.js';
import type { AzureStack } from '../../stacks/azure/azure-stack.js';
import { appSettingsOf, isSecret, mockedAzureStack, TOKEN, type Recorded } from './pulumi-mocks.js';

// The Function's triggers, as the spawner registers them with the Functions host: every
// registration call is recorded, whatever the trigger kind, so new triggers are seen too.
const triggers = vi.hoisted(() => [] as { kind: string; name: string; options: Record<string, unknown> }[]);
vi.mock('@azure/functions', () => ({
  app: new Proxy(
    {},
    { get: (_target, kind) => (name: string, options: Record<string, unknown>) => void triggers.push({ kind: String(kind), name, options }) },
  ),
}));

/** An environment that remembers every name an app's settings reader asks for. */
function recordingEnv(values: Record<string, string>): { env: Record<string, string | undefined>; asked: Set<string> } {
  const asked = new Set<string>();
  const env = new Proxy(values, {
    get(target, key) {
      if (typeof key === 'string') asked.add(key);
      return typeof key === 'string' ? target[key] : undefined;
    },
  });
  return { env, asked };
}

// Settings the platform reads, not the app: documented, so the test can tell them from a typo.
// Host storage by identity: https://learn.microsoft.com/azure/azure-functions/functions-reference#connecting-to-host-storage-with-an-identity
const HOST_STORAGE = ['AzureWebJobsStorage__accountName', 'AzureWebJobsStorage__credential', 'AzureWebJobsStorage__clientId'];
// A trigger's identity connection `<connection>__…`: https://learn.microsoft.com/azure/azure-functions/functions-reference#common-properties-for-identity-based-connections
const CONNECTION_PROPERTIES = ['fullyQualifiedNamespace', 'credential', 'clientId'];
// The port App Service sends requests to in a custom container: https://learn.microsoft.com/azure/app-service/reference-app-settings#custom-containers
const WEB_APP_PORT = 'WEBSITES_PORT';

// A stack with every sort of kind: one built from the repository, a public image, and an image on
// another private registry whose password, like its secretEnv, is set with --secret --path.
const DIGEST = `sha256:${'0123456789abcdef'.repeat(4)}`;
const REGISTRY_PASSWORD = 'ghp_registry-password-for-the-mock-stack';
const API_KEY = 'api-key-for-the-mock-stack';
const KINDS = {
  wordcount: { build: 'examples/wordcount', cpu: 0.5, memoryGb: 0.5, timeoutSeconds: 60, maxAttempts: 2, retryExitCodes: ['75'], env: { STEP_SECONDS: '0.5' } },
  hello: { image: `docker.io/library/busybox@${DIGEST}` },
  private: {
    image: `ghcr.io/acme/private-task@${DIGEST}`,
    registry: { server: 'ghcr.io', username: 'acme-bot', password: REGISTRY_PASSWORD },
    secretEnv: { API_KEY },
    store: true,
  },
};

describe('the app settings the Pulumi program writes are exactly what the apps read', () => {
  let resources: Recorded[];
  let stack: AzureStack;

  beforeAll(async () => {
    ({ resources, stack } = await mockedAzureStack({
      stack: 'dev',
      config: {
        'azure-native:location': 'westeurope',
        'event-driven-aci:dashboardToken': TOKEN,
        'event-driven-aci:maxConcurrent': '30',
        'event-driven-aci:maxAttempts': '4',
        'event-driven-aci:containerGroupQuota': '50',
        'event-driven-aci:coreQuota': '4',
        'event-driven-aci:kinds': JSON.stringify(KINDS),
      },
      // A structured value with a secure leaf is secret as a whole key.
      secretKeys: ['event-driven-aci:dashboardToken', 'event-driven-aci:kinds'],
    }));
    // The spawner's entry point registers its triggers on import (apps/spawner/functions/index.ts).
    await import('../../apps/spawner/functions/index.js');
  }, 60_000);

  const settingsOf = (kind: string) => {
    const apps = resources.filter((r) => r.type === 'azure-native:web:WebApp' && r.inputs.kind === kind);
    expect(apps).toHaveLength(1);
    return appSettingsOf(apps[0]!);
  };

  it('the spawner Function: readSpawnerSettings accepts them, and each one is read by it, by a trigger or by the host', () => {
    const settings = settingsOf('functionapp,linux');
    const { env, asked } = recordingEnv(settings);
    const read = readSpawnerSettings(env);
    expect(read.maxConcurrent).toBe(30);
    expect(read.launch.location).toBe('westeurope');
    expect(read.kinds.defaultKind.retry.maxAttempts).toBe(4);
    expect(read.quota).toEqual({ containerGroupQuota: 50, coreQuota: 4 });

    expect(triggers.length).toBeGreaterThan(0);
    const connections = new Set(triggers.map((t) => t.options.connection).filter((c): c is string => typeof c === 'string'));
    // `%NAME%` in a trigger's options is resolved from the app settings by the host.
    const bindingExpressions = new Set(triggers.flatMap((t) => [...JSON.stringify(t.options).matchAll(/%([A-Za-z0-9_]+)%/g)].map((m) => m[1]!)));
    for (const connection of connections) expect(settings, `trigger connection ${connection}`).toHaveProperty(`${connection}__fullyQualifiedNamespace`);
    for (const name of bindingExpressions) expect(settings, `%${name}% in a trigger`).toHaveProperty(name);

    const platform = new Set([...HOST_STORAGE, ...[...connections].flatMap((c) => CONNECTION_PROPERTIES.map((p) => `${c}__${p}`))]);
    const unread = Object.keys(settings).filter((key) => !asked.has(key) && !bindingExpressions.has(key) && !platform.has(key));
    expect(unread, 'settings nobody reads (a misspelt key?)').toEqual([]);

    // The identity connections all sign in as the spawner's identity, the one the app itself uses.
    for (const prefix of ['AzureWebJobsStorage', ...connections]) {
      expect(settings[`${prefix}__credential`]).toBe('managedidentity');
      expect(settings[`${prefix}__clientId`]).toBe(read.scope.managedIdentityClientId);
    }
  });

  it('the dashboard Web App: readDashboardSettings accepts them, and each one is read by it or by App Service', () => {
    const settings = settingsOf('app,linux,container');
    // App Service itself sets the site's host name in the container (the dashboard answers only it).
    const { env, asked } = recordingEnv({ ...settings, WEBSITE_HOSTNAME: 'app-eda-dev.azurewebsites.net' });
    const read = readDashboardSettings(env);
    expect(read.queue.kind).toBe('servicebus');
    expect(read.containers.kind).toBe('aci');
    expect(read.accessToken).toBe(TOKEN);
    expect(read.servedAs).toMatchObject({ hosts: ['app-eda-dev.azurewebsites.net'], scheme: 'https' });

    const unread = Object.keys(settings).filter((key) => !asked.has(key) && key !== WEB_APP_PORT);
    expect(unread, 'settings nobody reads (a misspelt key?)').toEqual([]);
    // App Service sends requests to the port the dashboard listens on.
    expect(settings[WEB_APP_PORT]).toBe(String(read.port));
  });

  it('gives the spawner every kind: its image (a built one by digest), resources, timeout, retries, environment and secrets', async () => {
    const app = resources.find((r) => r.type === 'azure-native:web:WebApp' && r.inputs.kind === 'functionapp,linux')!;
    const { kinds } = readSpawnerSettings(appSettingsOf(app));
    expect(kinds.names().sort()).toEqual(['default', 'hello', 'private', 'wordcount']);
    const built = resources.filter((r) => r.type === 'docker:index/image:Image' && r.name === 'registry-kind-wordcount');
    expect(built).toHaveLength(1);
    expect(kinds.get('wordcount')).toMatchObject({
      image: built[0]!.state.repoDigest,
      registry: null,
      cpu: 0.5,
      memoryGb: 0.5,
      timeoutSeconds: 60,
      retry: { maxAttempts: 2, retryOnExitCodes: ['75'] },
      env: { STEP_SECONDS: '0.5' },
      secretEnv: {},
      store: false,
    });
    expect(kinds.get('wordcount')!.image).toMatch(/\.azurecr\.io\/eda-kind-wordcount@sha256:[0-9a-f]{64}$/);
    // Unset values are the stack's own: its worker's resources and timeout, and maxAttempts.
    expect(kinds.get('hello')).toMatchObject({ image: KINDS.hello.image, registry: null, cpu: 1, memoryGb: 1.5, timeoutSeconds: 600, retry: { maxAttempts: 4 } });
    expect(kinds.get('private')).toMatchObject({
      image: KINDS.private.image,
      registry: { server: 'ghcr.io', username: 'acme-bot', password: REGISTRY_PASSWORD },
      secretEnv: { API_KEY },
      store: true,
    });
    // The setting holds the password and the secret values: it is a Pulumi secret.
    expect(await isSecret(stack.secrets.kinds!)).toBe(true);
  });

  it('gives the dashboard the kinds’ names, images and resources, and not one secret', () => {
    const app = resources.find((r) => r.type === 'azure-native:web:WebApp' && r.inputs.kind === 'app,linux,container')!;
    const settings = appSettingsOf(app);
    const { kinds } = readDashboardSettings({ ...settings, WEBSITE_HOSTNAME: 'app-eda-dev.azurewebsites.net' });
    expect(kinds.names().sort()).toEqual(['default', 'hello', 'private', 'wordcount']);
    expect(kinds.get('wordcount')).toMatchObject({ cpu: 0.5, memoryGb: 0.5, timeoutSeconds: 60, retry: { maxAttempts: 2 } });
    for (const name of ['hello', 'private', 'wordcount']) expect(kinds.get(name)).toMatchObject({ registry: null, env: {}, secretEnv: {} });
    for (const secret of [REGISTRY_PASSWORD, API_KEY, 'acme-bot']) expect(settings.KINDS).not.toContain(secret);
    // Which kinds have secrets, by name: their logs are served only as the spawner stored them, masked.
    expect(settings.KINDS_WITH_SECRETS).toBe('private');
    expect(readDashboardSettings({ ...settings, WEBSITE_HOSTNAME: 'app-eda-dev.azurewebsites.net' }).kindsWithSecrets).toEqual(['private']);
    for (const value of Object.values(settings)) for (const secret of [REGISTRY_PASSWORD, API_KEY]) expect(String(value)).not.toContain(secret);
  });

  it('catches a misspelt key: the reader does not ask for it, and a required one then goes missing', () => {
    const settings = settingsOf('functionapp,linux');
    const { WORKER_IMAGE, ...rest } = settings;
    const misspelt = { ...rest, WORKER_IMGAE: WORKER_IMAGE! };
    const { env, asked } = recordingEnv(misspelt);
    expect(() => readSpawnerSettings(env)).toThrow(/WORKER_IMAGE is required/);
    expect(asked.has('WORKER_IMGAE')).toBe(false);
  });
});
