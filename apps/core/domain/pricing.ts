import type { Job } from './job.js';
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

/**
 * What a job's container cost: ACI bills from the start of the image pull to the end of the
 * container, per second, for the vCPU and memory it was given. Dispatch is the nearest
 * recorded moment to the pull; a running job is priced up to `now`.
 */
export function jobCostUsd(job: Job, prices: PriceTable, now: Date = new Date()): number | null {
  if (job.cpu === null || job.memoryGb === null) return null;
  const from = job.dispatchedAt ?? job.startedAt;
  if (!from) return null;
  const until = job.finishedAt ? Date.parse(job.finishedAt) : now.getTime();
  const seconds = Math.max(0, Math.ceil((until - Date.parse(from)) / 1000));
  return seconds * costPerSecondUsd(job.cpu, job.memoryGb, prices);
}

export function costPerSecondUsd(cpu: number, memoryGb: number, prices: PriceTable): number {
  return cpu * prices.vcpuSecondUsd + memoryGb * prices.gbSecondUsd;
}

export function usageCostUsd(usage: UsageTotals, prices: PriceTable): number {
  return usage.vcpuSeconds * prices.vcpuSecondUsd + usage.gbSeconds * prices.gbSecondUsd;
}
