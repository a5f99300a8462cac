import { containerNameFor } from '../core/domain/container-name.js';
import { isTerminal, type Job } from '../core/domain/job.js';
import type { DispatchStore } from '../core/domain/job-store.port.js';
import type { ContainerRuntime, ContainerSpec } from '../core/domain/container-runtime.port.js';
import type { KindCatalog, TaskKind } from '../core/domain/task-kind.js';
import { workerEnvironment } from '../core/domain/worker-contract.js';
import type { WorkMessageBody } from '../core/domain/work-queue.port.js';

/** How each kind's container is launched: the same on every runtime. */
export interface WorkerLaunch {
  /** The store as a kind that writes its own states reaches it (for Cosmos: without `ssl=true`). */
  databaseUri: string;
  kinds: KindCatalog;
}

export interface DispatchDeps {
  store: DispatchStore;
  runtime: ContainerRuntime;
  launch: WorkerLaunch;
}

export type DispatchResult = 'started' | 'already-started' | 'already-finished' | 'unknown-job' | 'unknown-kind' | 'superseded';

/**
 * The container of one attempt of a job: the kind's program, resources and settings, and the
 * worker contract's variables. Its whole environment, nothing inherited. DATABASE_URI (full
 * control of the database) only for a kind that writes its own states.
 */
function containerSpecFor(job: Job, kind: TaskKind, databaseUri: string): ContainerSpec {
  return {
    name: job.containerName,
    jobId: job.id,
    env: workerEnvironment(job, { ...kind.env, ...kind.secretEnv }, kind.store ? databaseUri : null, Object.keys(kind.secretEnv)),
    secureEnv: [...Object.keys(kind.secretEnv), ...(kind.store ? ['DATABASE_URI'] : [])],
    cpu: kind.cpu,
    memoryGb: kind.memoryGb,
    image: kind.image,
    registry: kind.registry,
    command: kind.command,
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
  const kind = launch.kinds.get(job.kind);
  if (!kind) {
    await store.markFailed(job.containerName, new Date(), `the kind "${job.kind}" is not one this stack runs (was it removed?)`);
    return 'unknown-kind';
  }
  // Dispatched when the start began: a container's start (tens of milliseconds for a process, a
  // create and a start for Docker, longer on ACI) falls between dispatch and its own start time.
  const dispatchedAt = new Date();
  const { created } = await runtime.start(containerSpecFor(job, kind, launch.databaseUri));
  await store.markDispatched(job.containerName, attempt, dispatchedAt, { cpu: kind.cpu, memoryGb: kind.memoryGb });
  return created ? 'started' : 'already-started';
}
