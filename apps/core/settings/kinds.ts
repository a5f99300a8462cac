import { existsSync, readFileSync } from 'node:fs';
import type { RetryPolicy } from '../domain/retry-policy.js';
import { DEFAULT_KIND, KindCatalog, parseKinds, type KindDefaults, type KindProgram, type TaskKind } from '../domain/task-kind.js';
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

function catalogFrom(raw: unknown, source: string, program: KindProgram, builtIn: TaskKind, read: SettingsReader): KindCatalog {
  const defaults: KindDefaults = { cpu: builtIn.cpu, memoryGb: builtIn.memoryGb, timeoutSeconds: builtIn.timeoutSeconds, retry: builtIn.retry };
  const { kinds, problems } = parseKinds(raw, source, program, defaults);
  for (const problem of problems) read.problem(problem);
  return new KindCatalog(builtIn, kinds);
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
  return catalogFrom(raw, name, 'image', builtIn, read);
}

/**
 * The kinds of the local stack, from a JSON file (`KINDS_FILE`): each kind's `command` runs
 * from the folder `npm start` runs in. The default file may be absent; a file named on purpose
 * must exist.
 */
export function readKindsFile(read: SettingsReader, path: string, named: boolean, builtIn: TaskKind): KindCatalog {
  if (!existsSync(path)) {
    if (named) read.problem(`KINDS_FILE ${path} does not exist`);
    return new KindCatalog(builtIn);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    read.problem(`KINDS_FILE ${path} is not JSON: ${(error as Error).message}`);
    return new KindCatalog(builtIn);
  }
  return catalogFrom(raw, path, 'command', builtIn, read);
}
