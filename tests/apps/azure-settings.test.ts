import type { FastifyInstance } from 'fastify';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { QuotaGuardedRuntime } from '../../apps/spawner/quota-guard.js';
import { AciRuntime } from '../../apps/core/adapters/azure/aci-runtime.js';
import { AzureMonitorMetrics } from '../../apps/core/adapters/azure/azure-monitor-metrics.js';
import { ServiceBusWorkQueue } from '../../apps/core/adapters/azure/service-bus-work-queue.js';
import { SqliteJobStore } from '../../apps/core/adapters/sqlite/job-store.js';
import { SqliteWorkQueue } from '../../apps/core/adapters/sqlite/work-queue.js';
import { buildApp } from '../../apps/dashboard/app.js';
import { createDashboardDeps } from '../../apps/dashboard/composition.js';
import type { DashboardDeps } from '../../apps/dashboard/deps.js';
import { adapterBehind } from '../../apps/dashboard/open-when-reachable.js';
import { readDashboardSettings } from '../../apps/dashboard/settings.js';
import { createSpawnerDeps } from '../../apps/spawner/composition.js';
import { readSpawnerSettings } from '../../apps/spawner/settings.js';
import { tempDir } from '../helpers.js';

const TOKEN = 'a-long-enough-dashboard-token-123';

const AZURE = {
  // Set by App Service in the container: the host name the dashboard answers for.
  WEBSITE_HOSTNAME: 'app-eda-dev.azurewebsites.net',
  QUEUE_NAME: 'work',
  SERVICEBUS_NAMESPACE: 'sb-eda-dev.servicebus.windows.net',
  AZURE_SUBSCRIPTION_ID: '00000000-0000-0000-0000-000000000000',
  RESOURCE_GROUP: 'rg-eda-dev',
  AZURE_CLIENT_ID: '11111111-1111-1111-1111-111111111111',
};

describe('settings choose the adapters, with no code change', () => {
  const opened: { close(): Promise<void> }[] = [];
  const dirs: ReturnType<typeof tempDir>[] = [];
  afterEach(async () => {
    await Promise.allSettled(opened.splice(0).map((o) => o.close()));
    for (const dir of dirs.splice(0)) dir.remove();
  });

  it('the dashboard on Azure: Service Bus, ACI logs and Azure Monitor metrics', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const deps = await createDashboardDeps(
      readDashboardSettings({ ...AZURE, DATABASE_URI: `sqlite:${join(dir.path, 'jobs.db')}`, DASHBOARD_TOKEN: TOKEN }),
    );
    opened.push(deps.store, deps.queue);
    expect(await adapterBehind(deps.queue)).toBeInstanceOf(ServiceBusWorkQueue);
    expect(deps.runtime).toBeInstanceOf(AciRuntime);
    expect(deps.metrics).toBeInstanceOf(AzureMonitorMetrics);
    expect(await adapterBehind(deps.store)).toBeInstanceOf(SqliteJobStore);
  });

  it('the dashboard with embedded parts: SQLite queue and no live container source', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const deps = await createDashboardDeps(
      readDashboardSettings({
        HOST: '127.0.0.1',
        QUEUE: 'sqlite',
        QUEUE_PATH: join(dir.path, 'queue.db'),
        CONTAINERS: 'none',
        ALLOW_ANONYMOUS: 'true',
        DATABASE_URI: `sqlite:${join(dir.path, 'jobs.db')}`,
      }),
    );
    opened.push(deps.store, deps.queue);
    expect(await adapterBehind(deps.queue)).toBeInstanceOf(SqliteWorkQueue);
    expect(await deps.runtime.logs('task-x')).toBeNull();
  });

  it('the spawner on Azure: ACI with launch settings, Service Bus, Monitor', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const deps = await createSpawnerDeps(
      readSpawnerSettings({
        ...AZURE,
        DATABASE_URI: `sqlite:${join(dir.path, 'jobs.db')}`,
        WORKER_DATABASE_URI: 'mongodb://acct:key@acct.mongo.cosmos.azure.com:10255/?replicaSet=globaldb&retrywrites=false',
        LOCATION: 'westeurope',
        WORKER_IMAGE: 'acreda.azurecr.io/worker:1',
        REGISTRY_SERVER: 'acreda.azurecr.io',
        PULL_IDENTITY_ID: '/subscriptions/s/resourceGroups/r/providers/Microsoft.ManagedIdentity/userAssignedIdentities/pull',
        MAX_CONCURRENT: '50',
        CORE_QUOTA: '4',
      }),
    );
    opened.push(deps.store, deps.queue);
    // ACI behind the quota guard, whose ledger is in the store.
    expect(deps.runtime).toBeInstanceOf(QuotaGuardedRuntime);
    const aci = (deps.runtime as QuotaGuardedRuntime).inner;
    expect(aci).toBeInstanceOf(AciRuntime);
    expect(await deps.quotaTight!()).toBe(false);
    expect(deps.queue).toBeInstanceOf(ServiceBusWorkQueue);
    expect(deps.maxConcurrent).toBe(50);
    expect(deps.launch.databaseUri).toContain('retrywrites=false');
    expect((aci as AciRuntime).groupFor({ name: 'task-1', jobId: 'job-1', env: {}, secureEnv: [], cpu: 1, memoryGb: 1, image: null, registry: null, command: null }).location).toBe('westeurope');
  });

  it('names every missing setting at once', () => {
    expect(() => readSpawnerSettings({})).toThrow(
      /DATABASE_URI is required; WORKER_DATABASE_URI is required; SERVICEBUS_NAMESPACE is required; QUEUE_NAME is required; AZURE_SUBSCRIPTION_ID is required; RESOURCE_GROUP is required; LOCATION is required; WORKER_IMAGE is required; REGISTRY_SERVER is required; PULL_IDENTITY_ID is required/,
    );
    expect(() => readDashboardSettings({ ...AZURE, DATABASE_URI: 'sqlite:x.db' })).toThrow(/DASHBOARD_TOKEN is required/);
    expect(() => readDashboardSettings({ ...AZURE, DATABASE_URI: 'sqlite:x.db', DASHBOARD_TOKEN: 'short' })).toThrow(
      /DASHBOARD_TOKEN must be at least 32 characters \(got 5\); tokens of 24 to 31 characters are no longer accepted/,
    );
    expect(() => readDashboardSettings({ HOST: '127.0.0.1', QUEUE: 'kafka', ALLOW_ANONYMOUS: 'true', DATABASE_URI: 'sqlite:x.db', CONTAINERS: 'none' })).toThrow(
      /QUEUE must be one of servicebus, sqlite \(got "kafka"\)/,
    );
  });
});

describe('the deployed dashboard’s access token', () => {
  let app: FastifyInstance;
  let dir: ReturnType<typeof tempDir>;
  let deps: DashboardDeps;
  afterEach(async () => {
    await app.close();
    await Promise.all([deps.store.close(), deps.queue.close()]);
    dir.remove();
  });

  async function open() {
    dir = tempDir();
    deps = await createDashboardDeps(
      readDashboardSettings({
        HOST: '127.0.0.1',
        QUEUE: 'sqlite',
        QUEUE_PATH: join(dir.path, 'queue.db'),
        CONTAINERS: 'none',
        DASHBOARD_TOKEN: TOKEN,
        DATABASE_URI: `sqlite:${join(dir.path, 'jobs.db')}`,
      }),
    );
    // Browsers reach the deployed dashboard over https (App Service ends TLS in front of it).
    app = await buildApp(deps, { logger: false, accessToken: TOKEN, servedAs: { hosts: ['localhost'], scheme: 'https', anyHostPaths: [] } });
  }

  it('refuses the API without it, accepts a bearer token, and leaves /healthz open', async () => {
    await open();
    const refused = await app.inject({ method: 'POST', url: '/api/jobs', headers: { 'content-type': 'application/json' }, payload: '{"message":"hi"}' });
    expect(refused.statusCode).toBe(401);
    expect(refused.json().error).toMatch(/access token is required/);
    expect((await deps.store.counts()).Pending).toBe(0);
    const wrong = await app.inject({ url: '/api/jobs', headers: { authorization: 'Bearer nope' } });
    expect(wrong.statusCode).toBe(401);
    const allowed = await app.inject({ url: '/api/jobs', headers: { authorization: `Bearer ${TOKEN}` } });
    expect(allowed.statusCode).toBe(200);
    expect((await app.inject('/healthz')).statusCode).toBe(200);
  });

  it('sends a browser to /login, and a right token there sets a secure cookie that opens the page', async () => {
    await open();
    const page = await app.inject({ url: '/', headers: { accept: 'text/html' } });
    expect(page.statusCode).toBe(303);
    expect(page.headers.location).toBe('/login');
    const bad = await app.inject({ method: 'POST', url: '/login', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'token=guess' });
    expect(bad.statusCode).toBe(401);
    expect(bad.body).toContain('That is not the access token.');
    const good = await app.inject({ method: 'POST', url: '/login', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: `token=${TOKEN}` });
    expect(good.statusCode).toBe(303);
    const cookie = String(good.headers['set-cookie']);
    expect(cookie).toMatch(/^eda_token=[^;]+; Max-Age=604800; Path=\/; HttpOnly; Secure; SameSite=Strict$/);
    const opened = await app.inject({ url: '/', headers: { accept: 'text/html', cookie: cookie.split(';')[0]! } });
    expect(opened.statusCode).toBe(200);
    expect(opened.body).toContain('<form id="add-work"');
  });
});
