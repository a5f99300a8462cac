import { existsSync, readFileSync } from 'node:fs';
import type { RetryPolicy } from '../domain/retry-policy.js';
import { resolve } from 'node:path';
import { DEFAULT_KIND, KindCatalog, parseKinds, type DeclaredKind, type KindDefaults, type KindProgram, type TaskKind } from '../domain/task-kind.js';
import type { SettingsReader } from './reader.js';

/** The built-in worker's kind: it writes its own states, and waits WORK_SECONDS. */
export function defaultKind(settings: { cpu: number; memoryGb: number; timeoutSeconds: number; retry: RetryPolicy; workSeconds: number }): TaskKind {
  return {
    name: DEFAULT_KIND,
    command: null,
    image: null,
    registry: null,
    cpu: settings.cpu,
    memoryGb: settings.memoryGb,
    timeoutSeconds: settings.timeoutSeconds,
    retry: settings.retry,
    env: { WORK_SECONDS: String(settings.workSeconds) },
    secretEnv: {},
    store: true,
  };
}

function declaredIn(raw: unknown, source: string, program: KindProgram, builtIn: TaskKind, read: SettingsReader): DeclaredKind[] {
  const defaults: KindDefaults = { cpu: builtIn.cpu, memoryGb: builtIn.memoryGb, timeoutSeconds: builtIn.timeoutSeconds, retry: builtIn.retry };
  const { kinds, problems } = parseKinds(raw, source, program, defaults);
  for (const problem of problems) read.problem(problem);
  return kinds;
}

/**
 * The kinds in a setting holding JSON (the Function's and the dashboard's `KINDS`, written
 * by the Pulumi program): `{ "<name>": { "image": …, "cpu": …, … } }`. Absent: the built-in kind alone.
 */
export function readKindsSetting(read: SettingsReader, name: string, builtIn: TaskKind): KindCatalog {
  const text = read.string(name, '');
  if (!text) return new KindCatalog(builtIn);
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    read.problem(`${name} must be JSON: ${(error as Error).message}`);
    return new KindCatalog(builtIn);
  }
  return new KindCatalog(builtIn, declaredIn(raw, name, 'image', builtIn, read));
}

/** The local stack's kinds, and the folders their images build from (CONTAINERS=docker), by kind. */
export interface LocalKinds {
  catalog: KindCatalog;
  builds: Map<string, KindBuild>;
}

/** A folder with a Dockerfile, as an absolute path. */
export interface KindBuild {
  context: string;
  dockerfile: string | null;
}

/**
 * The kinds of the local stack, from a JSON file (`KINDS_FILE`): each kind's `command`, and
 * its `build` folder, are relative to the folder `npm start` runs in. The default file may be
 * absent; a file named on purpose must exist.
 */
export function readKindsFile(read: SettingsReader, path: string, named: boolean, builtIn: TaskKind): LocalKinds {
  const none: LocalKinds = { catalog: new KindCatalog(builtIn), builds: new Map() };
  if (!existsSync(path)) {
    if (named) read.problem(`KINDS_FILE ${path} does not exist`);
    return none;
  }
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    read.problem(`KINDS_FILE ${path} is not JSON: ${(error as Error).message}`);
    return none;
  }
  const kinds = declaredIn(raw, path, 'local', builtIn, read);
  const builds = new Map(kinds.flatMap(({ name, build }) => (build ? [[name, { context: resolve(build.context), dockerfile: build.dockerfile && resolve(build.dockerfile) }] as const] : [])));
  return { catalog: new KindCatalog(builtIn, kinds), builds };
}
