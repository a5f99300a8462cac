import { containerNameFor } from '../core/domain/container-name.js';
import type { DeadLetter } from '../core/domain/work-queue.port.js';
import { recordPoison } from './poison.js';
import { MalformedMessageError, parseQueueMessage } from './queue-messages.js';
import { restartWatch, type WatchDeps, type WatchOutcome } from './watch.js';

export type DeadLetterOutcome = 'failed' | 'already-finished' | 'unknown-job' | 'poison' | WatchOutcome;

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
  const job = await deps.store.get(parsed.work.jobId);
  if (!job) return 'unknown-job';
  // Keyed by the attempt's container: a dead letter of an attempt that is no longer current changes nothing.
  const containerName = containerNameFor(job.id, parsed.work.attempt ?? 1);
  const reason = `dead-lettered after ${letter.deliveryCount} deliveries (${letter.reason}): ${letter.description}`;
  const failed = await deps.store.markFailed(containerName, now, job.error ? `${reason} Last error: ${job.error}` : reason);
  return failed ? 'failed' : 'already-finished';
}
