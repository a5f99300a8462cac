import { readFileSync } from 'node:fs';
import { isAbsolute, join, relative, resolve } from 'node:path';
import type { DockerEngine } from './docker-engine.js';
import { chooseBases } from './image-bases.js';
import { ensureBuiltImage, type BuildLog } from './image-build.js';
import { standInBase } from './standin-base.js';

/**
 * The images the local stack runs its tasks in (CONTAINERS=docker), built from the
 * repository's own Dockerfiles through the Engine API, on their real bases where the engine
 * can have them and on the stand-in base where it cannot. Each is tagged by its content: a
 * start with nothing changed builds nothing.
 */
export const WORKER_REPOSITORY = 'event-driven-aci/worker';
export const KIND_REPOSITORY_PREFIX = 'event-driven-aci/kind-';

/** The built-in worker's image (apps/worker/Dockerfile, the repository as its context). */
export function ensureWorkerImage(engine: DockerEngine, repoRoot: string, log: BuildLog, repository = WORKER_REPOSITORY): Promise<string> {
  return ensureImageOnBases(engine, repoRoot, { context: repoRoot, dockerfile: 'apps/worker/Dockerfile', repository }, log);
}

/** A kind's `build`, as kinds declare it: paths relative to the repository (or absolute). */
export interface KindBuild {
  /** The kind's name: its image is `event-driven-aci/kind-<name>`. */
  name: string;
  context: string;
  /** The Dockerfile; `<context>/Dockerfile` when not given. It must lie inside the context. */
  dockerfile?: string | null;
}

/** A kind's image, from its own Dockerfile and context (examples/wordcount, say). */
export function ensureKindImage(engine: DockerEngine, repoRoot: string, kind: KindBuild, log: BuildLog): Promise<string> {
  const context = resolve(repoRoot, kind.context);
  const dockerfile = kind.dockerfile ? resolve(repoRoot, kind.dockerfile) : join(context, 'Dockerfile');
  const inContext = relative(context, dockerfile);
  if (inContext.startsWith('..') || isAbsolute(inContext)) {
    throw new Error(`kind ${kind.name}: its Dockerfile ${dockerfile} is outside its build context ${context}`);
  }
  return ensureImageOnBases(engine, repoRoot, { context, dockerfile: inContext, repository: `${KIND_REPOSITORY_PREFIX}${kind.name}` }, log);
}

async function ensureImageOnBases(engine: DockerEngine, repoRoot: string, build: { context: string; dockerfile: string; repository: string }, log: BuildLog): Promise<string> {
  const dockerfileText = readFileSync(join(build.context, build.dockerfile), 'utf8');
  // Which bases, and why, is news only when something is built with them.
  const basesSaid: string[] = [];
  const buildArgs = await chooseBases(engine, dockerfileText, standInBase(engine, repoRoot, log), (line) => basesSaid.push(line));
  return ensureBuiltImage(engine, { ...build, buildArgs }, (line) => {
    for (const said of basesSaid.splice(0)) log(said);
    log(line);
  });
}
