import type { AttemptEnd } from '../core/domain/attempt-end.js';
import type { Job } from '../core/domain/job.js';
import { describeEnd } from '../core/domain/retry-policy.js';
import { DEFAULT_KIND, type TaskKind } from '../core/domain/task-kind.js';

/** When the current attempt began to wait for its start: the end of the attempt before it, or the task's enqueue. */
export function waitingSince(job: Job): Date {
  const previous = job.priorAttempts[job.priorAttempts.length - 1];
  return new Date(previous?.finishedAt ?? job.enqueuedAt);
}

/**
 * The pre-start bound (attempt-end.ts: `not-started` is deferred under its own bound, never
 * `maxAttempts`): the kind's `startWaitSeconds` where it has one, else its timeout.
 */
export function startWaitSecondsOf(kind: TaskKind): number {
  const own = (kind as TaskKind & { startWaitSeconds?: number }).startWaitSeconds;
  return typeof own === 'number' && own > 0 ? own : kind.timeoutSeconds;
}

/**
 * The reason a task is Failed when it was kept out (a quota, capacity) past its start wait,
 * or null while it may still wait. `cause` is what kept it out this time, naming the quota.
 */
export function keptOutReason(job: Job, kind: TaskKind, cause: string, now: Date): string | null {
  const bound = startWaitSecondsOf(kind);
  const waited = (now.getTime() - waitingSince(job).getTime()) / 1000;
  if (waited <= bound) return null;
  const setting = kind.name === DEFAULT_KIND ? 'TASK_TIMEOUT_SECONDS' : "the kind's startWaitSeconds (else its timeoutSeconds)";
  const end: AttemptEnd = { kind: 'not-started', cause };
  return `${describeEnd(end)}; still not started after ${Math.round(waited)} s, past its start wait of ${bound} s (${setting})`;
}
