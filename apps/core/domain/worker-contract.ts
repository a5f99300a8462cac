import { SettingsError } from './errors.js';

export interface WorkerEnv {
  message: string;
  containerName: string;
  databaseUri: string;
  workSeconds: number;
}

/**
 * The worker contract, kept from the original system: a task's container gets MESSAGE (the
 * task's text), CONTAINER_NAME (its container's name) and, when it writes its own states,
 * DATABASE_URI (the store; for Cosmos without `ssl=true`). The platform sets these; a kind's
 * own environment may not.
 */
export const WORKER_VARIABLES = ['MESSAGE', 'CONTAINER_NAME', 'DATABASE_URI', 'SECRET_VARIABLES'] as const;

/**
 * Names (never values) of the variables in a container's environment that are secrets, comma-
 * separated: a kind that writes its own states masks their values in what it stores (its output
 * and failure reason), as the stack masks what it reads from the container's logs.
 */
export const SECRET_VARIABLES = 'SECRET_VARIABLES';

/** How long the built-in task waits, as the original did. */
export const DEFAULT_WORK_SECONDS = 5;

/**
 * The whole environment of one container: the kind's own values, then the contract's, which
 * nothing overrides. DATABASE_URI (full control of the database) only when `databaseUri` is given.
 */
export function workerEnvironment(
  task: { message: string; containerName: string },
  own: Record<string, string>,
  databaseUri: string | null,
  secretNames: readonly string[] = [],
): Record<string, string> {
  const secrets = [...secretNames, ...(databaseUri === null ? [] : ['DATABASE_URI'])];
  return {
    ...own,
    MESSAGE: task.message,
    CONTAINER_NAME: task.containerName,
    ...(databaseUri === null ? {} : { DATABASE_URI: databaseUri }),
    ...(secrets.length > 0 ? { [SECRET_VARIABLES]: secrets.join(',') } : {}),
  };
}

/** The values of the variables SECRET_VARIABLES names, by name. */
export function secretValuesIn(env: Record<string, string | undefined>): { name: string; value: string }[] {
  const names = (env[SECRET_VARIABLES] ?? '').split(',').map((name) => name.trim()).filter(Boolean);
  return names.flatMap((name) => (env[name] ? [{ name, value: env[name] }] : []));
}

/**
 * The worker's contract with whatever starts it (docs/design.md): MESSAGE, CONTAINER_NAME and
 * DATABASE_URI, each required and non-empty; WORK_SECONDS for the default task. Every problem
 * is reported at once, so a misconfigured runtime is fixed in one go.
 */
export function parseWorkerEnv(env: Record<string, string | undefined>): WorkerEnv {
  const problems: string[] = [];
  const required = (name: string): string => {
    const value = env[name];
    if (value === undefined) problems.push(`${name} is not set`);
    else if (value.trim() === '') problems.push(`${name} is empty`);
    return value ?? '';
  };
  const message = required('MESSAGE');
  const containerName = required('CONTAINER_NAME');
  const databaseUri = required('DATABASE_URI');
  let workSeconds = DEFAULT_WORK_SECONDS;
  const rawWork = env.WORK_SECONDS;
  if (rawWork !== undefined && rawWork.trim() !== '') {
    workSeconds = Number(rawWork);
    if (!Number.isFinite(workSeconds) || workSeconds < 0) {
      problems.push(`WORK_SECONDS must be a number of seconds, 0 or more (got "${rawWork}")`);
    }
  }
  if (problems.length > 0) throw new SettingsError(problems.join('; '));
  return { message, containerName, databaseUri, workSeconds };
}
