import { beforeAll, describe, expect, it, vi } from 'vitest';
import { readDashboardSettings } from '../../apps/dashboard/settings.js';
import { readSpawnerSettings } from '../../apps/spawner/settings.js';
import { appSettingsOf, installMocks, registrationsSettled, TOKEN, type Recorded } from './pulumi-mocks.js';

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

describe('the app settings the Pulumi program writes are exactly what the apps read', () => {
  let resources: Recorded[];

  beforeAll(async () => {
    resources = await installMocks({
      project: 'event-driven-aci',
      stack: 'dev',
      config: { 'azure-native:location': 'westeurope', 'event-driven-aci:dashboardToken': TOKEN, 'event-driven-aci:maxConcurrent': '30' },
      secretKeys: ['event-driven-aci:dashboardToken'],
    });
    const { azureStack } = await import('../../stacks/azure/azure-stack.js');
    const { readAzureStackConfig } = await import('../../stacks/azure/config.js');
    azureStack(readAzureStackConfig(), { exchangeAcrToken: async () => 'acr-refresh-token' });
    await registrationsSettled();
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

  it('catches a misspelt key: the reader does not ask for it, and a required one then goes missing', () => {
    const settings = settingsOf('functionapp,linux');
    const { WORKER_IMAGE, ...rest } = settings;
    const misspelt = { ...rest, WORKER_IMGAE: WORKER_IMAGE! };
    const { env, asked } = recordingEnv(misspelt);
    expect(() => readSpawnerSettings(env)).toThrow(/WORKER_IMAGE is required/);
    expect(asked.has('WORKER_IMGAE')).toBe(false);
  });
});
