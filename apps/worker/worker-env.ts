import { SettingsError } from '../core/domain/errors.js';

export interface WorkerEnv {
  message: string;
  containerName: string;
  databaseUri: string;
  workSeconds: number;
}

export const DEFAULT_WORK_SECONDS = 5;

/**
 * The worker's contract with whatever starts it (DESIGN.md): MESSAGE, CONTAINER_NAME and
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
