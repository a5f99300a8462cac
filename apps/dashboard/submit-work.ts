import { createHash } from 'node:crypto';
import { containerNameFor } from '../core/domain/container-name.js';
import { DuplicateJobError, errorMessage } from '../core/domain/errors.js';
import { workMessage } from '../core/domain/work-message.js';
import { newPendingJob, type Job, type RequeueOrigin } from '../core/domain/job.js';
import { newJobId } from '../core/domain/job-id.js';
import type { SubmitStore } from '../core/domain/job-store.port.js';
import { DEFAULT_KIND } from '../core/domain/task-kind.js';
import type { WorkQueue } from '../core/domain/work-queue.port.js';
import { badRequest, HttpError, tooLarge, unavailable } from './http-errors.js';

/** The largest message accepted, in UTF-8 bytes (documented in the README). */
export const MESSAGE_LIMIT_BYTES = 64 * 1024;
/** Copies one request may add at once (the dashboard's "count"). */
export const MAX_COPIES = 100;
/** How long an idempotency key is remembered (as Stripe does); the README says so. */
export const IDEMPOTENCY_KEY_HOURS = 24;

export interface SubmitDeps {
  store: SubmitStore;
  queue: WorkQueue;
}

/** What a request asks to run: a message, and the kind that runs it. */
export interface WorkRequest {
  message: string;
  kind: string;
  /** Set when it runs a failed task again: which, and who asked (not part of the fingerprint). */
  requeueOf?: RequeueOrigin;
}

/** Throws a 400 for a kind the stack does not declare; nothing is stored before this. */
export function validateKind(kind: unknown, kinds: readonly string[]): string {
  if (kind === undefined || kind === '') return DEFAULT_KIND;
  if (typeof kind !== 'string' || !kinds.includes(kind)) {
    throw badRequest(`kind ${JSON.stringify(kind)} is not one this stack runs; it runs ${kinds.map((k) => `"${k}"`).join(', ')}`);
  }
  return kind;
}

/** Throws a 400 or 413 for a message that must not be queued; nothing is stored before this. */
export function validateMessage(message: unknown): string {
  if (typeof message !== 'string') throw badRequest('message must be a string');
  if (message.trim() === '') throw badRequest('message must not be empty or only whitespace');
  // The worker receives the message as an environment variable, which cannot hold NUL.
  if (message.includes('\0')) throw badRequest('message must not contain a NUL character (U+0000)');
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
export async function submitWork(work: WorkRequest, deps: SubmitDeps): Promise<Job> {
  const id = newJobId();
  return enqueue(await deps.store.insert(newPendingJob(id, containerNameFor(id), work.message, new Date(), work.kind)), deps);
}

async function enqueue(job: Job, { store, queue }: SubmitDeps): Promise<Job> {
  try {
    await queue.send(workMessage(job));
  } catch (error) {
    const reason = `could not be queued: ${errorMessage(error)}`;
    await store.markFailed(job.containerName, new Date(), reason);
    throw unavailable(`the work ${reason}`);
  }
  return job;
}

export interface Submission {
  job: Job;
  /** True when the key had already made this job: nothing new was stored. */
  replayed: boolean;
}

/** What a request asked for, as a digest: a key reused with other content does not match. */
export function fingerprintOf({ message, kind }: WorkRequest): string {
  // The built-in kind hashes as before kinds existed, so keys claimed then still match.
  return createHash('sha256').update(JSON.stringify(kind === DEFAULT_KIND ? { message } : { message, kind })).digest('base64url');
}

/**
 * Submits work once per idempotency key. The first request claims the key with a new job id
 * and stores and queues that job; a retry with the same key and the same message gets that
 * job back, and one with another message is refused with 422 (draft-ietf-httpapi-
 * idempotency-key-header, "Error Scenarios"). A retry also finishes what an earlier request
 * left undone: it stores the job if the claim has none, and queues a job that is still
 * waiting again (the queue drops the copy by its messageId). When the queue refuses a new job,
 * the key is forgotten with it, so that a retry tries afresh.
 */
export async function submitWorkOnce(work: WorkRequest, key: string, deps: SubmitDeps, now = new Date()): Promise<Submission> {
  const fingerprint = fingerprintOf(work);
  const ours = newJobId();
  const claim = await deps.store.claimIdempotencyKey(
    { key, fingerprint, jobId: ours, createdAt: now.toISOString() },
    new Date(now.getTime() - IDEMPOTENCY_KEY_HOURS * 3600_000),
  );
  if (claim.fingerprint !== fingerprint) {
    throw new HttpError(422, 'IDEMPOTENCY_KEY_REUSED', `this Idempotency-Key was used at ${claim.createdAt} for other work; new work needs a new key`);
  }
  const existing = await deps.store.get(claim.jobId);
  if (existing) {
    await queueAgainIfWaiting(existing, deps);
    return { job: existing, replayed: true };
  }
  let job: Job;
  try {
    job = await deps.store.insert(newPendingJob(claim.jobId, containerNameFor(claim.jobId), work.message, now, work.kind, work.requeueOf ?? null));
  } catch (error) {
    if (!(error instanceof DuplicateJobError)) throw error;
    return { job: (await deps.store.get(claim.jobId))!, replayed: true }; // a request with the same key stored it just now
  }
  try {
    return { job: await enqueue(job, deps), replayed: claim.jobId !== ours };
  } catch (error) {
    await deps.store.releaseIdempotencyKey(key, claim.jobId);
    throw error;
  }
}

async function queueAgainIfWaiting(job: Job, { queue }: SubmitDeps): Promise<void> {
  if (job.state !== 'Pending' || job.dispatchedAt !== null) return;
  try {
    await queue.send(workMessage(job, job.priorAttempts.length + 1));
  } catch (error) {
    // The job stays as it is: the earlier request may well have queued it.
    throw unavailable(`the task ${job.id} exists but could not be queued again: ${errorMessage(error)}`);
  }
}
