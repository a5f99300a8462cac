import { isTerminal, type Job } from '../core/domain/job.js';
import type { JobStore } from '../core/domain/job-store.port.js';
import type { ContainerMetrics, ContainerRuntime, ContainerStatus } from '../core/domain/container-runtime.port.js';

export interface SettleDeps {
  store: JobStore;
  runtime: ContainerRuntime;
  metrics: ContainerMetrics;
  /** A task running (or waiting to start) longer than this is stopped and Failed. */
  taskTimeoutSeconds: number;
  /**
   * How long a finished container is kept for metrics that its source reports late (Azure
   * Monitor); 0 where they are sampled as it runs. The container is deleted once its metrics
   * are settled or this has passed, whichever is first.
   */
  metricsWaitSeconds: number;
}

export interface Settlement {
  /** running: look again soon; awaiting-metrics: finished, kept for its metrics; settled: nothing left to do. */
  outcome: 'running' | 'awaiting-metrics' | 'settled';
  /** This look failed the task. */
  failed: boolean;
  /** This look deleted the container, its logs and metrics saved first. */
  removed: boolean;
}

export const GONE_REASON = 'the container is gone: it stopped without reporting (was the stack restarted?)';

/**
 * One look at one task and its container, the same on every stack (the local reaper's sweep,
 * Azure's watch messages): a container that ran too long is stopped and its task Failed; one
 * that exited without its task finishing fails it with the exit code and the last log line;
 * a finished container has its logs and metrics copied to the store and is deleted; a task
 * whose container is gone is Failed. Safe to repeat: every write is conditional.
 */
export async function settleTask(job: Job | null, found: ContainerStatus | null, deps: SettleDeps, now: Date): Promise<Settlement> {
  const { store, runtime } = deps;
  let failed = false;
  if (!found) {
    if (job && !isTerminal(job.state) && (job.dispatchedAt || job.state === 'InProgress')) {
      failed = await store.markFailed(job.containerName, now, GONE_REASON);
    }
    return { outcome: 'settled', failed, removed: false };
  }
  let container = found;
  if (container.state === 'Running') {
    const overdue = job ? overdueReason(job, deps.taskTimeoutSeconds, now) : 'it belongs to no job';
    if (!overdue) return { outcome: 'running', failed, removed: false };
    if (job && !isTerminal(job.state)) failed = await store.markFailed(job.containerName, now, overdue);
    await runtime.stop(container.name);
    container = (await runtime.status(container.name)) ?? { ...container, state: 'Failed', finishedAt: now.toISOString() };
  }

  const logs = (await runtime.logs(container.name)) ?? '';
  if (job && !isTerminal(job.state)) {
    const reason = `the container exited with code ${container.exitCode} before the task finished`;
    const lastLine = lastLogLine(logs);
    failed = (await store.markFailed(job.containerName, now, lastLine ? `${reason}: ${lastLine}` : reason)) || failed;
  }
  const metrics = await deps.metrics.metrics(container.name);
  const finishedAt = new Date(container.finishedAt ?? now.toISOString());
  const complete = deps.metrics.settled === undefined || (metrics !== null && deps.metrics.settled(metrics, finishedAt));
  const waitedEnough = now.getTime() - finishedAt.getTime() >= deps.metricsWaitSeconds * 1000;
  if (!complete && !waitedEnough) return { outcome: 'awaiting-metrics', failed, removed: false };
  await store.saveArtifacts(container.name, { logs, metrics });
  await runtime.delete(container.name);
  return { outcome: 'settled', failed, removed: true };
}

function overdueReason(job: Job, timeoutSeconds: number, now: Date): string | null {
  const since = job.startedAt ?? job.dispatchedAt;
  if (!since) return null;
  const seconds = (now.getTime() - Date.parse(since)) / 1000;
  if (seconds <= timeoutSeconds) return null;
  return job.state === 'Pending'
    ? `timed out: the container did not start the task within ${timeoutSeconds} s (TASK_TIMEOUT_SECONDS)`
    : `timed out: still running after ${timeoutSeconds} s (TASK_TIMEOUT_SECONDS)`;
}

function lastLogLine(logs: string): string {
  return logs.trim().split('\n').pop()?.trim() ?? '';
}
