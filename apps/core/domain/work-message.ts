import type { Job } from './job.js';
import type { OutgoingMessage, WorkMessageBody } from './work-queue.port.js';

/**
 * The message that starts attempt `attempt` of a job. Its id is the job id for the first
 * attempt and `<jobId>.attempt.<n>` after, so a resend inside the duplicate detection window
 * is dropped by the queue, and every attempt is one message.
 */
export function workMessage(job: Pick<Job, 'id' | 'message'>, attempt = 1): OutgoingMessage {
  const body: WorkMessageBody = { jobId: job.id, message: job.message, ...(attempt > 1 ? { attempt } : {}) };
  return { messageId: attempt > 1 ? `${job.id}.attempt.${attempt}` : job.id, body };
}
