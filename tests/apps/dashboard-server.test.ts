import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { eventually, ROOT } from '../helpers.js';

// The server App Service runs (apps/dashboard/server.ts), built by `npm run build`.
const BUILT_DASHBOARD_SERVER = join(ROOT, 'dist/apps/dashboard/server.js');
const TOKEN = 'a-long-enough-dashboard-token-123';

/** The Azure settings, with nothing behind them reachable from here. */
const AZURE_NOTHING_REACHABLE = {
  HOST: '127.0.0.1',
  PORT: '0',
  LOG_LEVEL: 'info',
  DASHBOARD_TOKEN: TOKEN,
  // Port 1 on this machine: every connection is refused.
  DATABASE_URI: 'mongodb://eda:secret@127.0.0.1:1/event-driven-aci',
  QUEUE: 'servicebus',
  QUEUE_NAME: 'work',
  SERVICEBUS_NAMESPACE: 'sb-eda-unreachable.invalid',
  CONTAINERS: 'aci',
  AZURE_SUBSCRIPTION_ID: '00000000-0000-0000-0000-000000000000',
  RESOURCE_GROUP: 'rg-eda-dev',
  AZURE_CLIENT_ID: '11111111-1111-1111-1111-111111111111',
};

describe('the App Service dashboard server', () => {
  let child: ChildProcess | null = null;
  afterEach(() => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
  });

  it('starts with nothing reachable, stays up, and answers /healthz 503 naming each part', async () => {
    child = spawn(process.execPath, [BUILT_DASHBOARD_SERVER], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', ...AZURE_NOTHING_REACHABLE },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout!.on('data', (chunk) => (output += chunk));
    child.stderr!.on('data', (chunk) => (output += chunk));
    const url = await eventually(() => /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(output)?.[1], 15_000, 'the server to listen');

    const first = await fetch(`${url}/healthz`);
    expect(first.status).toBe(503);
    const health = (await first.json()) as { ok: boolean; store: string; queue: string };
    expect(health.ok).toBe(false);
    expect(health.store).toMatch(/^error: /);
    expect(health.queue).toMatch(/^error: /);

    // MongoDB gives up after its server selection timeout; the store is then named with the reason.
    const store = await eventually(async () => {
      const body = (await (await fetch(`${url}/healthz`)).json()) as { store: string };
      return /cannot be reached/.test(body.store) ? body.store : undefined;
    }, 30_000, 'the store named unreachable');
    expect(store).toMatch(/^error: the store cannot be reached: .*ECONNREFUSED/);
    expect(store).not.toContain('secret');

    const api = await fetch(`${url}/api/jobs`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(api.status).toBe(503);
    expect(((await api.json()) as { error: string }).error).toMatch(/^the store cannot be reached: /);
    expect(child.exitCode).toBeNull();
    expect(output).toContain('the store cannot be reached (tried again on the next request after 5 s)');

    child.kill('SIGTERM');
    const code = await new Promise((resolve) => child!.on('exit', resolve));
    expect(code).toBe(0);
  }, 60_000);
});
