import { containerNameFor } from '../core/domain/container-name.js';
import { DuplicateJobError } from '../core/domain/errors.js';
import { jobIdFrom } from '../core/domain/job-id.js';
import { newPendingJob, type Job } from '../core/domain/job.js';
import type { SettleStore } from '../core/domain/job-store.port.js';

// What of a poison message is kept to show: enough to recognise it, never a store-sized blob.
const MAX_SHOWN_CHARACTERS = 4096;

export interface PoisonMessage {
  messageId: string;
  body: unknown;
  enqueuedAt: Date;
}

/**
 * A queue message that is not work is never retried: it is recorded as a Failed task, so it
 * shows on the dashboard with why, and taken off the queue. Its id comes from the message,
 * so a redelivery records nothing twice. Returns the record, or null when it already exists.
 */
export async function recordPoison(message: PoisonMessage, reason: string, store: Pick<SettleStore, 'insert'>, now = new Date()): Promise<Job | null> {
  const id = jobIdFrom(message.enqueuedAt, `poison:${message.messageId}`);
  const text = typeof message.body === 'string' ? message.body : (JSON.stringify(message.body) ?? String(message.body));
  const shown = text.length > MAX_SHOWN_CHARACTERS ? `${text.slice(0, MAX_SHOWN_CHARACTERS)}…` : text;
  const job: Job = {
    ...newPendingJob(id, containerNameFor(id), shown, message.enqueuedAt),
    state: 'Failed',
    finishedAt: now.toISOString(),
    error: `poison: queue message ${message.messageId} was taken off the queue, not run: ${reason}`,
  };
  try {
    return await store.insert(job);
  } catch (error) {
    if (error instanceof DuplicateJobError) return null;
    throw error;
  }
}
