import { containerNameFor } from '../core/domain/container-name.js';
import { errorMessage } from '../core/domain/errors.js';
import { workMessage } from '../core/domain/work-message.js';
import { newPendingJob, type Job } from '../core/domain/job.js';
import { newJobId } from '../core/domain/job-id.js';
import type { JobStore } from '../core/domain/job-store.port.js';
import type { WorkQueue } from '../core/domain/work-queue.port.js';
import { badRequest, tooLarge, unavailable } from './http-errors.js';

/** The largest message accepted, in UTF-8 bytes (documented in the README). */
export const MESSAGE_LIMIT_BYTES = 64 * 1024;
/** Copies one request may add at once (the dashboard's "count"). */
export const MAX_COPIES = 100;

export interface SubmitDeps {
  store: JobStore;
  queue: WorkQueue;
}

/** Throws a 400 or 413 for a message that must not be queued; nothing is stored before this. */
export function validateMessage(message: unknown): string {
  if (typeof message !== 'string') throw badRequest('message must be a string');
  if (message.trim() === '') throw badRequest('message must not be empty or only whitespace');
  const bytes = Buffer.byteLength(message);
  if (bytes > MESSAGE_LIMIT_BYTES) {
    throw tooLarge(`message is ${bytes} bytes; the limit is ${MESSAGE_LIMIT_BYTES} bytes`);
  }
  return message;
}

/**
 * Stores a Pending job, then queues its message with the job id as messageId. If the queue
 * refuses, the job is failed with the reason instead of being left Pending for ever.
 */
export async function submitWork(message: string, { store, queue }: SubmitDeps): Promise<Job> {
  const id = newJobId();
  const job = await store.insert(newPendingJob(id, containerNameFor(id), message, new Date()));
  try {
    await queue.send(workMessage(job));
  } catch (error) {
    const reason = `could not be queued: ${errorMessage(error)}`;
    await store.markFailed(job.containerName, new Date(), reason);
    throw unavailable(`the work ${reason}`);
  }
  return job;
}
