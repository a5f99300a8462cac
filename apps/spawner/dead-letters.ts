import { containerNameFor } from '../core/domain/container-name.js';
import { errorMessage } from '../core/domain/errors.js';
import type { DeadLetter, DeadLetterCopyBody, WorkQueue } from '../core/domain/work-queue.port.js';
import { recordPoison } from './poison.js';
import { MalformedMessageError, parseQueueMessage } from './queue-messages.js';
import { restartWatch, type WatchDeps, type WatchOutcome } from './watch.js';

export type DeadLetterOutcome = 'failed' | 'already-finished' | 'unknown-job' | 'poison' | WatchOutcome;
/** `copied`: it could not be settled now, and a scheduled copy will try again; `given-up`: nor for 24 hours. */
export type DeadLetterHandling = DeadLetterOutcome | 'copied' | 'given-up';

/** What a dead letter carries, on every queue (the lock is the caller's to settle). */
export type DeadLetterInfo = Pick<DeadLetter, 'messageId' | 'body' | 'deliveryCount' | 'enqueuedAt' | 'reason' | 'description'>;

/**
 * One dead letter, recorded where a user sees it: work that could not be started fails its
 * task with the dead letter's reason (and the last dispatch error); a watch that kept failing
 * restarts its chain; anything else is recorded as poison. The caller then removes the letter.
 */
export async function settleDeadLetter(letter: DeadLetterInfo, deps: WatchDeps, now = new Date()): Promise<DeadLetterOutcome> {
  let parsed;
  try {
    parsed = parseQueueMessage(letter.body);
  } catch (error) {
    if (!(error instanceof MalformedMessageError)) throw error;
    const why = letter.reason ? `${letter.reason}: ${letter.description}` : error.message;
    return (await recordPoison(letter, why, deps.store, now)) ? 'poison' : 'already-finished';
  }
  if (parsed.type === 'watch') return restartWatch(parsed.watch, deps, now);
  // A copy of a dead letter that was itself dead-lettered: the letter it carries is the one to settle.
  if (parsed.type === 'dead-letter') return settleDeadLetter(letterOfCopy(parsed.copy), deps, now);
  const job = await deps.store.get(parsed.work.jobId);
  if (!job) return 'unknown-job';
  // Keyed by the attempt's container: a dead letter of an attempt that is no longer current changes nothing.
  const containerName = containerNameFor(job.id, parsed.work.attempt ?? 1);
  const reason = `dead-lettered after ${letter.deliveryCount} deliveries (${letter.reason}): ${letter.description}`;
  const failed = await deps.store.markFailed(containerName, now, job.error ? `${reason} Last error: ${job.error}` : reason);
  return failed ? 'failed' : 'already-finished';
}

// A dead letter that cannot be settled is tried again by a scheduled copy: after 1 minute,
// doubling up to 1 hour, for up to 24 hours from the first failure (the bound).
const COPY_FIRST_MS = 60_000;
const COPY_MAX_MS = 60 * 60_000;
const COPY_FOR_MS = 24 * 60 * 60_000;

export function copyDelayMs(n: number): number {
  return Math.min(COPY_MAX_MS, COPY_FIRST_MS * 2 ** Math.min(n - 1, 20));
}

export function letterOfCopy(copy: DeadLetterCopyBody): DeadLetterInfo {
  return { ...copy.letter, enqueuedAt: new Date(copy.letter.enqueuedAt) };
}

/**
 * Settles a dead letter, or, when that fails (its store is down), sends a scheduled copy of it
 * to the work queue and returns, so the caller completes the letter: never completed
 * unsettled (its task would stay Pending for ever), never retried in a hot loop (a dead letter
 * queue has no time-to-live, and a letter cannot be dead-lettered again). `previous`: the copy
 * this is, if it is one. Throws only when the copy cannot be sent either.
 */
export async function settleOrCopy(
  letter: DeadLetterInfo,
  previous: Pick<DeadLetterCopyBody, 'n' | 'since'> | null,
  deps: WatchDeps & { queue: WorkQueue },
  log: (line: string) => void,
  now = new Date(),
): Promise<DeadLetterHandling> {
  try {
    return await settleDeadLetter(letter, deps, now);
  } catch (error) {
    const since = previous?.since ?? now.toISOString();
    if (now.getTime() - Date.parse(since) >= COPY_FOR_MS) {
      log(`dead letter ${letter.messageId}: still not settled 24 hours after ${since}, given up: ${errorMessage(error)}`);
      return 'given-up';
    }
    const n = (previous?.n ?? 0) + 1;
    const at = new Date(now.getTime() + copyDelayMs(n));
    const copy: DeadLetterCopyBody = {
      type: 'dead-letter',
      letter: { ...letter, enqueuedAt: letter.enqueuedAt.toISOString() },
      n,
      since,
    };
    await deps.queue.send({ messageId: `${letter.messageId}.dead-letter.${n}`, body: copy, scheduledAt: at });
    log(`dead letter ${letter.messageId}: not settled (${errorMessage(error)}); copy ${n} scheduled for ${at.toISOString()}`);
    return 'copied';
  }
}
