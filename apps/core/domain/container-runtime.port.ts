import type { AttemptEnd } from './attempt-end.js';
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
  /** Stops the container, keeping it (and its logs) until deleted. */
  stop(name: string): Promise<void>;
  delete(name: string): Promise<void>;
  /** Null for a container the runtime does not know. */
  logs(name: string): Promise<string | null>;
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
