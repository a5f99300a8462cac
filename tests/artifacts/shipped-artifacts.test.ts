import { execFile, execFileSync, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildFunctionPackage } from '../../stacks/azure/function-package.js';
import { SqliteJobStore } from '../../apps/core/adapters/sqlite/job-store.js';
import { containerNameFor } from '../../apps/core/domain/container-name.js';
import { newPendingJob } from '../../apps/core/domain/job.js';
import { newJobId } from '../../apps/core/domain/job-id.js';
import { eventually, ROOT, sleep, tempDir } from '../helpers.js';
import { buildLikeDocker, type BuiltImage } from './dockerfile-build.js';
import { node22 } from './node22.js';

// What ships to Azure, built as Azure gets it and run as Azure runs it: from a clean copy of
// the committed tree (git archive), each image by its own Dockerfile's instructions (its
// `npm ci --omit=dev --ignore-scripts` and its bundle step), the Function package as the Pulumi
// program builds it; then only what the final stage or the package holds, in a folder outside
// the repository, run under Node 22. Nothing here can reach the repository's node_modules:
// the worker opens a SQLite store with Node 22's built-in node:sqlite.
const NODE22 = node22('the tests of what ships to Azure');
const run = promisify(execFile);

const COSMOS_STYLE_URI =
  'mongodb://eda-test:c2VjcmV0a2V5@eda-test.mongo.cosmos.azure.com:10255/?replicaSet=globaldb&retrywrites=false&maxIdleTimeMS=120000&appName=@eda-test@';
const TOKEN = 'an-access-token-of-24-characters-or-more';
const AZURE_DASHBOARD_SETTINGS = {
  DATABASE_URI: COSMOS_STYLE_URI,
  DASHBOARD_TOKEN: TOKEN,
  QUEUE: 'servicebus',
  QUEUE_NAME: 'work',
  SERVICEBUS_NAMESPACE: 'sb-eda-test.servicebus.windows.net',
  CONTAINERS: 'aci',
  AZURE_CLIENT_ID: '00000000-0000-0000-0000-000000000001',
  AZURE_SUBSCRIPTION_ID: '00000000-0000-0000-0000-000000000002',
  RESOURCE_GROUP: 'rg-eda-test',
  COST_LABEL: 'ACI',
  LOG_LEVEL: 'warn',
};

interface Exit {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the image's CMD in its folder with exactly the image's ENV plus `env`, under Node 22 unless told. */
function runCmd(image: BuiltImage, env: Record<string, string>, node = NODE22!): Promise<Exit> {
  const [program, ...args] = image.cmd;
  expect(program).toBe('node');
  return new Promise((resolve) => {
    const child = spawn(node, args, { cwd: image.appDir, env: { ...image.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

function filesBelow(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative(dir, join(entry.parentPath, entry.name)));
}

function expectOnlyWhatShips(dir: string): void {
  const files = filesBelow(dir);
  // Native modules would crash on the images' Alpine (musl) and are not shipped at all.
  expect(files.filter((file) => file.endsWith('.node'))).toEqual([]);
  expect(files.filter((file) => file.includes('better-sqlite3'))).toEqual([]);
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe.runIf(NODE22)('what ships to Azure, as Azure gets it, under Node 22', () => {
  let scratch: ReturnType<typeof tempDir>;
  let context: string;

  beforeAll(async () => {
    scratch = tempDir('eda-artifacts-');
    context = join(scratch.path, 'context');
    mkdirSync(context);
    // The committed tree, not the working tree: what a clone, and so a deployment, has.
    execFileSync('sh', ['-c', `git -C "${ROOT}" archive HEAD | tar -x -C "${context}"`]);
  }, 120_000);
  // The tree holds three unpacked images and an installed node_modules: on a loaded machine
  // its removal outlasts the default 60 s.
  afterAll(() => scratch?.remove(), 120_000);

  describe('the worker image', () => {
    let image: BuiltImage;
    beforeAll(() => {
      image = buildLikeDocker(join(context, 'apps/worker/Dockerfile'), context, join(scratch.path, 'worker'), NODE22!);
    }, 300_000);

    it('holds the bundle alone, runs as a user that is not root', () => {
      expectOnlyWhatShips(image.appDir);
      expect(image.user).toBe('node');
      expect(existsSync(join(image.appDir, 'node_modules'))).toBe(false);
    });

    it('exits 2 on a bad environment, naming what is missing', async () => {
      const result = await runCmd(image, { MESSAGE: 'x' });
      expect(result.code).toBe(2);
      expect(result.stderr).toContain('CONTAINER_NAME is not set; DATABASE_URI is not set');
    });

    it('fails cleanly against an unreachable Cosmos-style URI, naming the database and never a missing module', async () => {
      const result = await runCmd(image, { MESSAGE: 'x', CONTAINER_NAME: 'task-x', DATABASE_URI: COSMOS_STYLE_URI });
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('the store (MongoDB at eda-test.mongo.cosmos.azure.com:10255) could not be opened');
      expect(result.stderr).not.toMatch(/ERR_MODULE_NOT_FOUND|Cannot find (package|module)/);
      expect(result.stderr + result.stdout).not.toContain('c2VjcmV0a2V5'); // the account key is never printed
    }, 30_000);

    it('runs a task of a sqlite: store the host made and holds open, with node:sqlite: InProgress, then Done', async () => {
      // As the local stack's container sees it: the data folder mounted at the same path, the URI unchanged.
      const path = join(scratch.path, 'data', 'jobs.db');
      const store = new SqliteJobStore(path);
      try {
        const id = newJobId();
        const job = await store.insert(newPendingJob(id, containerNameFor(id), 'hello from the host', new Date()));
        let exited = false;
        const running = runCmd(image, { MESSAGE: job.message, CONTAINER_NAME: job.containerName, DATABASE_URI: `sqlite:${path}`, WORK_SECONDS: '1' }).finally(
          () => (exited = true),
        );
        const seen: string[] = [];
        const look = async () => {
          const { state } = (await store.get(id))!;
          if (seen.at(-1) !== state) seen.push(state);
        };
        while (!exited) {
          await look();
          await sleep(20);
        }
        const result = await running;
        await look();
        // Nothing on stderr: no missing module, no "SQLite is an experimental feature" in the task's log.
        expect(result).toMatchObject({ code: 0, stderr: '' });
        expect(result.stdout).toContain(`job ${id}: Done: processed "hello from the host"`);
        expect(seen.filter((state) => state !== 'Pending')).toEqual(['InProgress', 'Done']);
        expect(await store.get(id)).toMatchObject({ state: 'Done', progress: 1, error: null, output: expect.stringContaining('hello from the host') });
        expect(await store.counts()).toEqual({ Pending: 0, InProgress: 0, Done: 1, Failed: 0 });
      } finally {
        await store.close();
      }
    }, 30_000);

    it('refuses a sqlite: store with a setting error on a Node without node:sqlite (the host\'s Node 20), since it ships no other driver', async () => {
      expect(process.getBuiltinModule?.('node:sqlite')).toBeUndefined();
      const result = await runCmd(image, { MESSAGE: 'x', CONTAINER_NAME: 'task-x', DATABASE_URI: `sqlite:${join(scratch.path, 'refused.db')}` }, process.execPath);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain('this build ships no SQLite driver that loads on Node v20');
      expect(result.stderr).toContain("it needs Node 22's node:sqlite or better-sqlite3");
    });
  });

  describe('the dashboard image', () => {
    let image: BuiltImage;
    beforeAll(() => {
      image = buildLikeDocker(join(context, 'apps/dashboard/Dockerfile'), context, join(scratch.path, 'dashboard'), NODE22!);
    }, 300_000);

    it('holds the bundle, its static assets and htmx, and runs as node', () => {
      expectOnlyWhatShips(image.appDir);
      expect(image.user).toBe('node');
      expect(filesBelow(image.appDir).filter((file) => file.startsWith('node_modules/')).every((file) => file.startsWith('node_modules/htmx.org/'))).toBe(true);
    });

    it('starts with the Azure settings and nothing reachable, stays up, and answers /healthz with 503 naming the parts', async () => {
      const port = await freePort();
      const [program, ...args] = image.cmd;
      expect(program).toBe('node');
      const child = spawn(NODE22!, args, {
        cwd: image.appDir,
        env: { ...image.env, ...AZURE_DASHBOARD_SETTINGS, PORT: String(port), HOST: '127.0.0.1' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      child.stdout.on('data', (chunk) => (output += chunk));
      child.stderr.on('data', (chunk) => (output += chunk));
      let exited = false;
      child.on('exit', () => (exited = true));
      try {
        const url = `http://127.0.0.1:${port}`;
        const health = await eventually(
          async () => (exited ? Promise.reject(new Error(`the server exited: ${output}`)) : fetch(`${url}/healthz`).catch(() => undefined)),
          30_000,
          'the dashboard to answer',
        );
        expect(health.status).toBe(503);
        const body = (await health.json()) as { ok: boolean; store: string; queue: string };
        expect(body.ok).toBe(false);
        expect(body.store).toMatch(/^error: /);
        expect(body.queue).toMatch(/^error: /);
        const asset = await fetch(`${url}/static/htmx.min.js`, { headers: { authorization: `Bearer ${TOKEN}` } });
        expect(asset.status).toBe(200);
        expect((await asset.text()).length).toBeGreaterThan(10_000);
        expect((await fetch(`${url}/static/dashboard.css`)).status).toBe(200);
        // The icon ships in the bundle, and a browser gets it before signing in.
        const icon = await fetch(`${url}/favicon.ico`);
        expect(icon.status).toBe(200);
        expect(icon.headers.get('content-type')).toContain('image/svg+xml');
        expect(exited).toBe(false);
        expect(output).not.toMatch(/ERR_MODULE_NOT_FOUND|Cannot find (package|module)/);
      } finally {
        child.kill('SIGTERM');
      }
    }, 60_000);
  });

  describe('the Function package', () => {
    let packageDir: string;
    beforeAll(async () => {
      // As the Pulumi program builds it, in a tree that has only the production dependencies.
      await run('npm', ['ci', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund'], {
        cwd: context,
        env: { ...process.env, PATH: `${join(NODE22!, '..')}:${process.env.PATH ?? ''}` },
      });
      const built = buildFunctionPackage(context, join(scratch.path, 'function-build'));
      // Alone, with the stand-in for the host's core module beside it (as the worker provides it).
      const host = join(scratch.path, 'function-host');
      packageDir = join(host, 'app');
      cpSync(built.dir, packageDir, { recursive: true });
      cpSync(join(ROOT, 'tests/fixtures/functions-core'), join(host, 'node_modules/@azure/functions-core'), { recursive: true });
    }, 300_000);

    it('holds host.json, package.json and the bundle, nothing native', () => {
      expectOnlyWhatShips(packageDir);
      expect(existsSync(join(packageDir, 'node_modules'))).toBe(false);
      expect(JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8'))).toMatchObject({ type: 'module', main: 'index.mjs' });
      expect(JSON.parse(readFileSync(join(packageDir, 'host.json'), 'utf8'))).toMatchObject({ version: '2.0' });
    });

    it('loads alone under Node 22 and registers its Service Bus triggers', async () => {
      const { stdout, stderr } = await run(NODE22!, [join(packageDir, '..', 'node_modules/@azure/functions-core/load-function-app.mjs'), packageDir], {
        cwd: packageDir,
        env: {},
      });
      expect(stderr).not.toMatch(/ERR_MODULE_NOT_FOUND|Cannot find (package|module)|test mode/);
      const loaded = JSON.parse(stdout) as { programmingModel: string; functions: { name: string; bindings: Record<string, Record<string, unknown>> }[] };
      expect(loaded.programmingModel).toBe('@azure/functions');
      const triggers = Object.fromEntries(
        loaded.functions.map((fn) => [fn.name, Object.values(fn.bindings).find((binding) => binding.direction === 'in')]),
      );
      expect(triggers).toEqual({
        'work-queue': expect.objectContaining({ type: 'serviceBusTrigger', queueName: '%QUEUE_NAME%', connection: 'ServiceBusConnection' }),
        'dead-letters': expect.objectContaining({ type: 'serviceBusTrigger', queueName: '%QUEUE_NAME%/$deadletterqueue', connection: 'ServiceBusConnection' }),
      });
      // No timer: an idle stack runs nothing.
      expect(loaded.functions.flatMap((fn) => Object.values(fn.bindings)).filter((binding) => binding.type === 'timerTrigger')).toEqual([]);
    }, 30_000);
  });
});
