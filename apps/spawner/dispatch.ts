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

export type DispatchResult = 'started' | 'already-started' | 'already-finished' | 'unknown-job';

/** The worker's whole environment (DESIGN.md's contract), nothing inherited. */
export function workerEnvironment(job: Job, launch: WorkerLaunch): Record<string, string> {
  return {
    ...launch.taskEnv,
    MESSAGE: job.message,
    CONTAINER_NAME: job.containerName,
    DATABASE_URI: launch.databaseUri,
  };
}

/**
 * One delivery of a work message: start the job's container unless the job is finished or
 * its container exists. Throws when the container cannot be started, so the delivery is
 * retried (and dead-lettered after the maximum); safe to run twice for one message.
 */
export async function dispatch(
  work: WorkMessageBody,
  deliveryCount: number,
  { store, runtime, launch }: DispatchDeps,
): Promise<DispatchResult> {
  const job = await store.get(work.jobId);
  if (!job) return 'unknown-job';
  if (isTerminal(job.state)) return 'already-finished';
  const { created } = await runtime.start({
    name: job.containerName,
    env: workerEnvironment(job, launch),
    secureEnv: ['DATABASE_URI'],
    cpu: launch.cpu,
    memoryGb: launch.memoryGb,
  });
  await store.markDispatched(job.id, new Date(), deliveryCount, { cpu: launch.cpu, memoryGb: launch.memoryGb });
  return created ? 'started' : 'already-started';
}
