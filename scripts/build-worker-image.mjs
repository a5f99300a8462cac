#!/usr/bin/env node
// Builds the built-in worker's image on the engine at DOCKER_HOST with the product's own build
// code (dist/, as `CONTAINERS=docker npm start` builds it): its bases, its content tag, the host's
// network for its RUN steps, its progress printed as it goes. Exits 1 with the failure's one line
// (the step and its likely cause). Used by scripts/check-bridge-none-build.sh; needs `npm run build`.
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const built = (path) => join(ROOT, 'dist', path);
if (!existsSync(built('apps/core/adapters/docker/local-images.js'))) {
  console.error('the build is missing: run "npm run build" first');
  process.exit(2);
}
const { DockerEngine } = await import(built('apps/core/adapters/docker/docker-engine.js'));
const { ensureWorkerImage } = await import(built('apps/core/adapters/docker/local-images.js'));
const { ImageBuildError } = await import(built('apps/core/adapters/docker/image-build.js'));

const engine = new DockerEngine(DockerEngine.socketFromDockerHost(process.env.DOCKER_HOST));
const started = Date.now();
try {
  const tag = await ensureWorkerImage(engine, ROOT, (line) => console.log(line));
  console.log(`the worker image is ${tag} (${((Date.now() - started) / 1000).toFixed(0)} s)`);
} catch (error) {
  console.error(`the worker image did not build: ${error instanceof ImageBuildError ? error.summary : error?.message ?? error}`);
  process.exit(1);
}
