#!/usr/bin/env node
// npm run check:images: builds the worker and dashboard images from their real Dockerfiles
// and runs them as Azure runs them (the worker as an ACI container group runs it, the
// dashboard as App Service runs it), then looks through each image for what must not ship.
//   node scripts/check-images.mjs                 bases: the stand-in (scripts/make-standin-base.sh)
//   node scripts/check-images.mjs --real-bases    bases: the Dockerfiles' defaults (needs pulls)
// Needs a Docker engine; without one it says so and exits 2. Exits 1 when a check fails.
// Every container runs with --network none: nothing it could reach exists, by construction,
// and nothing it tries (Cosmos, Service Bus, the managed identity endpoint) leaves the machine.
import { execFile, spawn } from 'node:child_process';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const DOCKER = process.env.DOCKER || 'docker';

/** Patterns of credentials that must never be baked into an image (file contents, env, history). */
export const SECRET_PATTERNS = [
  { name: 'npm token', pattern: /\bnpm_[A-Za-z0-9]{36}\b/ },
  { name: 'npm auth setting', pattern: /_auth(Token)?\s*=\s*\S/ },
  { name: 'GitHub token', pattern: /\b(gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,})/ },
  // With its base64 body (raw, or in a source map's escaped text): docs that name the header are not keys.
  { name: 'private key', pattern: /-----BEGIN [A-Z ]*PRIVATE KEY-----(?:\s|\\[rn])+[A-Za-z0-9+/]{40}/ },
  { name: 'Azure account or access key', pattern: /\b(AccountKey|SharedAccessKey)=[A-Za-z0-9+/]{20,}/ },
  { name: 'credentials in a connection string', pattern: /\bmongodb(\+srv)?:\/\/[^:\s/@"'`]+:[^@\s/"'`]+@[a-z0-9.-]+/i },
  { name: 'Pulumi access token', pattern: /\bpul-[0-9a-f]{40}\b/ },
  { name: 'AWS access key', pattern: /\bAKIA[0-9A-Z]{16}\b/ },
];

/** Names whose presence alone is a leak: npm credentials and environment files. */
export function isSecretFileName(path) {
  const name = basename(path);
  return name === '.npmrc' || name === '.env' || name.startsWith('.env.');
}

/** What a file, a variable or a history line holds that looks like a credential. */
export function findSecrets(text) {
  return SECRET_PATTERNS.filter(({ pattern }) => pattern.test(text)).map(({ name }) => name);
}

/**
 * Native addons in the image. The stand-in base is glibc; the real runtime is Alpine (musl),
 * where an addon built for glibc crashes on load. So the final stage must hold none at all.
 */
export function findNativeModules(paths) {
  return paths.filter((path) => path.endsWith('.node'));
}

/**
 * Dev-only packages installed in the image or bundled into it (a source map's sources), by
 * the lockfile: a name in devDependencies may also be a production dependency's dependency
 * (fastify needs ajv), and only packages npm marks `dev` are left out by `npm ci --omit=dev`.
 */
export function findDevDependencies(paths, lockfile) {
  const devOnly = new Set(Object.entries(lockfile.packages ?? {}).filter(([, entry]) => entry.dev).map(([key]) => key));
  const found = new Set();
  for (const path of paths) {
    const key = lockfileKeyOf(path);
    if (key && devOnly.has(key)) found.add(key);
  }
  return [...found].sort();
}

/** The lockfile key of the package a file belongs to: .../node_modules/a/node_modules/@s/b/x.js is node_modules/a/node_modules/@s/b. */
export function lockfileKeyOf(path) {
  const segments = path.split('/');
  let key = null;
  for (let i = 0; i < segments.length - 1; i++) {
    if (segments[i] !== 'node_modules' || !segments[i + 1]) continue;
    const scoped = segments[i + 1].startsWith('@');
    const name = scoped ? segments.slice(i + 1, i + 3).join('/') : segments[i + 1];
    key = key === null ? `node_modules/${name}` : `${key}/node_modules/${name}`;
    i += scoped ? 2 : 1;
  }
  return key;
}

// ---------------------------------------------------------------------------------------
// Docker and process helpers

function run(command, args, { timeoutMs = 600_000, input } = {}) {
  return new Promise((resolvePromise) => {
    const child = execFile(command, args, { maxBuffer: 64 * 1024 * 1024, timeout: timeoutMs, cwd: ROOT }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : error.killed ? 'timeout' : (error.code ?? 1)) : 0;
      resolvePromise({ code, stdout: String(stdout), stderr: String(stderr) });
    });
    if (input !== undefined) child.stdin.end(input);
  });
}

async function docker(...args) {
  return run(DOCKER, args);
}

async function dockerOk(...args) {
  const result = await docker(...args);
  if (result.code !== 0) throw new Error(`docker ${args[0]} failed (${result.code}): ${(result.stderr || result.stdout).trim()}`);
  return result.stdout;
}

async function inspectImage(ref) {
  return JSON.parse(await dockerOk('image', 'inspect', ref))[0];
}

/** The paths of every file in an image, as `docker export` of a created container lists them. */
async function listImageFiles(image, containerName) {
  await dockerOk('create', '--name', containerName, image);
  try {
    return await new Promise((resolvePromise, reject) => {
      const exporter = spawn(DOCKER, ['export', containerName], { stdio: ['ignore', 'pipe', 'pipe'] });
      const lister = spawn('tar', ['-t'], { stdio: ['pipe', 'pipe', 'pipe'] });
      exporter.stdout.pipe(lister.stdin);
      let out = '';
      let err = '';
      lister.stdout.on('data', (chunk) => (out += chunk));
      exporter.stderr.on('data', (chunk) => (err += chunk));
      lister.stderr.on('data', (chunk) => (err += chunk));
      lister.on('close', (code) => (code === 0 ? resolvePromise(out.split('\n').filter(Boolean).map((p) => `/${p.replace(/^\.?\//, '')}`)) : reject(new Error(`listing the image's files failed: ${err.trim()}`))));
    });
  } finally {
    await docker('rm', '-f', containerName);
  }
}

/** Extracts the layers an image adds on top of its base (what its Dockerfile put there). */
async function extractAddedLayers(image, baseImage, workDir) {
  const [imageInfo, baseInfo] = await Promise.all([inspectImage(image), inspectImage(baseImage)]);
  const baseLayers = baseInfo.RootFS.Layers;
  const layers = imageInfo.RootFS.Layers;
  if (!baseLayers.every((layer, i) => layers[i] === layer)) throw new Error(`${image} is not built on ${baseImage}`);
  const archive = join(workDir, 'image.tar');
  await dockerOk('save', '-o', archive, image);
  await tarOk('-xf', archive, '-C', workDir, 'manifest.json');
  const manifest = JSON.parse(readFileSync(join(workDir, 'manifest.json'), 'utf8'))[0];
  const added = manifest.Layers.slice(baseLayers.length);
  const root = join(workDir, 'added');
  for (const [i, layer] of added.entries()) {
    await tarOk('-xf', archive, '-C', workDir, layer);
    const into = join(root, String(i));
    await run('mkdir', ['-p', into]);
    await tarOk('-xf', join(workDir, layer), '-C', into, '--no-same-owner', '--no-same-permissions');
  }
  rmSync(archive, { force: true });
  return root;
}

async function tarOk(...args) {
  const result = await run('tar', args);
  if (result.code !== 0) throw new Error(`tar ${args.join(' ')} failed: ${result.stderr.trim()}`);
}

function walkFiles(dir) {
  const files = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) files.push(...walkFiles(path));
    else if (entry.isFile()) files.push(path);
  }
  return files;
}

const seconds = (ms) => `${(ms / 1000).toFixed(1)} s`;
const megabytes = (bytes) => `${(bytes / 1e6).toFixed(1)} MB`;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const sha256 = (data) => createHash('sha256').update(data).digest('hex');
const tail = (text, lines = 30) => text.trim().split('\n').slice(-lines).join('\n');
/** What a process said on stderr, without stack frames: the message is what a reader needs. */
const said = (text, lines = 12) => text.trim().split('\n').filter((line) => !/^\s+at /.test(line)).slice(0, lines).join('\n');
const indent = (text) => text.trim().split('\n').map((line) => `      ${line}`).join('\n');

// ---------------------------------------------------------------------------------------
// The report

const results = [];

async function check(name, body) {
  const started = Date.now();
  try {
    const detail = await body();
    results.push({ name, ok: true });
    console.log(`  PASS ${name} (${seconds(Date.now() - started)})${detail ? `: ${detail}` : ''}`);
  } catch (error) {
    results.push({ name, ok: false });
    console.log(`  FAIL ${name} (${seconds(Date.now() - started)})\n${indent(error instanceof Error ? error.message : String(error))}`);
  }
}

/** Checks that could not run count as failed: a run that skipped them proved nothing. */
function notRun(names, why) {
  for (const name of names) {
    results.push({ name, ok: false });
    console.log(`  FAIL ${name}: not run, ${why}`);
  }
}

function expect(condition, message) {
  if (!condition) throw new Error(message);
}

// ---------------------------------------------------------------------------------------
// The checks

const RUN_ID = `${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
const containers = new Set();
const images = new Set();

function containerName(role) {
  const name = `eda-check-${role}-${RUN_ID}`;
  containers.add(name);
  return name;
}

/** A Cosmos DB for MongoDB connection string's shape, for an account that does not exist
 * (https://learn.microsoft.com/en-us/azure/service-connector/how-to-integrate-cosmos-db). */
function cosmosUri({ ssl }) {
  const account = `eda-check-${RUN_ID}`;
  return `mongodb://${account}:${randomBytes(16).toString('base64url')}@${account}.mongo.cosmos.azure.com:10255/?${ssl ? 'ssl=true&' : ''}replicaSet=globaldb&retrywrites=false&maxIdleTimeMS=120000&appName=@${account}@`;
}

async function build(app, bases) {
  const tag = `event-driven-aci/check-${app}:${RUN_ID}`;
  const args = ['build', '-f', `apps/${app}/Dockerfile`];
  if (bases) args.push('--build-arg', `BUILD_IMAGE=${bases}`, '--build-arg', `RUNTIME_IMAGE=${bases}`);
  // The build stage is tagged too, so that removing the tags removes every layer this run made.
  for (const [ref, target] of [[`${tag}-build`, ['--target', 'build']], [tag, []]]) {
    const result = await run(DOCKER, [...args, ...target, '-t', ref, '.']);
    if (result.code !== 0) throw new Error(`docker build ${ref} failed (${result.code}):\n${tail(result.stdout + result.stderr)}`);
    images.add(ref);
  }
  return tag;
}

async function checkContents(app, image, runtimeBase, lockfile) {
  const workDir = mkdtempSync(join(tmpdir(), `eda-check-${app}-`));
  try {
    const files = await listImageFiles(image, containerName(`${app}-files`));
    await check(`${app}: no native module (.node) in the final stage`, async () => {
      const natives = findNativeModules(files);
      expect(natives.length === 0, `native addons would crash on Alpine's musl: ${natives.join(', ')}`);
      return `${files.length} files looked at`;
    });

    const added = await extractAddedLayers(image, runtimeBase, workDir);
    const addedFiles = walkFiles(added);
    const mapSources = addedFiles
      .filter((path) => path.endsWith('.map'))
      .flatMap((path) => JSON.parse(readFileSync(path, 'utf8')).sources ?? []);
    await check(`${app}: no dev dependency, installed or bundled`, async () => {
      const found = findDevDependencies([...files, ...mapSources], lockfile);
      expect(found.length === 0, `dev-only packages in the image: ${found.join(', ')}`);
      return `${files.length} files and ${mapSources.length} bundled sources looked at`;
    });

    await check(`${app}: no .npmrc, .env or credential baked in`, async () => {
      const problems = files.filter(isSecretFileName).map((path) => `file ${path}`);
      for (const path of addedFiles) {
        for (const what of findSecrets(readFileSync(path).toString('latin1'))) problems.push(`${what} in ${path.slice(added.length).replace(/^\/\d+/, '')}`);
      }
      const info = await inspectImage(image);
      for (const variable of info.Config.Env ?? []) {
        for (const what of findSecrets(variable)) problems.push(`${what} in ENV ${variable.split('=')[0]}`);
      }
      for (const line of (await dockerOk('history', '--no-trunc', '--format', '{{.CreatedBy}}', image)).split('\n')) {
        for (const what of findSecrets(line)) problems.push(`${what} in the image history`);
      }
      expect(problems.length === 0, problems.join('\n'));
      const bytes = addedFiles.reduce((sum, path) => sum + statSync(path).size, 0);
      return `${addedFiles.length} files the Dockerfile added (${megabytes(bytes)}) read`;
    });
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
}

/** A container run to its end, as ACI runs a group with restartPolicy Never. */
async function runToExit(image, role, env, { timeoutMs = 90_000, command = [] } = {}) {
  const name = containerName(role);
  const args = ['run', '--rm', '--name', name, '--network', 'none'];
  for (const [key, value] of Object.entries(env)) args.push('-e', `${key}=${value}`);
  const started = Date.now();
  const result = await run(DOCKER, [...args, image, ...command], { timeoutMs });
  if (result.code === 'timeout') await docker('rm', '-f', name);
  return { ...result, ms: Date.now() - started };
}

async function checkWorker(image) {
  await check('worker: runs as a non-root user', async () => {
    const user = (await inspectImage(image)).Config.User;
    expect(user && user !== 'root' && !/^0(:|$)/.test(user), `the image's USER is "${user || '(none: root)'}"`);
    const result = await runToExit(image, 'worker-user', {}, {
      command: ['node', '-e', 'process.stdout.write(JSON.stringify({ uid: process.getuid(), name: require("os").userInfo().username }))'],
    });
    expect(result.code === 0, `could not start node in the image (${result.code}): ${result.stderr.trim()}`);
    const { uid, name } = JSON.parse(result.stdout);
    expect(uid !== 0, 'the process runs as uid 0');
    return `USER ${user}, uid ${uid} (${name})`;
  });

  await check('worker: exits 2 on a bad environment', async () => {
    // What ACI would run if the spawner passed nothing: the worker must refuse with every missing name.
    const result = await runToExit(image, 'worker-badenv', {});
    const got = `exit ${result.code}, stderr (stack frames left out):\n${said(result.stderr)}`;
    expect(result.code === 2, `expected exit 2; got ${got}`);
    for (const variable of ['MESSAGE', 'CONTAINER_NAME', 'DATABASE_URI']) {
      expect(result.stderr.includes(`${variable} is not set`), `stderr does not name ${variable}; got ${got}`);
    }
    return result.stderr.trim();
  });

  await check('worker: fails cleanly against an unreachable Cosmos-style URI', async () => {
    const containerNameEnv = `task-check-${RUN_ID}`;
    const result = await runToExit(image, 'worker-cosmos', {
      MESSAGE: 'hello from check:images',
      CONTAINER_NAME: containerNameEnv,
      // The worker's URI has ssl removed (docs/design.md); the worker turns TLS on by itself.
      DATABASE_URI: cosmosUri({ ssl: false }),
      WORK_SECONDS: '0',
    });
    const got = `exit ${result.code} after ${seconds(result.ms)}, stderr (stack frames left out):\n${said(result.stderr)}`;
    expect(result.code !== 'timeout', `still running after ${seconds(result.ms)}; stderr:\n${said(result.stderr)}`);
    expect(result.code === 1, `expected exit 1 (the store failed); got ${got}`);
    expect(result.stderr.includes(`worker ${containerNameEnv}: `), `stderr does not say which container failed; got ${got}`);
    expect(!/^\s+at /m.test(result.stderr), `a stack trace instead of a message; got ${got}`);
    return `exit 1 after ${seconds(result.ms)}: ${result.stderr.trim()}`;
  });
}

/** Run inside the dashboard's container: App Service's side of the conversation. */
const DASHBOARD_PROBE = String.raw`
const crypto = require('node:crypto');
const fs = require('node:fs');
const http = require('node:http');
const [token, hostName, ...assets] = process.argv.slice(1);
const auth = { authorization: 'Bearer ' + token };
// Through App Service's front end a request names the site's host, not the container's address.
function get(path, headers = {}) {
  return new Promise((resolve) => {
    const request = http.get({ host: '127.0.0.1', port: 8080, path, headers: { host: hostName, ...headers }, timeout: 10000 }, (response) => {
      const chunks = [];
      response.on('data', (chunk) => chunks.push(chunk));
      response.on('end', () => {
        const body = Buffer.concat(chunks);
        resolve({ status: response.statusCode, type: response.headers['content-type'], sha256: crypto.createHash('sha256').update(body).digest('hex'), text: body.length <= 2048 ? body.toString() : undefined });
      });
    });
    request.on('timeout', () => request.destroy(new Error('no answer within 10 s')));
    request.on('error', (error) => resolve({ error: error.code || error.message }));
  });
}
function pid1() {
  const uid = Number(/^Uid:\s+(\d+)/m.exec(fs.readFileSync('/proc/1/status', 'utf8'))[1]);
  const entry = fs.readFileSync('/etc/passwd', 'utf8').split('\n').map((l) => l.split(':')).find((f) => Number(f[2]) === uid);
  return { uid, name: entry ? entry[0] : null, command: fs.readFileSync('/proc/1/cmdline', 'utf8').split('\0').filter(Boolean).join(' ') };
}
function listensOnAllInterfaces(port) {
  const hex = port.toString(16).toUpperCase().padStart(4, '0');
  return ['/proc/net/tcp', '/proc/net/tcp6'].some((file) => {
    try {
      return fs.readFileSync(file, 'utf8').split('\n').slice(1).some((line) => {
        const [, local, , state] = line.trim().split(/\s+/);
        return state === '0A' && local !== undefined && /^0+:/.test(local) && local.endsWith(':' + hex);
      });
    } catch { return false; }
  });
}
(async () => {
  const report = { health: await get('/healthz') };
  if (assets.length > 0) {
    report.login = await get('/login');
    report.gate = await get('/static/htmx.min.js');
    report.assets = {};
    for (const name of assets) report.assets[name] = await get('/static/' + name, auth);
    report.pid1 = pid1();
    report.listening = listensOnAllInterfaces(8080);
  }
  process.stdout.write(JSON.stringify(report));
})();
`;

/** The dashboard's static assets and the files they must be, byte for byte. */
const DASHBOARD_ASSETS = {
  'htmx.min.js': 'node_modules/htmx.org/dist/htmx.min.js',
  'hx-upsert.min.js': 'node_modules/htmx.org/dist/ext/hx-upsert.min.js',
  'dashboard.js': 'apps/dashboard/static/dashboard.js',
  'dashboard.css': 'apps/dashboard/static/dashboard.css',
};

// Longer than the store's server selection (10 s in MongoJobStore), so an exit once the
// store gives up is seen, not missed.
const DASHBOARD_STAYS_UP_MS = 20_000;
const DASHBOARD_START_TIMEOUT_MS = 45_000;
const DASHBOARD_RUNNING_CHECKS = [
  'dashboard: runs as user node, listening on every interface at 8080',
  'dashboard: /healthz answers 503 naming the parts',
  'dashboard: its static assets and htmx load (with the token; refused without)',
  `dashboard: stays up and unhealthy ${seconds(DASHBOARD_STAYS_UP_MS)} after start`,
];

async function checkDashboard(image) {
  const token = randomBytes(24).toString('hex');
  const name = containerName('dashboard');
  const siteName = `app-eda-check-${RUN_ID}`;
  const hostName = `${siteName}.azurewebsites.net`;
  // The app settings the Pulumi program writes (stacks/azure/azure-stack.ts), for resources
  // that do not exist; App Service passes app settings as environment variables and sends
  // traffic to WEBSITES_PORT (https://learn.microsoft.com/en-us/azure/app-service/configure-custom-container),
  // and adds variables of its own, among them the site's host name
  // (https://learn.microsoft.com/en-us/azure/app-service/reference-app-settings).
  const settings = {
    WEBSITE_SITE_NAME: siteName,
    WEBSITE_HOSTNAME: hostName,
    WEBSITE_RESOURCE_GROUP: `rg-eda-check-${RUN_ID}`,
    DATABASE_URI: cosmosUri({ ssl: true }),
    DASHBOARD_TOKEN: token,
    QUEUE: 'servicebus',
    QUEUE_NAME: 'work',
    SERVICEBUS_NAMESPACE: `sb-eda-check-${RUN_ID}.servicebus.windows.net`,
    CONTAINERS: 'aci',
    AZURE_CLIENT_ID: randomUUID(),
    AZURE_SUBSCRIPTION_ID: randomUUID(),
    RESOURCE_GROUP: `rg-eda-check-${RUN_ID}`,
    COST_LABEL: 'ACI',
    PRICE_VCPU_SECOND: '0.0000135',
    PRICE_GB_SECOND: '0.0000015',
    WEBSITES_PORT: '8080',
  };
  const args = ['run', '-d', '--name', name, '--network', 'none'];
  for (const [key, value] of Object.entries(settings)) args.push('-e', `${key}=${value}`);
  const probe = async (withAssets) => {
    const result = await docker('exec', name, 'node', '-e', DASHBOARD_PROBE, token, hostName, ...(withAssets ? Object.keys(DASHBOARD_ASSETS) : []));
    return result.code === 0 ? JSON.parse(result.stdout) : null;
  };
  const state = async () => JSON.parse(await dockerOk('inspect', '--format', '{{json .State}}', name));
  const exited = async (s) => {
    const logs = await docker('logs', name);
    return `the dashboard exited (code ${s.ExitCode}); its log (stack frames left out):\n${said(logs.stdout + logs.stderr)}`;
  };

  let report = null;
  let startedAt = 0;
  await check('dashboard: starts with the Azure settings and nothing reachable, and answers', async () => {
    await dockerOk(...args, image);
    startedAt = Date.now();
    while (Date.now() - startedAt < DASHBOARD_START_TIMEOUT_MS) {
      const s = await state();
      if (!s.Running) throw new Error(await exited(s));
      report = await probe(true);
      if (report && !report.health.error) return `answered after ${seconds(Date.now() - startedAt)}`;
      await sleep(1000);
    }
    throw new Error(`no answer on :8080 within ${seconds(DASHBOARD_START_TIMEOUT_MS)}; last try: ${JSON.stringify(report?.health)}`);
  });
  if (!report || report.health.error) {
    notRun(DASHBOARD_RUNNING_CHECKS, 'the dashboard never answered');
    return;
  }

  await check(DASHBOARD_RUNNING_CHECKS[0], async () => {
    const user = (await inspectImage(image)).Config.User;
    expect(user === 'node', `the image's USER is "${user || '(none: root)'}"`);
    expect(report.pid1.name === 'node' && report.pid1.uid !== 0, `PID 1 (${report.pid1.command}) runs as uid ${report.pid1.uid} (${report.pid1.name})`);
    expect(report.listening, 'nothing listens on 0.0.0.0:8080 or [::]:8080, where App Service sends traffic');
    return `PID 1 "${report.pid1.command}" as ${report.pid1.name} (uid ${report.pid1.uid})`;
  });

  await check(DASHBOARD_RUNNING_CHECKS[1], async () => {
    const { status, text } = report.health;
    const body = text ? JSON.parse(text) : {};
    expect(status === 503, `expected 503; got ${status} ${text}`);
    expect(body.ok === false, `expected "ok": false; got ${text}`);
    for (const part of ['store', 'queue']) {
      expect(typeof body[part] === 'string' && body[part] !== 'ok', `expected "${part}" to name its failure; got ${text}`);
    }
    return text;
  });

  await check(DASHBOARD_RUNNING_CHECKS[2], async () => {
    expect(report.login.status === 200 && /text\/html/.test(report.login.type ?? ''), `GET /login: ${report.login.status} ${report.login.type}`);
    expect(report.gate.status === 401, `GET /static/htmx.min.js without the token: expected 401, got ${report.gate.status}`);
    for (const [asset, source] of Object.entries(DASHBOARD_ASSETS)) {
      const got = report.assets[asset];
      const want = sha256(readFileSync(join(ROOT, source)));
      expect(got.status === 200, `GET /static/${asset}: ${got.status ?? got.error} ${got.text ?? ''}`);
      expect(got.sha256 === want, `GET /static/${asset} is not ${source}`);
    }
    return Object.keys(DASHBOARD_ASSETS).join(', ');
  });

  await check(DASHBOARD_RUNNING_CHECKS[3], async () => {
    await sleep(Math.max(0, startedAt + DASHBOARD_STAYS_UP_MS - Date.now()));
    const s = await state();
    if (!s.Running) throw new Error(await exited(s));
    const later = await probe(false);
    expect(later?.health.status === 503, `then /healthz answered ${JSON.stringify(later?.health)}`);
    return later.health.text;
  });
}

/**
 * The example task kind (examples/wordcount), built from its own Dockerfile and run as ACI
 * runs a kind that knows nothing of the store: MESSAGE and CONTAINER_NAME alone, no network.
 */
async function checkExampleKind(standIn) {
  console.log('\nexample kind image (examples/wordcount/Dockerfile)');
  const tag = `event-driven-aci/check-kind-wordcount:${RUN_ID}`;
  let built = false;
  await check('wordcount kind: builds from its Dockerfile', async () => {
    const args = ['build', '-f', 'examples/wordcount/Dockerfile', '-t', tag];
    if (standIn) args.push('--build-arg', `BASE_IMAGE=${standIn}`);
    const result = await run(DOCKER, [...args, 'examples/wordcount']);
    if (result.code !== 0) throw new Error(`docker build failed (${result.code}):\n${tail(result.stdout + result.stderr)}`);
    images.add(tag);
    built = true;
    return tag;
  });
  if (!built) return notRun(['wordcount kind: runs and prints its output'], 'the image did not build');
  await check('wordcount kind: runs as a user that is not root, reports progress and prints its output', async () => {
    const result = await runToExit(tag, 'kind-wordcount', { MESSAGE: 'one two three\nfour', CONTAINER_NAME: 'task-check' });
    expect(result.code === 0, `exited ${result.code}: ${result.stderr.trim()}`);
    expect(result.stdout.includes('progress 0.5'), `no progress line in:\n${result.stdout}`);
    expect(result.stdout.trim().endsWith('{"output": "4 words on 2 lines"}'), `unexpected output:\n${result.stdout}`);
    const user = (await inspectImage(tag)).Config.User;
    expect(user && user !== 'root' && !/^0(:|$)/.test(user), `the image's USER is "${user || '(none: root)'}"`);
    return `USER ${user}, ${result.stdout.trim().split('\n').pop()}`;
  });
}

// ---------------------------------------------------------------------------------------

async function cleanUp() {
  for (const name of containers) await docker('rm', '-f', name);
  const tags = [...images];
  if (tags.length > 0) await docker('image', 'rm', ...tags);
}

function dockerfileDefault(app, arg) {
  const match = new RegExp(`^ARG ${arg}=(\\S+)`, 'm').exec(readFileSync(join(ROOT, `apps/${app}/Dockerfile`), 'utf8'));
  if (!match) throw new Error(`apps/${app}/Dockerfile has no default for ${arg}`);
  return match[1];
}

async function main() {
  const realBases = process.argv.includes('--real-bases');
  const engine = await docker('info', '--format', '{{.ServerVersion}} {{.Driver}}');
  if (engine.code !== 0) {
    console.error(
      `check:images needs a Docker engine, and none answers: ${engine.code === 'ENOENT' ? `there is no '${DOCKER}' command` : `'${DOCKER} info' said: ${(engine.stderr || engine.stdout).trim().split('\n')[0]}`}.\n` +
        'Start one (Debian: apt-get install docker.io busybox-static, then dockerd), or let CI run it: .ci/run starts one.',
    );
    process.exit(2);
  }
  console.log(`check:images: Docker ${engine.stdout.trim()}`);
  const started = Date.now();
  const lockfile = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8'));

  let standIn = null;
  if (!realBases) {
    const base = await run('bash', [join(ROOT, 'scripts/make-standin-base.sh')]);
    if (base.code !== 0) {
      console.error(`check:images: the stand-in base could not be made:\n${base.stderr.trim()}`);
      process.exit(1);
    }
    standIn = base.stdout.trim();
    console.log(`bases: the stand-in ${standIn} (scripts/make-standin-base.sh), given as BUILD_IMAGE and RUNTIME_IMAGE`);
  } else {
    console.log('bases: the Dockerfiles\' defaults');
  }

  const interrupt = () => {
    cleanUp().finally(() => process.exit(130));
  };
  process.once('SIGINT', interrupt);
  process.once('SIGTERM', interrupt);

  try {
    for (const app of ['worker', 'dashboard']) {
      console.log(`\n${app} image (apps/${app}/Dockerfile)`);
      let image = null;
      await check(`${app}: builds from the real Dockerfile`, async () => {
        image = await build(app, standIn);
        return image;
      });
      if (!image) {
        notRun([`${app}: what it contains, and how it runs`], 'the image did not build');
        continue;
      }
      const runtimeBase = standIn ?? dockerfileDefault(app, 'RUNTIME_IMAGE');
      const [size, baseSize] = await Promise.all([inspectImage(image), inspectImage(runtimeBase)]).then((infos) => infos.map((i) => i.Size));
      console.log(`  size: ${megabytes(size)} (${megabytes(size - baseSize)} on top of ${megabytes(baseSize)} of base)`);
      await checkContents(app, image, runtimeBase, lockfile).catch((error) =>
        notRun([`${app}: what the image contains`], `its files could not be read: ${error instanceof Error ? error.message : error}`),
      );
      if (app === 'worker') await checkWorker(image);
      else await checkDashboard(image);
    }
    await checkExampleKind(standIn);
  } finally {
    await cleanUp();
  }

  const failed = results.filter((r) => !r.ok).length;
  console.log(`\ncheck:images took ${seconds(Date.now() - started)}`);
  console.log(`images: ${results.length - failed} passed, ${failed} failed`);
  process.exitCode = failed > 0 ? 1 : 0;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
