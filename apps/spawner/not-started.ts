import type { AttemptEnd } from '../core/domain/attempt-end.js';
import { containerNameFor } from '../core/domain/container-name.js';
import { deferralDelayMs, deferredWorkMessage, nextDeferral } from '../core/domain/deferral.js';
import type { SettleStore } from '../core/domain/job-store.port.js';
import { describeEnd, shouldRetry } from '../core/domain/retry-policy.js';
import { DEFAULT_KIND, startWaitSecondsOf, type TaskKind } from '../core/domain/task-kind.js';
import type { Deferral, WorkQueue } from '../core/domain/work-queue.port.js';

export interface NotStartedDeps {
  store: Pick<SettleStore, 'markFailed'>;
  queue: WorkQueue;
  /** The first wait of a deferral chain, in seconds; each later link waits twice as long. */
  deferSeconds?: number;
}

export interface NotStartedAttempt {
  jobId: string;
  message: string;
  attempt: number;
  /** The deferral chain the attempt's work message carried, if it was put off before. */
  deferral?: Deferral;
}

const DEFAULT_DEFER_SECONDS = 5;

/**
 * An attempt whose container did not start (END_RULES' `not-started`): while the kind's start
 * wait lasts and the cause is the platform's, the same attempt is put off, its work message
 * sent again for later as the next link of its deferral chain; else the task is Failed, its
 * reason saying it was `not-started` and why. Never counted against `maxAttempts`.
 * `retryAfterMs`: the least wait the refusal asked for (a quota window), if any.
 */
export async function putOffOrFail(
  attempt: NotStartedAttempt,
  kind: TaskKind,
  cause: string,
  platform: boolean,
  deps: NotStartedDeps,
  now: Date,
  retryAfterMs = 0,
): Promise<'deferred' | 'failed' | 'already-finished'> {
  const end: AttemptEnd = { kind: 'not-started', cause };
  const seconds = startWaitSecondsOf(kind);
  const since = new Date(attempt.deferral?.since ?? now.toISOString());
  if (platform && shouldRetry(kind.retry, attempt.attempt, end, { since, seconds, now })) {
    const next = nextDeferral(attempt.deferral, true, now);
    const delayMs = Math.max(retryAfterMs, deferralDelayMs(next.n, (deps.deferSeconds ?? DEFAULT_DEFER_SECONDS) * 1000));
    await deps.queue.send(deferredWorkMessage({ id: attempt.jobId, message: attempt.message }, attempt.attempt, next, new Date(now.getTime() + delayMs)));
    return 'deferred';
  }
  const setting = kind.name === DEFAULT_KIND ? 'TASK_TIMEOUT_SECONDS' : kind.startWaitSeconds === undefined ? "the kind's timeoutSeconds" : "the kind's startWaitSeconds";
  const why = platform ? `${describeEnd(end)}; still not started after ${seconds} s (${setting})` : describeEnd(end);
  const failed = await deps.store.markFailed(containerNameFor(attempt.jobId, attempt.attempt), now, `not-started: ${why}`);
  return failed ? 'failed' : 'already-finished';
}
