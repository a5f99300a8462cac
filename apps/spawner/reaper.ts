import { errorMessage } from '../core/domain/errors.js';
import type { Job } from '../core/domain/job.js';
import type { JobStore, SettleStore } from '../core/domain/job-store.port.js';
import type { WorkQueue } from '../core/domain/work-queue.port.js';
import { settleDeadLetter } from './dead-letters.js';
import { settleTask, type Settlement } from './settle-task.js';
import type { WatchDeps } from './watch.js';

export interface ReaperDeps extends WatchDeps {
  /** The sweep also lists the active jobs, to find those whose container is gone. */
  store: SettleStore & Pick<JobStore, 'listActive'>;
  queue: WorkQueue;
  log: (line: string) => void;
}

export interface ReapReport {
  removed: number;
  failed: number;
  retried: number;
  deadLettered: number;
}

const DEAD_LETTER_BATCH = 100;

/**
 * The local stack's housekeeping, one sweep over every task at once (a loop is free on one
 * machine; on Azure each task is watched by its own messages instead): each container and
 * each active task gets one look (settleTask), and each dead letter is recorded.
 */
export async function reap(deps: ReaperDeps, now = new Date()): Promise<ReapReport> {
  const report: ReapReport = { removed: 0, failed: 0, retried: 0, deadLettered: 0 };
  const count = ({ failed, retried, removed }: Settlement) => {
    if (failed) report.failed++;
    if (retried) report.retried++;
    if (removed) report.removed++;
  };
  // Jobs before containers: a job seen as active here had its container created before this
  // read, so a container missing from the later listing is really gone.
  const active = new Map((await deps.store.listActive()).map((job) => [job.id, job]));
  const containers = await deps.runtime.list();
  for (const container of containers) {
    try {
      // The container names its job: an earlier attempt's container is found even after the job moved on.
      const job: Job | null = container.jobId ? (active.get(container.jobId) ?? (await deps.store.get(container.jobId))) : null;
      count(await settleTask(job, container.name, container, deps, now));
    } catch (error) {
      deps.log(`reaper: container ${container.name}: ${errorMessage(error)}`);
    }
  }
  const present = new Set(containers.map((c) => c.name));
  for (const job of active.values()) {
    if (!present.has(job.containerName)) count(await settleTask(job, job.containerName, null, deps, now));
  }
  report.deadLettered = await settleDeadLetters(deps, now);
  return report;
}

/**
 * Every dead letter waiting, recorded (settleDeadLetter) and removed: the sweep's duty, and the
 * local queue's dead-letter event's. Returns how many failed their task.
 */
export async function settleDeadLetters(deps: Pick<ReaperDeps, 'queue' | 'log'> & WatchDeps, now = new Date()): Promise<number> {
  let failed = 0;
  for (;;) {
    const letters = await deps.queue.receiveDeadLetters(DEAD_LETTER_BATCH);
    for (const letter of letters) {
      const outcome = await settleDeadLetter(letter, deps, now);
      if (outcome === 'failed') failed++;
      if (outcome === 'poison') deps.log(`spawner: recorded poison message ${letter.messageId}: ${letter.description}`);
      await deps.queue.complete(letter);
    }
    if (letters.length < DEAD_LETTER_BATCH) return failed;
  }
}
