import { isTerminal } from '../core/domain/job.js';
import { startWaitSecondsOf } from '../core/domain/task-kind.js';
import type { Deferral, WatchMessageBody } from '../core/domain/work-queue.port.js';
import { settleTask, type SettleDeps } from './settle-task.js';

export interface WatchDeps extends SettleDeps {
  /** Seconds between looks at a running task. */
  watchSeconds: number;
}

/**
 * While a finished container's metrics are awaited (Azure Monitor lags by minutes): about ten
 * looks over the wait, never more often than a running task is looked at, at most every 30 s.
 */
function metricsLookSeconds(deps: Pick<WatchDeps, 'watchSeconds' | 'metricsWaitSeconds'>): number {
  return Math.max(deps.watchSeconds, Math.min(30, deps.metricsWaitSeconds / 10));
}
// Beyond the timeout and the metrics wait, room for the looks themselves to run late.
const CHAIN_SLACK_SECONDS = 120;

export type WatchOutcome = 'watching' | 'settled' | 'ended';

/**
 * One chain per start of an attempt: its container's name is unique to the attempt, and a start
 * put off and made again (deferral n) begins a chain of its own.
 */
function watchMessageId(watch: Pick<WatchMessageBody, 'containerName' | 'n' | 'deferral'>): string {
  return watch.deferral ? `${watch.containerName}.deferred.${watch.deferral.n}.watch.${watch.n}` : `${watch.containerName}.watch.${watch.n}`;
}

// The first look soon after the start (ACI accepts a create at once and provisions for seconds
// to minutes); each later look waits twice as long, up to the watch interval.
const FIRST_LOOK_SECONDS = 5;

/** The wait before look `n` of a chain. */
export function lookDelaySeconds(n: number, watchSeconds: number): number {
  return Math.min(watchSeconds, FIRST_LOOK_SECONDS * 2 ** Math.min(n - 1, 20));
}

/**
 * Starts the watch chain of an attempt when its container has been started (Azure: instead
 * of a timer, which would wake the Function app around the clock). Sent again for a
 * redelivered work message, it is the same message id and duplicate detection drops it.
 */
export async function startWatching(jobId: string, containerName: string, deps: WatchDeps, now = new Date(), deferral?: Deferral): Promise<void> {
  // The longest any kind may wait to start and run: the chain's last resort, beyond which its looks kept failing.
  const longest = Math.max(...deps.kinds.names().map((name) => startWaitSecondsOf(deps.kinds.get(name)!) + deps.kinds.get(name)!.timeoutSeconds));
  const untilMs = now.getTime() + (longest + deps.metricsWaitSeconds + CHAIN_SLACK_SECONDS) * 1000;
  const watch: WatchMessageBody = { type: 'watch', jobId, containerName, n: 1, until: new Date(untilMs).toISOString(), ...(deferral ? { deferral } : {}) };
  await sendWatch(watch, lookDelaySeconds(1, deps.watchSeconds), deps, now);
}

/**
 * One watch message: one look at its task. Unless the task is settled (finished, its
 * metrics saved, its container deleted), the next watch is sent before this one returns, so a
 * crash between the two leaves a chain, never none; a repeated send is the same message id,
 * dropped by duplicate detection. The chain ends at the latest at `until`.
 */
export async function watchTask(watch: WatchMessageBody, deps: WatchDeps, now = new Date()): Promise<WatchOutcome> {
  const job = await deps.store.get(watch.jobId);
  if (!job) return 'ended';
  const settlement = await settleTask(job, watch.containerName, await deps.runtime.status(watch.containerName), deps, now, watch.deferral);
  if (settlement.outcome === 'settled') return 'settled';
  if (now.getTime() >= Date.parse(watch.until)) {
    await endChain(watch, deps, now);
    return 'ended';
  }
  const delay = settlement.outcome === 'running' ? lookDelaySeconds(watch.n + 1, deps.watchSeconds) : metricsLookSeconds(deps);
  await sendWatch({ ...watch, n: watch.n + 1 }, delay, deps, now);
  return 'watching';
}

/**
 * A watch that reached the dead letter queue (every delivery of it failed): the chain goes on
 * with the next link, unless it is past its end, when the task is failed if it never finished.
 */
export async function restartWatch(watch: WatchMessageBody, deps: WatchDeps, now = new Date()): Promise<WatchOutcome> {
  if (now.getTime() >= Date.parse(watch.until)) {
    await endChain(watch, deps, now);
    return 'ended';
  }
  await sendWatch({ ...watch, n: watch.n + 1 }, deps.watchSeconds, deps, now);
  return 'watching';
}

async function sendWatch(watch: WatchMessageBody, delaySeconds: number, deps: WatchDeps, now: Date): Promise<void> {
  await deps.queue.send({
    messageId: watchMessageId(watch),
    body: watch,
    scheduledAt: new Date(now.getTime() + delaySeconds * 1000),
  });
}

/**
 * `until` lies past the timeout and the metrics wait, so a look that works has settled the task
 * by then; reaching it means the looks kept failing. The task is failed rather than left
 * running for ever; a container left behind has stopped (restartPolicy Never) and bills nothing.
 */
async function endChain(watch: WatchMessageBody, deps: WatchDeps, now: Date): Promise<void> {
  const job = await deps.store.get(watch.jobId);
  if (job && job.containerName === watch.containerName && !isTerminal(job.state)) {
    await deps.store.markFailed(job.containerName, now, `the spawner stopped watching this task at ${watch.until} without seeing it finish`);
  }
}
