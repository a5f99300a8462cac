import { containerNameFor } from '../core/domain/container-name.js';
import { isTerminal, type Job } from '../core/domain/job.js';
import type { SettleStore } from '../core/domain/job-store.port.js';
import { RetryLaterError, type ContainerMetrics, type ContainerRuntime, type ContainerStatus } from '../core/domain/container-runtime.port.js';
import { failureTail, outputFromLogs, outputJsonFromLogs, progressFromLogs } from '../core/domain/container-output.js';
import type { AttemptEnd } from '../core/domain/attempt-end.js';
import { describeEnd, endOfContainer, shouldRetry, startWaitOver } from '../core/domain/retry-policy.js';
import { DEFAULT_KIND, startWaitSecondsOf, type KindCatalog, type TaskKind } from '../core/domain/task-kind.js';
import { workMessage } from '../core/domain/work-message.js';
import type { Deferral, WorkQueue } from '../core/domain/work-queue.port.js';
import { putOffOrFail } from './not-started.js';

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
  /**
   * Whether the platform's quota is tight (a start was just kept out for it): a group kept for
   * its late metrics is then deleted at once, with the metrics it has so far. Absent where groups
   * count against no quota.
   */
  quotaTight?: () => Promise<boolean>;
  /** The first wait of a start put off (doubled for each later one); default 5 s. */
  deferSeconds?: number;
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
 * container runs an attempt of. A container not started yet (ACI provisioning) is looked at
 * again until the kind's start wait; one whose start failed with no container run is put off
 * and started again (a platform cause) or fails its task (the kind's own). A container that
 * runs too long has its logs read, is stopped, saved and deleted, and its task Failed. When
 * the task's current attempt has ended without finishing it, the task either
 * runs again as a new attempt (the retry policy: a lost or killed container always, while
 * attempts remain) or is Failed with the exit code and the program's last words (failureTail). A finished container
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
  /** The deferral chain of the work that started this container (Azure's watch carries it). */
  deferral?: Deferral,
): Promise<Settlement> {
  const settlement: Settlement = { outcome: 'settled', failed: false, retried: false, removed: false };
  const current = job !== null && job.containerName === containerName;
  if (!found) {
    if (current && isCurrentAttemptActive(job)) await endAttempt(job, kindOf(job, deps), { kind: 'lost' }, '', now.toISOString(), deps, now, settlement);
    else if (job && !current) await resendIfUnsent(job, deps);
    return settlement;
  }
  const container = found;
  const kind = job ? kindOf(job, deps) : deps.kinds.defaultKind;
  const active = current && !isTerminal(job.state);
  if (container.state === 'NotStarted') {
    // Provisioning (ACI pulls the image): nothing ran, so no start is recorded. Bounded by the
    // kind's start wait, counted from the first refusal of this attempt, else its dispatch.
    const since = deferral?.since ?? (active ? job.dispatchedAt : null);
    const overdue = !active || (since !== null && startWaitOver({ since: new Date(since), seconds: startWaitSecondsOf(kind), now }));
    if (!overdue) return { ...settlement, outcome: 'running' };
    if (active) {
      const cause = `its container was still being provisioned after ${startWaitSecondsOf(kind)} s`;
      settlement.failed = (await putOffOrFail({ jobId: job.id, message: job.message, attempt: job.attempts || 1, deferral }, kind, cause, false, deps, now)) === 'failed';
    }
    return removeNow(container.name, '', deps, settlement);
  }
  if (container.startFailure) {
    // No container ran: a platform cause is put off and tried again (the group deleted first,
    // so the start can create it again), the kind's own cause fails the task with ACI's message.
    const failure = container.startFailure;
    if (active) {
      const cause = `ACI: ${failure.code}: ${failure.message}`;
      const attempt = { jobId: job.id, message: job.message, attempt: Math.max(job.attempts, 1), deferral };
      settlement.failed = (await putOffOrFail(attempt, kind, cause, failure.platform, deps, now)) === 'failed';
    }
    return removeNow(container.name, (await deps.runtime.logs(container.name)) ?? '', deps, settlement);
  }
  if (container.state === 'Running') {
    const overdue = !job ? 'it belongs to no job' : !current ? 'it belongs to an earlier attempt' : overdueReason(job, kind, now, container.startedAt);
    if (!overdue) {
      if (active && !kind.store) await followRunning(job, container, deps);
      return { ...settlement, outcome: 'running' };
    }
    // Logs first: a stopped group keeps only its last 16 KB or 1,000 lines (Learn:
    // container-instances-resource-and-quota-limits). Then stopped, saved and deleted at this
    // look: a stopped group reports no more metrics worth waiting for.
    const logs = (await deps.runtime.logs(container.name)) ?? '';
    if (active) settlement.failed = await deps.store.markFailed(job.containerName, now, overdue);
    await deps.runtime.stop(container.name, 'timeout');
    return removeNow(container.name, logs, deps, settlement);
  }

  const read = await deps.runtime.logs(container.name);
  // Gone since this look found it: another look (the local stack's event and its sweep can meet
  // on one container) has settled it and saved its logs; an empty copy must not replace them.
  if (read === null) return settlement;
  const logs = read;
  const finishedAt = container.finishedAt ?? now.toISOString();
  if (active) {
    if (!kind.store && container.exitCode === 0) {
      // A kind that knows nothing of the store: its exit 0 is its Done, its output its result.
      await deps.store.markStarted(job.containerName, new Date(container.startedAt ?? finishedAt));
      await deps.store.markDone(job.containerName, new Date(finishedAt), outputFromLogs(logs), outputJsonFromLogs(logs));
    } else {
      const end: AttemptEnd = container.end ?? endOfContainer(container);
      // The built-in worker says why in its last line; another program, in its error output or its log.
      const said = kind.store ? lastLogLine(logs) : failureTail(logs, (await deps.runtime.errorOutput?.(container.name)) ?? null);
      if (!kind.store) await recordLastProgress(job, container, logs, deps);
      await endAttempt(job, kind, end, said, finishedAt, deps, now, settlement);
    }
  } else if (job && !current) {
    await resendIfUnsent(job, deps);
  }

  const metrics = await deps.metrics.metrics(container.name);
  // As for the logs: a container deleted by another look meanwhile has its copy saved already.
  if (metrics === null && (await deps.runtime.status(container.name)) === null) return settlement;
  const complete = deps.metrics.settled === undefined || (metrics !== null && deps.metrics.settled(metrics, new Date(finishedAt)));
  const waitedEnough = now.getTime() - Date.parse(finishedAt) >= deps.metricsWaitSeconds * 1000;
  if (!complete && !waitedEnough && !(await deps.quotaTight?.())) return { ...settlement, outcome: 'awaiting-metrics' };
  await deps.store.saveArtifacts(container.name, { logs, metrics });
  try {
    await deps.runtime.delete(container.name);
  } catch (error) {
    // The delete window is full (ACI counts deletes too): the group stays, and a later look deletes it.
    if (error instanceof RetryLaterError) return { ...settlement, outcome: 'awaiting-metrics' };
    throw error;
  }
  return { ...settlement, removed: true };
}

/** Saves what there is (its logs, the metrics reported so far) and deletes the container now. */
async function removeNow(name: string, logs: string, deps: SettleDeps, settlement: Settlement): Promise<Settlement> {
  const metrics = await deps.metrics.metrics(name);
  await deps.store.saveArtifacts(name, { logs, metrics });
  try {
    await deps.runtime.delete(name);
  } catch (error) {
    // The delete window is full (ACI counts deletes too): the group stays, and a later look deletes it.
    if (error instanceof RetryLaterError) return { ...settlement, outcome: 'awaiting-metrics' };
    throw error;
  }
  return { ...settlement, outcome: 'settled', removed: true };
}

export function kindOf(job: Job, deps: Pick<SettleDeps, 'kinds'>): TaskKind {
  // A kind removed since the job was made: the built-in kind's timeout and retries apply.
  return deps.kinds.get(job.kind) ?? deps.kinds.defaultKind;
}

/**
 * A running container of a kind that knows nothing of the store: InProgress once it runs, and
 * its progress from the `progress <fraction>` lines of its log.
 */
async function followRunning(job: Job, container: ContainerStatus, deps: SettleDeps): Promise<void> {
  // Only a real start is recorded: a Running container always has one.
  if (job.state === 'Pending' && container.startedAt) await deps.store.markStarted(job.containerName, new Date(container.startedAt));
  const progress = progressFromLogs((await deps.runtime.logs(container.name)) ?? '');
  if (progress !== null) await deps.store.reportProgress(job.containerName, progress);
}

/**
 * A failed task's progress is the last its program reported (the card shows how far it got), not
 * whatever the last look while it ran happened to see: the store moves progress only forward.
 */
async function recordLastProgress(job: Job, container: ContainerStatus, logs: string, deps: SettleDeps): Promise<void> {
  const progress = progressFromLogs(logs);
  if (progress === null) return;
  if (job.state === 'Pending' && container.startedAt !== null) await deps.store.markStarted(job.containerName, new Date(container.startedAt));
  await deps.store.reportProgress(job.containerName, progress);
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
async function endAttempt(job: Job, kind: TaskKind, end: AttemptEnd, said: string, finishedAt: string, deps: SettleDeps, now: Date, settlement: Settlement): Promise<void> {
  const what = describeEnd(end);
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

/**
 * When the current attempt is overdue (ms since the epoch): its kind's timeout after its start,
 * or after its dispatch while it has not started; null while it has neither. A timer set for it
 * (the local stack's) and a look (overdueReason) agree on the moment. `containerStartedAt`: its
 * container's real start, so that time spent provisioning (ACI) is not counted as running.
 */
export function deadlineOf(job: Job, kind: TaskKind, containerStartedAt: string | null = null): number | null {
  const since = job.startedAt ?? containerStartedAt ?? job.dispatchedAt;
  return since ? Date.parse(since) + kind.timeoutSeconds * 1000 : null;
}

function overdueReason(job: Job, kind: TaskKind, now: Date, containerStartedAt: string | null): string | null {
  const deadline = deadlineOf(job, kind, containerStartedAt);
  if (deadline === null || now.getTime() <= deadline) return null;
  const setting = kind.name === DEFAULT_KIND ? 'TASK_TIMEOUT_SECONDS' : "the kind's timeoutSeconds";
  return job.state === 'Pending'
    ? `timed out: the container did not start the task within ${kind.timeoutSeconds} s (${setting})`
    : `timed out: still running after ${kind.timeoutSeconds} s (${setting})`;
}

function lastLogLine(logs: string): string {
  return logs.trim().split('\n').pop()?.trim() ?? '';
}
