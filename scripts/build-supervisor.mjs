#!/usr/bin/env node
// Compiles the process runtime's supervisor (apps/core/adapters/process/supervisor.c) with the
// system's C compiler, for `npm run build`. Without a compiler (or when it fails) it says so and
// leaves no binary: the local stack then runs each task under /bin/sh, which cannot tell a program
// that exits 129–192 from one killed by a signal (apps/core/adapters/process/supervisor.ts).
//   node scripts/build-supervisor.mjs [outFile]     (default: dist/supervisor/eda-supervise)
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SOURCE = join(ROOT, 'apps/core/adapters/process/supervisor.c');
const out = resolve(process.argv[2] ?? join(ROOT, 'dist/supervisor/eda-supervise'));
const compiler = process.env.CC || 'cc';

mkdirSync(dirname(out), { recursive: true });
rmSync(out, { force: true });
// Static first: with no dynamic loader to run, each task's supervisor costs about a third less
// CPU (bench/README.md, "the supervisor"); dynamic where the C library has no static archive.
let result = spawnSync(compiler, ['-O2', '-Wall', '-static', '-o', out, SOURCE], { stdio: ['ignore', 'ignore', 'ignore'] });
if (result.error || result.status !== 0) result = spawnSync(compiler, ['-O2', '-Wall', '-o', out, SOURCE], { stdio: ['ignore', 'inherit', 'inherit'] });
if (result.error || result.status !== 0) {
  const why = result.error ? `${compiler}: ${result.error.message}` : `${compiler} exited with ${result.status}`;
  console.warn(`build-supervisor: no supervisor built (${why}): tasks will run under /bin/sh, which reads an exit code of 129–192 as a signal`);
} else {
  console.log(`build-supervisor: ${out}`);
}
