import type { ContainerStatus } from '../domain/container-runtime.port.js';

/** What a local runtime knows of one container. */
export interface ObservedContainer {
  name: string;
  jobId: string | null;
  startedAt: string;
  /** Null while it runs. */
  finishedAt: string | null;
  /** Null while it runs, and for a container that was lost (its end never observed). */
  exitCode: number | null;
}

/** Its status as the port reports it: running until it finished, then succeeded only with exit code 0. */
export function statusOf(container: ObservedContainer): ContainerStatus {
  const state = !container.finishedAt ? 'Running' : container.exitCode === 0 ? 'Succeeded' : 'Failed';
  return {
    name: container.name,
    jobId: container.jobId,
    state,
    exitCode: container.exitCode,
    startedAt: container.startedAt,
    finishedAt: container.finishedAt,
  };
}
