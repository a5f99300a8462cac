import { JOB_STATES, type Job, type JobState } from './job.js';
import type { UsageTotals } from './job-store.port.js';
import { billedUnits } from './pricing.js';

/**
 * The figures the dashboard's header shows for the whole store: tasks per state, and the billed
 * units of every attempt that has ended. The stores keep them as running figures, changed in the
 * same transaction as the job write that changes them, so reading them costs one row whatever
 * the history holds.
 */
export interface RunningTotals extends UsageTotals {
  counts: Record<JobState, number>;
}

export function noTotals(): RunningTotals {
  return { counts: Object.fromEntries(JOB_STATES.map((state) => [state, 0])) as Record<JobState, number>, vcpuSeconds: 0, gbSeconds: 0 };
}

/**
 * What a job adds to the totals: one in its state, and the units of its ended attempts: every
 * earlier one, and the current one once it has finished (a running attempt's cost is the
 * dashboard's to add, up to now). Each attempt is billed by `billedUnits`, as `jobCostUsd` bills it.
 */
function contribution(job: Job): UsageTotals {
  const ended = job.finishedAt ? [...job.priorAttempts, job] : job.priorAttempts;
  let vcpuSeconds = 0;
  let gbSeconds = 0;
  for (const attempt of ended) {
    const units = billedUnits(attempt);
    vcpuSeconds += units?.vcpuSeconds ?? 0;
    gbSeconds += units?.gbSeconds ?? 0;
  }
  return { vcpuSeconds, gbSeconds };
}

/**
 * How one write moves the totals: the job as it was (null for an insert) and as it is after.
 * Every way a write can change them comes out of the difference: a state left and one entered,
 * an attempt that ended (Done, Failed, or retried), a dispatch recorded after the worker finished.
 */
export function totalsChange(before: Job | null, after: Job): RunningTotals {
  const change = noTotals();
  change.counts[after.state] += 1;
  if (before) change.counts[before.state] -= 1;
  const added = contribution(after);
  const removed = before ? contribution(before) : { vcpuSeconds: 0, gbSeconds: 0 };
  change.vcpuSeconds = added.vcpuSeconds - removed.vcpuSeconds;
  change.gbSeconds = added.gbSeconds - removed.gbSeconds;
  return change;
}

/** The totals of a whole history, for a store that has none yet (made before they were kept). */
export function totalsOf(jobs: Iterable<Job>): RunningTotals {
  const totals = noTotals();
  for (const job of jobs) addTotals(totals, totalsChange(null, job));
  return totals;
}

export function addTotals(into: RunningTotals, change: RunningTotals): void {
  for (const state of JOB_STATES) into.counts[state] += change.counts[state];
  into.vcpuSeconds += change.vcpuSeconds;
  into.gbSeconds += change.gbSeconds;
}

export function isNoChange(change: RunningTotals): boolean {
  return change.vcpuSeconds === 0 && change.gbSeconds === 0 && JOB_STATES.every((state) => change.counts[state] === 0);
}
