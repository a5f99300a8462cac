/**
 * The job record and its forward-only state machine: Pending → InProgress → Done | Failed.
 * A late or duplicate write never moves a job back; stores enforce this with `rankOf`.
 */
export const JOB_STATES = ['Pending', 'InProgress', 'Done', 'Failed'] as const;
export type JobState = (typeof JOB_STATES)[number];

export interface Job {
  id: string;
  containerName: string;
  message: string;
  state: JobState;
  enqueuedAt: string;
  dispatchedAt: string | null;
  startedAt: string | null;
  finishedAt: string | null;
  /** Deliveries of the job's message that reached the spawner. */
  attempts: number;
  /** Why the job failed, or (while Pending) why the last dispatch attempt failed. */
  error: string | null;
  output: string | null;
  /** 0 to 1 while the worker reports it; 1 when Done. */
  progress: number | null;
  /** What the container was given (vCPU and GiB); null until dispatched. */
  cpu: number | null;
  memoryGb: number | null;
  /** Store-wide revision of the last change: lets readers ask for "what changed since". */
  rev: number;
}

const RANK: Record<JobState, number> = { Pending: 0, InProgress: 1, Done: 2, Failed: 2 };

export function rankOf(state: JobState): number {
  return RANK[state];
}

export function isTerminal(state: JobState): boolean {
  return state === 'Done' || state === 'Failed';
}

/** The states a job may be in for a write that moves it to `target` to apply. */
export function statesBefore(target: JobState): JobState[] {
  return JOB_STATES.filter((s) => rankOf(s) < rankOf(target));
}

export function newPendingJob(id: string, containerName: string, message: string, now: Date): Job {
  return {
    id,
    containerName,
    message,
    state: 'Pending',
    enqueuedAt: now.toISOString(),
    dispatchedAt: null,
    startedAt: null,
    finishedAt: null,
    attempts: 0,
    error: null,
    output: null,
    progress: null,
    cpu: null,
    memoryGb: null,
    rev: 0,
  };
}
