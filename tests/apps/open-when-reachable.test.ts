import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SqliteJobStore } from '../../apps/core/adapters/sqlite/job-store.js';
import { buildApp } from '../../apps/dashboard/app.js';
import { createDashboardDeps } from '../../apps/dashboard/composition.js';
import { adapterBehind, openWhenReachable } from '../../apps/dashboard/open-when-reachable.js';
import { readDashboardSettings } from '../../apps/dashboard/settings.js';
import { tempDir } from '../helpers.js';

interface Echo {
  say(word: string): Promise<string>;
  close(): Promise<void>;
}

describe('a port opened when its part can be reached', () => {
  it('fails with 503 naming the part, waits before trying again, then works as the adapter', async () => {
    let now = 0;
    let attempts = 0;
    let reachable = false;
    let closed = 0;
    const changes: string[] = [];
    const port = openWhenReachable<Echo>(
      'store',
      async () => {
        attempts++;
        if (!reachable) throw new Error('connect ECONNREFUSED 10.0.0.4:10255');
        return { say: async (word) => `${word}!`, close: async () => void closed++ };
      },
      { retryAfterMs: 5000, now: () => now, onChange: ({ reachable: ok, reason }) => changes.push(ok ? 'reachable' : `down: ${reason}`) },
    );
    await expect(port.say('hi')).rejects.toMatchObject({ statusCode: 503, message: 'the store cannot be reached: connect ECONNREFUSED 10.0.0.4:10255' });
    now = 4999;
    await expect(port.say('hi')).rejects.toMatchObject({ statusCode: 503 });
    expect(attempts).toBe(1);
    reachable = true;
    now = 5000;
    await expect(port.say('hi')).resolves.toBe('hi!');
    await expect(port.say('again')).resolves.toBe('again!');
    expect(attempts).toBe(2);
    expect(changes).toEqual(['down: connect ECONNREFUSED 10.0.0.4:10255', 'reachable']);
    // Not a thenable: it can be returned from an async function as itself.
    expect(await Promise.resolve(port)).toBe(port);
    await port.close();
    expect(closed).toBe(1);
  });

  it('opens once for calls made while it opens, and closes nothing it never opened', async () => {
    let attempts = 0;
    const port = openWhenReachable<Echo>('queue', async () => {
      attempts++;
      await new Promise((resolve) => setTimeout(resolve, 20));
      return { say: async (word) => word, close: async () => {} };
    });
    await Promise.all([port.say('a'), port.say('b'), port.say('c')]);
    expect(attempts).toBe(1);
    await port.close();
    const never = openWhenReachable<Echo>('queue', async () => {
      throw new Error('never opened');
    });
    await expect(never.close()).resolves.toBeUndefined();
  });
});

describe('the App Service dashboard with a store it cannot reach yet', () => {
  let cleanup: () => Promise<void> = async () => {};
  afterEach(async () => cleanup());

  it('builds, answers /healthz 503 naming the store and the API 503, and recovers when the store comes back', async () => {
    const dir = tempDir();
    // The store's folder is blocked by a file: the store cannot open until it is moved.
    const blocker = join(dir.path, 'data');
    writeFileSync(blocker, 'not a folder');
    const settings = readDashboardSettings({
      HOST: '127.0.0.1',
      QUEUE: 'sqlite',
      QUEUE_PATH: join(dir.path, 'queue.db'),
      CONTAINERS: 'none',
      ALLOW_ANONYMOUS: 'true',
      DATABASE_URI: `sqlite:${join(blocker, 'jobs.db')}`,
    });
    const deps = await createDashboardDeps(settings, { retryAfterMs: 0 });
    const app = await buildApp(deps, { logger: false, servedAs: settings.servedAs });
    cleanup = async () => {
      await app.close();
      await Promise.allSettled([deps.store.close(), deps.queue.close()]);
      dir.remove();
    };

    const down = await app.inject('/healthz');
    expect(down.statusCode).toBe(503);
    expect(down.json()).toMatchObject({ ok: false, queue: 'ok' });
    expect(down.json().store).toMatch(/^error: the store cannot be reached: the folder of .*jobs\.db cannot be created \(ENOTDIR/);
    const api = await app.inject('/api/jobs');
    expect(api.statusCode).toBe(503);
    expect(api.json().error).toMatch(/^the store cannot be reached: /);
    const add = await app.inject({ method: 'POST', url: '/api/jobs', headers: { 'content-type': 'application/json' }, payload: '{"message":"hi"}' });
    expect(add.statusCode).toBe(503);

    rmSync(blocker);
    mkdirSync(blocker);
    expect((await app.inject('/healthz')).json()).toEqual({ ok: true, store: 'ok', queue: 'ok' });
    expect(await adapterBehind(deps.store)).toBeInstanceOf(SqliteJobStore);
    expect((await app.inject({ method: 'POST', url: '/api/jobs', headers: { 'content-type': 'application/json' }, payload: '{"message":"hi"}' })).statusCode).toBe(202);
  });
});
