#!/usr/bin/env node
// Bundles one app from its TypeScript sources into a folder that runs on Node 22 with no
// node_modules: what the images and the Function app package ship. And the worker as the local
// stack runs it (worker-local), which `npm run build` makes.
//   node scripts/bundle.mjs <worker|dashboard|spawner|worker-local> <outDir>
import { build } from 'esbuild';
import { cpSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

// Not shipped. better-sqlite3 is native, built for the host's Node: an artifact opens a
// `sqlite:` store with Node 22's built-in node:sqlite instead, and requires better-sqlite3 only
// to find it absent (apps/core/adapters/sqlite/driver-choice.ts). The rest are optional MongoDB
// driver features, required inside try/catch; the Functions host provides @azure/functions-core.
const EXTERNAL = [
  'better-sqlite3',
  'kerberos',
  '@mongodb-js/zstd',
  '@aws-sdk/credential-providers',
  'gcp-metadata',
  'snappy',
  'socks',
  'aws4',
  'mongodb-client-encryption',
  '@azure/functions-core',
];

const APPS = {
  worker: { entry: 'apps/worker/main.ts', name: 'worker' },
  dashboard: { entry: 'apps/dashboard/server.ts', name: 'server' },
  spawner: { entry: 'apps/spawner/functions/index.ts', name: 'index' },
  // One file, started once per task on this machine: CommonJS, which Node starts about 5 ms
  // sooner than an ES module, with better-sqlite3's JavaScript inside (its native addon is loaded
  // by its path, apps/core/adapters/sqlite/driver-better-sqlite3.ts); the MongoDB driver stays
  // in node_modules, loaded only for a mongodb:// store (npm run bench, "worker cold start").
  'worker-local': { entry: 'apps/worker/main.ts', name: 'worker', local: true },
};

/** What every bundle shares: one entry, bundled for Node, with its source map. */
function baseOptions(target, outDir) {
  return { entryPoints: { [target.name]: join(ROOT, target.entry) }, outdir: outDir, bundle: true, platform: 'node', sourcemap: true, logLevel: 'warning' };
}

/** The worker-local bundle: beside the repository's node_modules, for this machine's Node. */
async function bundleLocal(target, outDir) {
  await build({
    ...baseOptions(target, outDir),
    outExtension: { '.js': '.cjs' },
    target: 'node20',
    format: 'cjs',
    external: ['mongodb'],
    // CommonJS has no import.meta: the bundle's own URL stands in for the modules' own.
    define: { 'import.meta.url': '__bundleUrl' },
    banner: { js: "const __bundleUrl = require('node:url').pathToFileURL(__filename).href;" },
  });
  return outDir;
}

export async function bundle(app, outDir) {
  const target = APPS[app];
  if (!target) throw new Error(`unknown app "${app}": one of ${Object.keys(APPS).join(', ')}`);
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  if (target.local) return bundleLocal(target, outDir);
  const main = `${target.name}.mjs`;
  await build({
    ...baseOptions(target, outDir),
    outExtension: { '.js': '.mjs' },
    // Dynamic imports become chunks of their own, loaded only when reached.
    splitting: true,
    chunkNames: 'chunks/[name]-[hash]',
    target: 'node22',
    format: 'esm',
    external: EXTERNAL,
    // CommonJS dependencies inside an ES module bundle still call require().
    banner: { js: "import { createRequire as __edaRequire } from 'node:module'; const require = __edaRequire(import.meta.url);" },
  });
  const packageJson = { name: `event-driven-aci-${app}`, private: true, type: 'module', main };
  writeFileSync(join(outDir, 'package.json'), `${JSON.stringify(packageJson, null, 2)}\n`);
  if (app === 'dashboard') {
    // The layout the dashboard looks for: its static folder below the package root, htmx in node_modules.
    cpSync(join(ROOT, 'apps/dashboard/static'), join(outDir, 'apps/dashboard/static'), { recursive: true });
    cpSync(join(ROOT, 'node_modules/htmx.org/package.json'), join(outDir, 'node_modules/htmx.org/package.json'));
    cpSync(join(ROOT, 'node_modules/htmx.org/dist'), join(outDir, 'node_modules/htmx.org/dist'), { recursive: true });
  }
  if (app === 'spawner') cpSync(join(ROOT, 'apps/spawner/functions/host.json'), join(outDir, 'host.json'));
  return outDir;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [app, outDir] = process.argv.slice(2);
  if (!app || !outDir) {
    console.error('usage: node scripts/bundle.mjs <worker|dashboard|spawner|worker-local> <outDir>');
    process.exit(2);
  }
  await bundle(app, resolve(outDir));
  console.log(`bundled ${app} into ${resolve(outDir)}`);
}
