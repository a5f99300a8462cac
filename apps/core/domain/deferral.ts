import type { Job } from './job.js';
import type { Deferral, OutgoingMessage, WorkMessageBody } from './work-queue.port.js';

/**
 * Work put off for later (at capacity, or a start the platform refused or failed): sent again,
 * scheduled, as the next link of its attempt's chain. The id is fixed by the job, the attempt
 * and the link, so a killed invocation that already sent it, or two looks at one failure,
 * leave one chain: the queue drops the repeat as a duplicate.
 */
export function deferralMessageId(jobId: string, attempt: number, n: number): string {
  return `${jobId}.deferred.${attempt}.${n}`;
}

/** The first wait; each further link of a chain waits twice as long, up to MAX. */
export const DEFERRAL_MAX_MS = 5 * 60_000;

export function deferralDelayMs(n: number, firstMs: number): number {
  return Math.min(DEFERRAL_MAX_MS, Math.max(firstMs, 1000) * 2 ** Math.min(n - 1, 20));
}

/**
 * The next link after `previous`. `platform`: this wait is the platform's refusal or failure of
 * the start, from which the start wait is counted (kept from the first such refusal on).
 */
export function nextDeferral(previous: Deferral | undefined, platform: boolean, now: Date): Deferral {
  const since = previous?.since ?? (platform ? now.toISOString() : undefined);
  return since === undefined ? { n: (previous?.n ?? 0) + 1 } : { n: (previous?.n ?? 0) + 1, since };
}

/** The deferred work message of attempt `attempt`, with `deferral` its link, sent for `at`. */
export function deferredWorkMessage(job: Pick<Job, 'id' | 'message'>, attempt: number, deferral: Deferral, at: Date): OutgoingMessage {
  const body: WorkMessageBody = { jobId: job.id, message: job.message, ...(attempt > 1 ? { attempt } : {}), deferral };
  return { messageId: deferralMessageId(job.id, attempt, deferral.n), body, scheduledAt: at };
}
