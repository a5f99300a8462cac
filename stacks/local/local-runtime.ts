import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DockerEngine, DockerUnreachableError } from '../../apps/core/adapters/docker/docker-engine.js';
import { ImageBuildError } from '../../apps/core/adapters/docker/image-build.js';
import { ensureKindImage, ensureWorkerImage } from '../../apps/core/adapters/docker/local-images.js';
import { DockerRuntime } from '../../apps/core/adapters/docker/docker-runtime.js';
import { pullIfMissing } from '../../apps/core/adapters/docker/image-pull.js';
import { ProcessRuntime } from '../../apps/core/adapters/process/runtime.js';
import { commandProblem } from '../../apps/core/adapters/process/command-check.js';
import type { ContainerEvents, ContainerMetrics, ContainerRuntime, ContainerSpec, FollowableLogs } from '../../apps/core/domain/container-runtime.port.js';
import { errorMessage } from '../../apps/core/domain/errors.js';
import { DEFAULT_KIND, KindCatalog, type TaskKind } from '../../apps/core/domain/task-kind.js';
import { sqlitePathFromUri } from '../../apps/core/domain/database-uri.js';
import type { LocalSettings } from './settings.js';
import { StartupError } from './start-up-error.js';
import { WORKER_ENTRY_IN_BUILD } from './worker-entry.js';

// Built layout: dist/stacks/local/ starts the worker below dist/, and builds images from the repository.
const WORKER_ENTRY = fileURLToPath(new URL(`../../${WORKER_ENTRY_IN_BUILD}`, import.meta.url));
const REPOSITORY_ROOT = fileURLToPath(new URL('../../..', import.meta.url));
// Compiled by `npm run build` (scripts/build-supervisor.mjs) when the machine has a C compiler.
const SUPERVISOR = fileURLToPath(new URL('../../supervisor/eda-supervise', import.meta.url));

/** What the local stack needs of a runtime beyond the port: its events, a count, a wake-up, and a stop of everything. */
export interface LocalRuntime extends ContainerRuntime, ContainerMetrics, ContainerEvents, Partial<FollowableLogs> {
  runningCount(): number;
  waitForExit(timeoutMs: number): Promise<void>;
  stopAll(): Promise<void>;
  close(): Promise<void>;
}

/** The runtime CONTAINERS names, and the kinds as it runs them. */
export interface OpenedRuntime {
  runtime: LocalRuntime;
  kinds: KindCatalog;
}

export async function openLocalRuntime(settings: LocalSettings, log: (line: string) => void): Promise<OpenedRuntime> {
  return settings.containers === 'docker' ? openDockerRuntime(settings, log) : openProcessRuntime(settings, log);
}

function openProcessRuntime(settings: LocalSettings, log: (line: string) => void): OpenedRuntime {
  const imageOnly = otherKinds(settings.kinds).filter((kind) => !kind.command);
  if (imageOnly.length > 0) {
    throw new StartupError(
      `${settings.kindsFile}: kind ${imageOnly.map((kind) => `"${kind.name}"`).join(', ')} has no "command" to run as a process: add one to the kinds file, or run its image with CONTAINERS=docker`,
    );
  }
  // A program that cannot run stops the start with one line, rather than failing every task.
  for (const kind of otherKinds(settings.kinds)) {
    const problem = commandProblem(kind.command!, { cwd: process.cwd(), env: { ...kind.env, ...kind.secretEnv } });
    if (problem) throw new StartupError(`${settings.kindsFile}: kind "${kind.name}": its command cannot run: ${problem}`);
  }
  const supervisor = existsSync(SUPERVISOR) ? SUPERVISOR : null;
  if (!supervisor) {
    log(`no compiled supervisor (${SUPERVISOR}: "npm run build" makes it with a C compiler): tasks run under /bin/sh, which reads a program's own exit code of 129–192 as a kill`);
  }
  const runtime = new ProcessRuntime({
    workerEntry: WORKER_ENTRY,
    dir: join(settings.dataDir, 'containers'),
    metricsIntervalMs: settings.metricsIntervalMs,
    supervisor,
    log,
  });
  return { runtime, kinds: settings.kinds };
}

/**
 * Every task in a container of its own on the local Docker engine: the worker image (built
 * from its Dockerfile when the engine lacks it) and each kind's image (built from its folder,
 * or as named). Without an engine the start stops with one line that says so.
 */
async function openDockerRuntime(settings: LocalSettings, log: (line: string) => void): Promise<OpenedRuntime> {
  const engine = new DockerEngine(settings.dockerSocket);
  try {
    await engine.ping();
  } catch (error) {
    if (!(error instanceof DockerUnreachableError)) throw error;
    throw new StartupError(`CONTAINERS=docker: ${error.message}: start the Docker engine, or leave CONTAINERS unset to run tasks as processes`, { cause: error });
  }
  // Before any build: a mistake in the kinds file is one line at once, not after minutes of building.
  const commandOnly = otherKinds(settings.kinds).find((kind) => !kind.image && !settings.kindBuilds.has(kind.name));
  if (commandOnly) {
    throw new StartupError(`${settings.kindsFile}: kind "${commandOnly.name}" has only a "command": CONTAINERS=docker runs each kind from an image, so give it "image" or "build" in the kinds file`);
  }
  try {
    // The kinds' images first: they are the user's, and a fault in one is news at once.
    const kinds = [];
    for (const kind of otherKinds(settings.kinds)) kinds.push({ ...kind, command: null, image: await kindImage(engine, kind, settings, log) });
    const workerImage = await ensureWorkerImage(engine, REPOSITORY_ROOT, log).catch((error: unknown) => {
      if (error instanceof ImageBuildError) throw new StartupError(`CONTAINERS=docker: the built-in worker's image did not build: ${error.summary}`, { cause: error });
      throw error;
    });
    const storeFolder = settings.databaseUri.startsWith('sqlite:') ? dirname(sqlitePathFromUri(settings.databaseUri)) : null;
    const runtime = await DockerRuntime.open({
      engine,
      stackId: stackIdOf(settings.dataDir),
      workerImage,
      dir: join(settings.dataDir, 'docker'),
      user: `${process.getuid?.() ?? 0}:${process.getgid?.() ?? 0}`,
      // A container given the store reaches its SQLite file at the same path: the worker needs no special case.
      bindsFor: (spec: ContainerSpec) => (storeFolder && Object.hasOwn(spec.env, 'DATABASE_URI') ? [storeFolder] : []),
      log,
    });
    return { runtime, kinds: new KindCatalog(settings.kinds.defaultKind, kinds) };
  } catch (error) {
    if (error instanceof StartupError) throw error;
    throw new StartupError(`CONTAINERS=docker: ${errorMessage(error)}`, { cause: error });
  }
}

async function kindImage(engine: DockerEngine, kind: TaskKind, settings: LocalSettings, log: (line: string) => void): Promise<string> {
  const build = settings.kindBuilds.get(kind.name);
  if (build) {
    return ensureKindImage(engine, REPOSITORY_ROOT, { name: kind.name, context: build.context, dockerfile: build.dockerfile }, log).catch((error: unknown) => {
      const why = error instanceof ImageBuildError ? error.summary : errorMessage(error);
      throw new StartupError(`${settings.kindsFile}: kind "${kind.name}": its image did not build: ${why}`, { cause: error });
    });
  }
  const image = kind.image!;
  const pulled = await pullIfMissing(engine, image, log);
  if (!pulled.ok) throw new StartupError(`${settings.kindsFile}: kind "${kind.name}": the Docker engine has no image ${image}, and could not pull it (${pulled.why}): pull or build it first, or give the kind a "build" folder`);
  return image;
}

function otherKinds(catalog: KindCatalog): TaskKind[] {
  return catalog.names().filter((name) => name !== DEFAULT_KIND).map((name) => catalog.get(name)!);
}

/** A stack is its data folder: the same folder after a restart finds the same containers. */
export function stackIdOf(dataDir: string): string {
  return createHash('sha256').update(dataDir).digest('hex').slice(0, 12);
}
