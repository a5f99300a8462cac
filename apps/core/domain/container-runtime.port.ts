import type { AttemptEnd, StopReason } from './attempt-end.js';
import { AppError } from './errors.js';
import type { MetricSeries } from './metric-series.js';
import type { RegistryCredentials } from './task-kind.js';

export interface ContainerSpec {
  name: string;
  /** The job it runs an attempt of, kept with the container (ACI: a tag) so it is found again. */
  jobId: string;
  /** The container's whole environment: nothing is inherited from the spawner. */
  env: Record<string, string>;
  /** Names in `env` that must not be shown (ACI secure environment variables). */
  secureEnv: string[];
  cpu: number;
  memoryGb: number;
  /** Azure: the image to run; null for the stack's own worker image. */
  image: string | null;
  /** Credentials for the image's registry, when it is private and not the stack's own. */
  registry: RegistryCredentials | null;
  /** Local: the program and its arguments; null for the built worker. */
  command: string[] | null;
}

/**
 * `NotStarted`: the runtime has the container but nothing of it has run yet (ACI: a group
 * still provisioning, pulling its image). The local runtimes start at once and never report it.
 */
export type ContainerState = 'NotStarted' | 'Running' | 'Succeeded' | 'Failed';
export type { StopReason };

/**
 * Why no container ran, where the runtime says (ACI: a provisioning failure's code and
 * message). `platform`: the platform's fault (capacity, a pull the registry refused while a
 * grant propagates), so the start is tried again; otherwise the kind's own (a bad command),
 * and the task fails with the message.
 */
export interface StartFailure {
  code: string;
  message: string;
  platform: boolean;
}

export interface ContainerStatus {
  name: string;
  /** The job the container runs an attempt of; null for one made without it. */
  jobId: string | null;
  state: ContainerState;
  /**
   * Null while running. A container that ended with a null exit code was lost: it is gone and
   * its end was never observed, which is the platform's fault, never the task's.
   */
  exitCode: number | null;
  /**
   * The signal that ended the program where the runtime saw one (the process runtime's
   * supervisor; Docker: 9 when the engine says OOMKilled), else null. Absent where a runtime
   * knows only a code (ACI): its code is the program's exit.
   */
  signal?: number | null;
  /** Why the stack stopped it, when the stack did. */
  stoppedFor?: StopReason | null;
  /** When its program began: only ever a real start, null while NotStarted or when none ran. */
  startedAt: string | null;
  finishedAt: string | null;
  /** Set when it ended without any container having run (ACI's provisioning failure). */
  startFailure?: StartFailure;
  /**
   * How it ended, where the runtime knows better than its exit code: ACI gives no source for a
   * kill, so its codes are each an `exit` (attempt-end.ts). Absent: read from the exit code.
   */
  end?: AttemptEnd;
}

/**
 * A start the runtime cannot take now (ACI's create quota, say): the caller puts the work off
 * for `retryAfterMs` rather than counting it as a failed delivery.
 */
export class RetryLaterError extends AppError {
  constructor(
    readonly retryAfterMs: number,
    message: string,
  ) {
    super('RETRY_LATER', message);
  }
}

/**
 * A start the runtime refused for a reason that is the kind's own (a request that can never
 * succeed as it stands): the task fails with the message; no delivery is retried.
 */
export class StartRefusedError extends AppError {
  constructor(message: string) {
    super('START_REFUSED', message);
  }
}

/**
 * Runs one container per task. A second start of a name that exists (running or finished)
 * starts nothing, so a duplicate delivery cannot start the work twice. `start` returns once the
 * platform has accepted the container, not once it runs: a status of `NotStarted` follows
 * until it does.
 */
export interface ContainerRuntime {
  start(spec: ContainerSpec): Promise<{ created: boolean }>;
  status(name: string): Promise<ContainerStatus | null>;
  list(): Promise<ContainerStatus[]>;
  /** Stops the container, keeping it (and its logs) until deleted; `reason` is kept with it. */
  stop(name: string, reason: StopReason): Promise<void>;
  delete(name: string): Promise<void>;
  /** Null for a container the runtime does not know. */
  logs(name: string): Promise<string | null>;
  /**
   * The container's error output alone (its stderr), where the runtime keeps it apart from the
   * rest of its log (Docker does; a process's output file and ACI's logs are one stream). A
   * failure's reason is read from it first. Null where it is not kept apart, or not known.
   */
  errorOutput?(name: string): Promise<string | null>;
}

/**
 * What a local runtime tells as it happens, so a task moves when its container does rather
 * than at a sweep's next look: `start` once the container's program runs, `exit` once its end
 * is known (or it was lost), `output` when its log grew. Azure has no such stream: each task is
 * looked at by its own watch messages instead.
 */
export interface ContainerEvent {
  type: 'start' | 'exit' | 'output';
  name: string;
  jobId: string | null;
}

export interface ContainerEvents {
  /** Calls `listener` for every event from now on; the returned function stops that. A listener's error never reaches the runtime. */
  onContainerEvent(listener: (event: ContainerEvent) => void): () => void;
}

/** A log read on from a byte offset: what was added since, and where to read on from next. */
export interface LogChunk {
  text: string;
  /** The offset after `text`: pass it to the next read. */
  next: number;
}

/**
 * A runtime whose logs can be followed by offset, so a reader takes only what is new (a local
 * file) rather than the whole log each time. ACI's `listLogs` gives only a tail, so AciRuntime has none.
 */
export interface FollowableLogs {
  /** What the log holds from byte `from` on (at most a bounded amount); null for a container the runtime does not know. */
  logsFrom(name: string, from: number): Promise<LogChunk | null>;
}

/** CPU and memory over a container's life; null for a container the source does not know. */
export interface ContainerMetrics {
  metrics(name: string): Promise<MetricSeries | null>;
  /**
   * Whether `series` already holds what the source will report for a container that finished
   * at `finishedAt`. A source that reports late (Azure Monitor, minutes after the fact) says
   * so here; one that samples as it runs leaves this out, and its series is always complete.
   */
  settled?(series: MetricSeries, finishedAt: Date): boolean;
}
