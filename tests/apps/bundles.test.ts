import { execFile, spawn } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { eventually, ROOT, tempDir } from '../helpers.js';

// What the images and the Function package ship is bundled from the same sources the local
// stack runs (scripts/bundle.mjs, the step the Dockerfiles and the Pulumi program use).
// Bundles go below the repository so the SQLite driver (external) resolves as it would in dev.
const run = promisify(execFile);
const OUT = join(ROOT, 'dist/test-bundles');

async function bundle(app: string): Promise<string> {
  const dir = join(OUT, app);
  await run(process.execPath, ['scripts/bundle.mjs', app, dir], { cwd: ROOT });
  return dir;
}

describe('bundles for the images and the Function app', () => {
  afterAll(() => rmSync(OUT, { recursive: true, force: true }));

  it('the worker bundle keeps the worker contract', async () => {
    const dir = await bundle('worker');
    const result = await run(process.execPath, [join(dir, 'worker.mjs')], { env: { PATH: process.env.PATH ?? '' } }).catch((e) => e);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('MESSAGE is not set; CONTAINER_NAME is not set; DATABASE_URI is not set');
  });

  it('the Function bundle registers both triggers, with host.json beside it', async () => {
    const dir = await bundle('spawner');
    const { stdout, stderr } = await run(process.execPath, ['-e', `import(${JSON.stringify(join(dir, 'index.mjs'))})`]);
    const output = stdout + stderr;
    expect(output).toContain('"dispatch-work"');
    expect(output).toContain('"reap-containers"');
    expect(JSON.parse(readFileSync(join(dir, 'host.json'), 'utf8')).extensions.serviceBus.autoCompleteMessages).toBe(true);
    expect(JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'))).toMatchObject({ type: 'module', main: 'index.mjs' });
  });

  it('the dashboard bundle serves its page and assets', async () => {
    const dir = await bundle('dashboard');
    const data = tempDir();
    const child = spawn(process.execPath, [join(dir, 'server.mjs')], {
      env: {
        PATH: process.env.PATH ?? '',
        PORT: '0',
        HOST: '127.0.0.1',
        QUEUE: 'sqlite',
        QUEUE_PATH: join(data.path, 'queue.db'),
        CONTAINERS: 'none',
        ALLOW_ANONYMOUS: 'true',
        DATABASE_URI: `sqlite:${join(data.path, 'jobs.db')}`,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (c) => (output += c));
    child.stderr.on('data', (c) => (output += c));
    try {
      const url = await eventually(() => /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(output)?.[1], 10_000, 'the server');
      expect((await fetch(`${url}/healthz`)).status).toBe(200);
      expect(await (await fetch(`${url}/`)).text()).toContain('<form id="add-work"');
      expect((await fetch(`${url}/static/htmx.min.js`)).status).toBe(200);
    } finally {
      child.kill();
      data.remove();
    }
  });
});
