import type { AttemptRecord, Job } from './job.js';
import type { UsageTotals } from './job-store.port.js';

/**
 * ACI Linux pay-as-you-go prices per second (USD). Defaults are the published East US rates
 * (vCPU $0.0000135/s, memory $0.0000015 per GiB-s); settings override them for other regions.
 */
export interface PriceTable {
  vcpuSecondUsd: number;
  gbSecondUsd: number;
}

export const DEFAULT_PRICES: PriceTable = { vcpuSecondUsd: 0.0000135, gbSecondUsd: 0.0000015 };

/** What one attempt's container was given, and when it ran: enough to bill it. */
type Billable = Pick<AttemptRecord, 'dispatchedAt' | 'startedAt' | 'cpu' | 'memoryGb'> & { finishedAt: string | null };

/**
 * The billing units of one attempt: ACI bills from the start of the image pull to the end of
 * the container, per second, each started second whole, for the vCPU and memory it was given.
 * Dispatch is the nearest recorded moment to the pull; a running attempt is billed up to `now`.
 */
export function billedUnits(attempt: Billable, now: Date = new Date()): UsageTotals | null {
  if (attempt.cpu === null || attempt.memoryGb === null) return null;
  const from = attempt.dispatchedAt ?? attempt.startedAt;
  if (!from) return null;
  const until = attempt.finishedAt ? Date.parse(attempt.finishedAt) : now.getTime();
  const seconds = Math.max(0, Math.ceil((until - Date.parse(from)) / 1000));
  return { vcpuSeconds: seconds * attempt.cpu, gbSeconds: seconds * attempt.memoryGb };
}

/** What a task cost: every attempt's container, the current one up to `now` while it runs. */
export function jobCostUsd(job: Job, prices: PriceTable, now: Date = new Date()): number | null {
  const units = [...job.priorAttempts, job].map((attempt) => billedUnits(attempt, now)).filter((u) => u !== null);
  if (units.length === 0) return null;
  return units.reduce((sum, u) => sum + usageCostUsd(u, prices), 0);
}

export function costPerSecondUsd(cpu: number, memoryGb: number, prices: PriceTable): number {
  return cpu * prices.vcpuSecondUsd + memoryGb * prices.gbSecondUsd;
}

export function usageCostUsd(usage: UsageTotals, prices: PriceTable): number {
  return usage.vcpuSeconds * prices.vcpuSecondUsd + usage.gbSeconds * prices.gbSecondUsd;
}
