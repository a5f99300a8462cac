import { request } from 'node:http';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers.js';
import { startStackProcess, type RunningStack } from '../local-stack-process.js';

const TOKEN = 'a-long-enough-dashboard-token-for-npm-start';

/** One GET from the given local address (a client bound to it with `localAddress`). */
function getFrom(url: string, localAddress: string, headers: Record<string, string>): Promise<{ status: number; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}/api/jobs`, { localAddress, headers, agent: false }, (response) => {
      response.resume();
      response.on('end', () => resolve({ status: response.statusCode!, headers: response.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('npm start with DASHBOARD_TOKEN: the deployed dashboard’s gate, guessing limited per address', () => {
  let dir: ReturnType<typeof tempDir>;
  let stack: RunningStack | null = null;
  beforeEach(() => {
    dir = tempDir();
  });
  afterEach(async () => {
    if (stack && stack.child.exitCode === null) await stack.stop(2);
    stack = null;
    dir.remove();
  });

  it('answers 300 wrong bearer tokens from 127.0.0.1 with 429 within the first 50, while the right token from 127.0.0.2 passes', async () => {
    stack = await startStackProcess({ DATA_DIR: join(dir.path, 'data'), DASHBOARD_TOKEN: TOKEN });
    expect((await getFrom(stack.url, '127.0.0.1', {})).status).toBe(401);
    const statuses: number[] = [];
    for (let i = 0; i < 300; i++) statuses.push((await getFrom(stack.url, '127.0.0.1', { authorization: `Bearer guess-${i}-${'x'.repeat(32)}` })).status);
    const first429 = statuses.indexOf(429);
    expect(first429).toBeGreaterThanOrEqual(0);
    expect(first429).toBeLessThan(50);
    expect(statuses.slice(first429).every((s) => s === 429)).toBe(true);
    expect(statuses.filter((s) => s !== 401 && s !== 429)).toEqual([]);
    const right = await getFrom(stack.url, '127.0.0.2', { authorization: `Bearer ${TOKEN}` });
    expect(right.status).toBe(200);
    // The guessing address stays refused, told when to come back.
    const again = await getFrom(stack.url, '127.0.0.1', { authorization: `Bearer ${TOKEN}` });
    expect(again.status).toBe(429);
    expect(Number(again.headers['retry-after'])).toBeGreaterThan(0);
  });

  it('signs a browser in over plain http: the cookie is not Secure, so it is sent back', async () => {
    stack = await startStackProcess({ DATA_DIR: join(dir.path, 'data'), DASHBOARD_TOKEN: TOKEN });
    const page = await fetch(`${stack.url}/`, { headers: { accept: 'text/html' }, redirect: 'manual' });
    expect(page.status).toBe(303);
    expect(page.headers.get('location')).toBe('/login');
    const login = await fetch(`${stack.url}/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `token=${TOKEN}`,
      redirect: 'manual',
    });
    expect(login.status).toBe(303);
    const cookie = login.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/^eda_token=[^;]+;.*HttpOnly; SameSite=Strict$/);
    expect(cookie).not.toMatch(/Secure/);
    const opened = await fetch(`${stack.url}/api/jobs`, { headers: { cookie: cookie.split(';')[0]! } });
    expect(opened.status).toBe(200);
  });
});
