#!/usr/bin/env node
// Bundles one app from its TypeScript sources into a folder that runs on Node 22 with no
// node_modules: what the images and the Function app package ship.
//   node scripts/bundle.mjs <worker|dashboard|spawner> <outDir>
import { build } from 'esbuild';
import { cpSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

// Loaded only when used: SQLite is for the local stack (DATABASE_URI sqlite:), the rest are
// optional MongoDB driver features; the Functions host provides @azure/functions-core.
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
  worker: { entry: 'apps/worker/main.ts', out: 'worker.mjs' },
  dashboard: { entry: 'apps/dashboard/server.ts', out: 'server.mjs' },
  spawner: { entry: 'apps/spawner/functions/index.ts', out: 'index.mjs' },
};

export async function bundle(app, outDir) {
  const target = APPS[app];
  if (!target) throw new Error(`unknown app "${app}": one of ${Object.keys(APPS).join(', ')}`);
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  await build({
    entryPoints: [join(ROOT, target.entry)],
    outfile: join(outDir, target.out),
    bundle: true,
    platform: 'node',
    target: 'node22',
    format: 'esm',
    sourcemap: true,
    external: EXTERNAL,
    // CommonJS dependencies inside an ES module bundle still call require().
    banner: { js: "import { createRequire as __edaRequire } from 'node:module'; const require = __edaRequire(import.meta.url);" },
    logLevel: 'warning',
  });
  const packageJson = { name: `event-driven-aci-${app}`, private: true, type: 'module', main: target.out };
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
    console.error('usage: node scripts/bundle.mjs <worker|dashboard|spawner> <outDir>');
    process.exit(2);
  }
  await bundle(app, resolve(outDir));
  console.log(`bundled ${app} into ${resolve(outDir)}`);
}
