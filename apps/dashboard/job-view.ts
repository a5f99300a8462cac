import type { Job } from '../core/domain/job.js';
import { jobCostUsd, type PriceTable } from '../core/domain/pricing.js';

export type JobView = Job & { costUsd: number | null };

/** A job as the API and the pages show it: the record plus what its container cost. */
export function toJobView(job: Job, prices: PriceTable, now = new Date()): JobView {
  return { ...job, costUsd: jobCostUsd(job, prices, now) };
}
