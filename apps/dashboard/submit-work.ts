import { createHash } from 'node:crypto';
import { containerNameFor } from '../core/domain/container-name.js';
import { environmentProblem } from '../core/domain/environment-limits.js';
import { workerEnvironment } from '../core/domain/worker-contract.js';
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
  storageFault?: () => Promise<string | null>;
}

/** Refuses work with 503 and its cause while storage can't take it: nothing is stored. */
async function refuseWhileStorageFaulted(deps: SubmitDeps): Promise<void> {
  const fault = await deps.storageFault?.();
  if (fault) throw unavailable(`work is not accepted now: ${fault}`);
}

/**
 * A write that failed because storage did (the disk filled between the check and the write) is
 * a 503 with the cause, not an internal error. SQLite rolls the failed statement back.
 */
async function stored<T>(write: () => Promise<T>, deps: SubmitDeps): Promise<T> {
  try {
    return await write();
  } catch (error) {
    if (error instanceof HttpError || error instanceof DuplicateJobError) throw error;
    const fault = await deps.storageFault?.();
    if (fault) throw unavailable(`work is not accepted now: ${fault}`);
    throw error;
  }
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

/** With the `u` flag a paired surrogate is one code point, so only a lone one matches. */
const LONE_SURROGATE = /[\ud800-\udfff]/u;
/** The longest container name (ACI's limit), for the environment a task will get. */
const LONGEST_CONTAINER_NAME = 'x'.repeat(63);

/** What the checks of one piece of work need to know of the stack. */
export interface WorkRules {
  kinds: readonly string[];
  /** A kind's environment besides MESSAGE and CONTAINER_NAME (its env, secretEnv, DATABASE_URI), when known. */
  kindEnvironment?: (kind: string) => Record<string, string> | undefined;
}

/**
 * Every check of one piece of work, in one place: the JSON API, the form, and each item of a
 * batch (the batch route, issue 29, applies this to every item) refuse the same things with the
 * same messages, before anything is stored. Last, the message must fit the container's
 * environment with the kind's own values, so a task that could never start (E2BIG) is refused now.
 */
export function validateWork(input: { message?: unknown; kind?: unknown }, rules: WorkRules): WorkRequest {
  const message = validateMessage(input.message);
  const kind = validateKind(input.kind, rules.kinds);
  const own = rules.kindEnvironment?.(kind) ?? {};
  const { DATABASE_URI: databaseUri = null, ...rest } = own;
  const problem = environmentProblem(workerEnvironment({ message, containerName: LONGEST_CONTAINER_NAME }, rest, databaseUri, Object.keys(rest)));
  if (problem) throw tooLarge(`message does not fit a container's environment: ${problem}`);
  return { message, kind };
}

/** Throws a 400 or 413 for a message that must not be queued; nothing is stored before this. */
export function validateMessage(message: unknown): string {
  if (typeof message !== 'string') throw badRequest('message must be a string');
  if (message.trim() === '') throw badRequest('message must not be empty or only whitespace');
  // The worker receives the message as an environment variable, which cannot hold NUL.
  if (message.includes('\0')) throw badRequest('message must not contain a NUL character (U+0000)');
  // A lone UTF-16 surrogate has no UTF-8 form: it would be stored and passed on altered.
  if (LONE_SURROGATE.test(message)) throw badRequest('message is not well-formed Unicode: it has a lone UTF-16 surrogate (\\ud800–\\udfff without its pair)');
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
  await refuseWhileStorageFaulted(deps);
  const id = newJobId();
  return enqueue(await stored(() => deps.store.insert(newPendingJob(id, containerNameFor(id), work.message, new Date(), work.kind)), deps), deps);
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
  await refuseWhileStorageFaulted(deps);
  const fingerprint = fingerprintOf(work);
  const ours = newJobId();
  const claim = await stored(() => deps.store.claimIdempotencyKey(
    { key, fingerprint, jobId: ours, createdAt: now.toISOString() },
    new Date(now.getTime() - IDEMPOTENCY_KEY_HOURS * 3600_000),
  ), deps);
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
    job = await stored(() => deps.store.insert(newPendingJob(claim.jobId, containerNameFor(claim.jobId), work.message, now, work.kind, work.requeueOf ?? null)), deps);
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
