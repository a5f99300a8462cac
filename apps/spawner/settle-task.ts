import { containerNameFor } from '../core/domain/container-name.js';
import { isTerminal, type Job } from '../core/domain/job.js';
import type { SettleStore } from '../core/domain/job-store.port.js';
import type { ContainerMetrics, ContainerRuntime, ContainerStatus } from '../core/domain/container-runtime.port.js';
import { logTail, outputFromLogs, outputJsonFromLogs, progressFromLogs } from '../core/domain/container-output.js';
import type { AttemptEnd } from '../core/domain/attempt-end.js';
import { describeEnd, endFromExitCode, shouldRetry } from '../core/domain/retry-policy.js';
import { DEFAULT_KIND, type KindCatalog, type TaskKind } from '../core/domain/task-kind.js';
import { workMessage } from '../core/domain/work-message.js';
import type { WorkQueue } from '../core/domain/work-queue.port.js';

export interface SettleDeps {
  store: SettleStore;
  runtime: ContainerRuntime;
  metrics: ContainerMetrics;
  /** Where the next attempt's work message goes. */
  queue: WorkQueue;
  /** Each kind's timeout (a task running, or not starting, longer is stopped and Failed) and retry policy. */
  kinds: KindCatalog;
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
  /** This look started the task's next attempt. */
  retried: boolean;
  /** This look deleted the container, its logs and metrics saved first. */
  removed: boolean;
}

/**
 * One look at one container (or, for a task whose container is gone, at the task), the same
 * on every stack: the local reaper's sweep and Azure's watch messages. `job` is the job the
 * container runs an attempt of. A container that runs too long is stopped and its task
 * Failed. When the task's current attempt has ended without finishing it, the task either
 * runs again as a new attempt (the retry policy: a lost or killed container always, while
 * attempts remain) or is Failed with the exit code and the last log line. A finished container
 * has its logs and metrics copied to the store and is deleted. Safe to repeat, and safe to
 * crash anywhere in: every write is conditional, the next attempt's message has a fixed id,
 * and the container is deleted last, so a later look finds what is left to do.
 */
export async function settleTask(
  job: Job | null,
  containerName: string,
  found: ContainerStatus | null,
  deps: SettleDeps,
  now: Date,
): Promise<Settlement> {
  const settlement: Settlement = { outcome: 'settled', failed: false, retried: false, removed: false };
  const current = job !== null && job.containerName === containerName;
  if (!found) {
    if (current && isCurrentAttemptActive(job)) await endAttempt(job, kindOf(job, deps), { kind: 'lost' }, '', now.toISOString(), deps, now, settlement);
    else if (job && !current) await resendIfUnsent(job, deps);
    return settlement;
  }
  let container = found;
  const kind = job ? kindOf(job, deps) : deps.kinds.defaultKind;
  if (container.state === 'Running') {
    const overdue = !job ? 'it belongs to no job' : !current ? 'it belongs to an earlier attempt' : overdueReason(job, kind, now);
    if (!overdue) {
      if (current && !kind.store && !isTerminal(job.state)) await followRunning(job, container, deps);
      return { ...settlement, outcome: 'running' };
    }
    if (current && !isTerminal(job.state)) settlement.failed = await deps.store.markFailed(job.containerName, now, overdue);
    await deps.runtime.stop(container.name);
    container = (await deps.runtime.status(container.name)) ?? { ...container, state: 'Failed', finishedAt: now.toISOString() };
  }

  const logs = (await deps.runtime.logs(container.name)) ?? '';
  const finishedAt = container.finishedAt ?? now.toISOString();
  if (current && !isTerminal(job.state)) {
    if (!kind.store && container.exitCode === 0) {
      // A kind that knows nothing of the store: its exit 0 is its Done, its output its result.
      await deps.store.markStarted(job.containerName, new Date(container.startedAt));
      await deps.store.markDone(job.containerName, new Date(finishedAt), outputFromLogs(logs), outputJsonFromLogs(logs));
    } else {
      const end: AttemptEnd = endFromExitCode(container.exitCode);
      await endAttempt(job, kind, end, logs, finishedAt, deps, now, settlement);
    }
  } else if (job && !current) {
    await resendIfUnsent(job, deps);
  }

  const metrics = await deps.metrics.metrics(container.name);
  const complete = deps.metrics.settled === undefined || (metrics !== null && deps.metrics.settled(metrics, new Date(finishedAt)));
  const waitedEnough = now.getTime() - Date.parse(finishedAt) >= deps.metricsWaitSeconds * 1000;
  if (!complete && !waitedEnough) return { ...settlement, outcome: 'awaiting-metrics' };
  await deps.store.saveArtifacts(container.name, { logs, metrics });
  await deps.runtime.delete(container.name);
  return { ...settlement, removed: true };
}

function kindOf(job: Job, deps: SettleDeps): TaskKind {
  // A kind removed since the job was made: the built-in kind's timeout and retries apply.
  return deps.kinds.get(job.kind) ?? deps.kinds.defaultKind;
}

/**
 * A running container of a kind that knows nothing of the store: InProgress once it runs, and
 * its progress from the `progress <fraction>` lines of its log.
 */
async function followRunning(job: Job, container: ContainerStatus, deps: SettleDeps): Promise<void> {
  if (job.state === 'Pending') await deps.store.markStarted(job.containerName, new Date(container.startedAt));
  const progress = progressFromLogs((await deps.runtime.logs(container.name)) ?? '');
  if (progress !== null) await deps.store.reportProgress(job.containerName, progress);
}

/** The current attempt was started (or its worker has written) and has not finished. */
function isCurrentAttemptActive(job: Job): boolean {
  return !isTerminal(job.state) && (job.dispatchedAt !== null || job.state === 'InProgress');
}

/**
 * A look at an earlier attempt of a job that is Pending again, its new attempt not yet
 * dispatched: that attempt's message may never have been sent (a crash between the job's move
 * and the send), so it is sent again. Its fixed id makes a repeat a duplicate the queue drops.
 */
async function resendIfUnsent(job: Job, deps: SettleDeps): Promise<void> {
  const awaitsDispatch = job.state === 'Pending' && job.dispatchedAt === null && job.priorAttempts.length > 0 && job.attempts === job.priorAttempts.length;
  if (awaitsDispatch) await deps.queue.send(workMessage(job, job.priorAttempts.length + 1));
}

/** The current attempt ended without finishing its task: another attempt, or Failed. */
async function endAttempt(job: Job, kind: TaskKind, end: AttemptEnd, logs: string, finishedAt: string, deps: SettleDeps, now: Date, settlement: Settlement): Promise<void> {
  // The built-in worker says why in its last line; another program's log ends with its story.
  const said = kind.store ? lastLogLine(logs) : logTail(logs);
  const what = end.kind === 'lost' ? describeEnd(end) : `${describeEnd(end)} before the task finished`;
  const reason = said ? `${what}: ${said}` : what;
  const attempt = Math.max(job.attempts, 1);
  if (shouldRetry(kind.retry, attempt, end)) {
    const next = { containerName: containerNameFor(job.id, attempt + 1), ended: { n: attempt, containerName: job.containerName, dispatchedAt: job.dispatchedAt, startedAt: job.startedAt, finishedAt, cpu: job.cpu, memoryGb: job.memoryGb, reason } };
    // The job moves on first, then its message: a crash in between is repaired by the next
    // look at this container, which is deleted only after both.
    settlement.retried = await deps.store.beginRetry(job.containerName, next);
    if (settlement.retried) await deps.queue.send(workMessage(job, attempt + 1));
    return;
  }
  const setting = kind.name === DEFAULT_KIND ? 'MAX_ATTEMPTS' : "the kind's maxAttempts";
  const gaveUp = shouldRetry({ ...kind.retry, maxAttempts: Infinity }, attempt, end) ? `; gave up after ${attempt} attempts (${setting})` : '';
  settlement.failed = (await deps.store.markFailed(job.containerName, now, `${reason}${gaveUp}`)) || settlement.failed;
}

function overdueReason(job: Job, kind: TaskKind, now: Date): string | null {
  const since = job.startedAt ?? job.dispatchedAt;
  if (!since) return null;
  const seconds = (now.getTime() - Date.parse(since)) / 1000;
  if (seconds <= kind.timeoutSeconds) return null;
  const setting = kind.name === DEFAULT_KIND ? 'TASK_TIMEOUT_SECONDS' : "the kind's timeoutSeconds";
  return job.state === 'Pending'
    ? `timed out: the container did not start the task within ${kind.timeoutSeconds} s (${setting})`
    : `timed out: still running after ${kind.timeoutSeconds} s (${setting})`;
}

function lastLogLine(logs: string): string {
  return logs.trim().split('\n').pop()?.trim() ?? '';
}
