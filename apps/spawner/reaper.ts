import { errorMessage } from '../core/domain/errors.js';
import { isTerminal, type Job } from '../core/domain/job.js';
import type { JobStore } from '../core/domain/job-store.port.js';
import type {
  ContainerMetrics,
  ContainerRuntime,
  ContainerStatus,
} from '../core/domain/container-runtime.port.js';
import type { WorkQueue } from '../core/domain/work-queue.port.js';
import { parseWorkMessage } from './dispatch.js';

export interface ReaperDeps {
  store: JobStore;
  runtime: ContainerRuntime;
  metrics: ContainerMetrics;
  queue: WorkQueue;
  /** A task running (or waiting to start) longer than this is stopped and Failed. */
  taskTimeoutSeconds: number;
  log: (line: string) => void;
}

export interface ReapReport {
  removed: number;
  failed: number;
  deadLettered: number;
}

const DEAD_LETTER_BATCH = 100;

/**
 * Housekeeping that keeps every job moving to an end: finished containers have their logs
 * and metrics copied to the store and are deleted (ACI bills and keeps nothing useful after
 * that); a container that exited without writing Done, ran too long, or disappeared fails
 * its job with the reason; a dead-lettered message fails its job with the dead letter's reason.
 */
export async function reap(deps: ReaperDeps, now = new Date()): Promise<ReapReport> {
  const report: ReapReport = { removed: 0, failed: 0, deadLettered: 0 };
  // Jobs before containers: a job seen as active here had its container created before this
  // read, so a container missing from the later listing is really gone.
  const active = new Map((await deps.store.listActive()).map((job) => [job.containerName, job]));
  const containers = await deps.runtime.list();
  const present = new Set(containers.map((c) => c.name));

  for (const container of containers) {
    try {
      await reapContainer(container, active.get(container.name), deps, now, report);
    } catch (error) {
      deps.log(`reaper: container ${container.name}: ${errorMessage(error)}`);
    }
  }
  for (const job of active.values()) {
    if (present.has(job.containerName)) continue;
    if (await deps.store.markFailed(job.containerName, now, 'the container is gone: it stopped without reporting (was the stack restarted?)')) {
      report.failed++;
    }
  }
  report.deadLettered = await failDeadLetteredJobs(deps, now);
  return report;
}

async function reapContainer(
  container: ContainerStatus,
  activeJob: Job | undefined,
  deps: ReaperDeps,
  now: Date,
  report: ReapReport,
): Promise<void> {
  const job = activeJob ?? (await deps.store.getByContainerName(container.name));
  if (container.state === 'Running') {
    if (job && isTerminal(job.state)) return; // the worker has written its end and is exiting
    const overdue = job ? overdueReason(job, deps.taskTimeoutSeconds, now) : 'it belongs to no job';
    if (!overdue) return;
    if (job && (await deps.store.markFailed(job.containerName, now, overdue))) report.failed++;
    await deps.runtime.stop(container.name);
  } else if (job && !isTerminal(job.state)) {
    const reason = `the container exited with code ${container.exitCode} before the task finished`;
    const lastLine = lastLogLine(await deps.runtime.logs(container.name));
    if (await deps.store.markFailed(job.containerName, now, lastLine ? `${reason}: ${lastLine}` : reason)) {
      report.failed++;
    }
  }
  await deps.store.saveArtifacts(container.name, {
    logs: (await deps.runtime.logs(container.name)) ?? '',
    metrics: await deps.metrics.metrics(container.name),
  });
  await deps.runtime.delete(container.name);
  report.removed++;
}

function overdueReason(job: Job, timeoutSeconds: number, now: Date): string | null {
  const since = job.startedAt ?? job.dispatchedAt;
  if (!since) return null;
  const seconds = (now.getTime() - Date.parse(since)) / 1000;
  if (seconds <= timeoutSeconds) return null;
  return job.state === 'InProgress'
    ? `timed out: still running after ${timeoutSeconds} s (TASK_TIMEOUT_SECONDS)`
    : `timed out: the container did not start the task within ${timeoutSeconds} s (TASK_TIMEOUT_SECONDS)`;
}

function lastLogLine(logs: string | null): string {
  return (logs ?? '').trim().split('\n').pop()?.trim() ?? '';
}

async function failDeadLetteredJobs(deps: ReaperDeps, now: Date): Promise<number> {
  let count = 0;
  for (const letter of await deps.queue.receiveDeadLetters(DEAD_LETTER_BATCH)) {
    let jobId: string | null = null;
    try {
      jobId = parseWorkMessage(letter.body).jobId;
    } catch {
      deps.log(`reaper: dropping malformed dead letter ${letter.messageId}: ${letter.description}`);
    }
    const job = jobId ? await deps.store.get(jobId) : null;
    if (job) {
      const reason = `dead-lettered after ${letter.deliveryCount} deliveries (${letter.reason}): ${letter.description}`;
      if (await deps.store.markFailed(job.containerName, now, job.error ? `${reason} Last error: ${job.error}` : reason)) {
        count++;
      }
    }
    await deps.queue.complete(letter);
  }
  return count;
}
