import { DEFAULT_KIND } from './task-kind.js';

/**
 * The job record and its forward-only state machine: Pending → InProgress → Done | Failed.
 * A late or duplicate write never moves a job back: every transition is a conditional write
 * on the states before its target (`statesBefore`) and on the container it names. A task
 * whose container was lost or killed by the platform starts a new attempt: the job returns to
 * Pending under the next attempt's container name, with the attempt before kept in
 * `priorAttempts`. Since every write names its container, nothing an earlier attempt still
 * sends can apply: (attempt, state) only moves forward.
 */
export const JOB_STATES = ['Pending', 'InProgress', 'Done', 'Failed'] as const;
export type JobState = (typeof JOB_STATES)[number];

export interface Job {
  id: string;
  containerName: string;
  message: string;
  /** The task kind it runs (`default`: the built-in worker). */
  kind: string;
  state: JobState;
  enqueuedAt: string;
  dispatchedAt: string | null;
  startedAt: string | null;
  finishedAt: string | null;
  /** Attempts begun: each is one container, named `containerNameFor(id, n)`; 0 until the first. */
  attempts: number;
  /** The attempts before the current one, each ended by the platform (lost, killed), oldest first. */
  priorAttempts: AttemptRecord[];
  /** Why the job failed, or (while Pending) why the last dispatch attempt failed. */
  error: string | null;
  /** The result as text: shown on the card; a JSON value as its JSON text. */
  output: string | null;
  /**
   * The result as JSON text, when the program's last output was `{"output": <JSON value>}`
   * (the API returns that value as JSON); null otherwise, for a result too long to keep
   * whole, and for every job finished before it was kept.
   */
  outputJson: string | null;
  /** 0 to 1 while the worker reports it; 1 when Done. */
  progress: number | null;
  /** What the container was given (vCPU and GiB); null until dispatched. */
  cpu: number | null;
  memoryGb: number | null;
  /** Store-wide revision of the last change: lets readers ask for "what changed since". */
  rev: number;
  /** The failed task this one runs again, and who asked; null for submitted work. */
  requeueOf: RequeueOrigin | null;
}

/**
 * Who asked for a change: a script with the access token, anyone where the stack has none (the
 * local stack), or the dashboard's own buttons. Named keys come later.
 */
export const REQUESTERS = ['token', 'anonymous', 'dashboard'] as const;
export type Requester = (typeof REQUESTERS)[number];

export interface RequeueOrigin {
  /** The failed task's id. */
  id: string;
  by: Requester;
}

/** One attempt that ended without finishing its task, as the card and the details show it. */
export interface AttemptRecord {
  n: number;
  containerName: string;
  dispatchedAt: string | null;
  startedAt: string | null;
  finishedAt: string;
  cpu: number | null;
  memoryGb: number | null;
  /** Why it ended and was retried. */
  reason: string;
}

const RANK: Record<JobState, number> = { Pending: 0, InProgress: 1, Done: 2, Failed: 2 };

function rankOf(state: JobState): number {
  return RANK[state];
}

export function isTerminal(state: JobState): boolean {
  return state === 'Done' || state === 'Failed';
}

/** The states a job may be in for a write that moves it to `target` to apply. */
export function statesBefore(target: JobState): JobState[] {
  return JOB_STATES.filter((s) => rankOf(s) < rankOf(target));
}

export function newPendingJob(id: string, containerName: string, message: string, now: Date, kind = DEFAULT_KIND, requeueOf: RequeueOrigin | null = null): Job {
  return {
    id,
    containerName,
    message,
    kind,
    state: 'Pending',
    enqueuedAt: now.toISOString(),
    dispatchedAt: null,
    startedAt: null,
    finishedAt: null,
    attempts: 0,
    priorAttempts: [],
    error: null,
    output: null,
    outputJson: null,
    progress: null,
    cpu: null,
    memoryGb: null,
    rev: 0,
    requeueOf,
  };
}
