import { containerNameFor } from '../core/domain/container-name.js';
import { isTerminal, type Job } from '../core/domain/job.js';
import type { JobStore } from '../core/domain/job-store.port.js';
import type { ContainerRuntime } from '../core/domain/container-runtime.port.js';
import type { WorkMessageBody } from '../core/domain/work-queue.port.js';

/** How a worker container is launched: the same on every runtime. */
export interface WorkerLaunch {
  /** The store as the worker reaches it (for Cosmos: without `ssl=true`). */
  databaseUri: string;
  /** Settings for the task itself, e.g. WORK_SECONDS. */
  taskEnv: Record<string, string>;
  cpu: number;
  memoryGb: number;
}

export interface DispatchDeps {
  store: JobStore;
  runtime: ContainerRuntime;
  launch: WorkerLaunch;
}

export type DispatchResult = 'started' | 'already-started' | 'already-finished' | 'unknown-job' | 'superseded';

/** The worker's whole environment (the worker contract), nothing inherited. */
export function workerEnvironment(job: Job, launch: WorkerLaunch): Record<string, string> {
  return {
    ...launch.taskEnv,
    MESSAGE: job.message,
    CONTAINER_NAME: job.containerName,
    DATABASE_URI: launch.databaseUri,
  };
}

/**
 * One delivery of a work message: start the container of the job's current attempt unless the
 * job is finished, the message is for an attempt that is not current, or the container exists.
 * Throws when the container cannot be started, so the delivery is retried (and dead-lettered
 * after the maximum); safe to run twice for one message. The dispatch is recorded after the
 * start, in whatever state the worker has written by then.
 */
export async function dispatch(work: WorkMessageBody, { store, runtime, launch }: DispatchDeps): Promise<DispatchResult> {
  const job = await store.get(work.jobId);
  if (!job) return 'unknown-job';
  if (isTerminal(job.state)) return 'already-finished';
  const attempt = work.attempt ?? 1;
  if (job.containerName !== containerNameFor(job.id, attempt)) return 'superseded';
  const { created } = await runtime.start({
    name: job.containerName,
    jobId: job.id,
    env: workerEnvironment(job, launch),
    secureEnv: ['DATABASE_URI'],
    cpu: launch.cpu,
    memoryGb: launch.memoryGb,
  });
  await store.markDispatched(job.containerName, attempt, new Date(), { cpu: launch.cpu, memoryGb: launch.memoryGb });
  return created ? 'started' : 'already-started';
}
