import type { AttemptRecord, Job, JobState } from './job.js';
import type { MetricSeries } from './metric-series.js';

export interface JobPage {
  jobs: Job[];
  /** Pass back as `cursor` for the next (older) page; null on the last page. */
  next: string | null;
}

export interface ListQuery {
  state?: JobState;
  /** Only jobs of this task kind. */
  kind?: string;
  limit: number;
  /** The `next` of the previous page: only jobs older than it are listed. */
  cursor?: string;
}

/** Per-second billing units, each started second counted whole, as ACI bills. */
export interface UsageTotals {
  vcpuSeconds: number;
  gbSeconds: number;
}

export interface Resources {
  cpu: number;
  memoryGb: number;
}

/** The attempt that ended, and the container of the one that follows it. */
export interface NextAttempt {
  ended: AttemptRecord;
  containerName: string;
}

/** What a container left behind, kept in the store because the runtime forgets it. */
export interface ContainerArtifacts {
  logs: string;
  metrics: MetricSeries | null;
}

/**
 * A request's idempotency key and the job it made, so that a retried request finds that job
 * instead of making another (the API's Idempotency-Key header, the dashboard's Requeue).
 */
export interface IdempotencyClaim {
  key: string;
  /** A digest of what the request asked for: the same key with other content is refused. */
  fingerprint: string;
  jobId: string;
  /** ISO timestamp of the first request. */
  createdAt: string;
}

/**
 * Where jobs live. Every transition is conditional on the job's current state, so a late or
 * duplicate write never moves a job back; each returns whether it changed anything.
 */
export interface JobStore {
  insert(job: Job): Promise<Job>;
  get(id: string): Promise<Job | null>;
  getByContainerName(containerName: string): Promise<Job | null>;
  /** Newest first. */
  list(query: ListQuery): Promise<JobPage>;
  /** Jobs whose `rev` is above `rev`, oldest change first, at most `limit`. */
  changedSince(rev: number, limit: number): Promise<Job[]>;
  /** The highest revision in the store (0 when empty). */
  currentRev(): Promise<number>;
  counts(): Promise<Record<JobState, number>>;
  /** Billed seconds of finished jobs, summed (a cost total needs no scan of every job). */
  usageTotals(): Promise<UsageTotals>;
  /** Jobs that have been handed to a runtime and have not finished. */
  listActive(): Promise<Job[]>;

  /**
   * The container of attempt `attempt` was started with `resources`. In any state, since the
   * worker may have written before this lands, but once per attempt, and only while
   * `containerName` is the job's current container.
   */
  markDispatched(containerName: string, attempt: number, at: Date, resources: Resources): Promise<boolean>;
  /** Pending only: starting the container failed; the message will be retried. */
  noteDispatchError(containerName: string, error: string): Promise<boolean>;
  /**
   * Pending or InProgress under `containerName` only: that attempt ended through no fault of
   * its task, so it joins `priorAttempts` and the job is Pending again under the next
   * attempt's container. Nothing the ended attempt writes later can apply.
   */
  beginRetry(containerName: string, next: NextAttempt): Promise<boolean>;
  markStarted(containerName: string, at: Date): Promise<boolean>;
  /** InProgress only, and only forward. */
  reportProgress(containerName: string, progress: number): Promise<boolean>;
  /** `outputJson`: the result as JSON text, where the program gave one (Job.outputJson). */
  markDone(containerName: string, at: Date, output: string, outputJson?: string | null): Promise<boolean>;
  markFailed(containerName: string, at: Date, error: string): Promise<boolean>;

  saveArtifacts(containerName: string, artifacts: ContainerArtifacts): Promise<void>;
  getArtifacts(containerName: string): Promise<ContainerArtifacts | null>;

  /**
   * Remembers `claim` unless its key was claimed at or after `expiredBefore`, and returns the
   * claim that holds: this one, or the earlier one. Atomic: of two requests with one key, one
   * claim wins and both callers get it. An older claim is forgotten and replaced.
   */
  claimIdempotencyKey(claim: IdempotencyClaim, expiredBefore: Date): Promise<IdempotencyClaim>;
  /** Forgets a claim while it still names `jobId` (its request failed): a retry starts afresh. */
  releaseIdempotencyKey(key: string, jobId: string): Promise<void>;

  /** Throws when the store cannot answer. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

// The narrow part of the store each consumer uses: what a change to it can touch is visible
// from its signature.

/** The built-in worker: its own job's states, found by its container. */
export type WorkerStore = Pick<JobStore, 'getByContainerName' | 'markStarted' | 'reportProgress' | 'markDone' | 'markFailed'>;

/** Starting containers: read a job, record its dispatch or why it cannot run. */
export type DispatchStore = Pick<JobStore, 'get' | 'markDispatched' | 'markFailed' | 'noteDispatchError'>;

/** Following containers (the local reaper, Azure's watches, dead letters, poison). */
export type SettleStore = Pick<JobStore, 'get' | 'insert' | 'markStarted' | 'reportProgress' | 'markDone' | 'markFailed' | 'beginRetry' | 'saveArtifacts'>;

/** Submitting work from the dashboard and the API. */
export type SubmitStore = Pick<JobStore, 'insert' | 'get' | 'markFailed' | 'claimIdempotencyKey' | 'releaseIdempotencyKey'>;
