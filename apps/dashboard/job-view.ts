import type { Job } from '../core/domain/job.js';
import { jobCostUsd, type PriceTable } from '../core/domain/pricing.js';

export type JobView = Job & { costUsd: number | null };

/** A job as the pages show it: the record plus what its container cost. */
export function toJobView(job: Job, prices: PriceTable, now = new Date()): JobView {
  return { ...job, costUsd: roundUsd(jobCostUsd(job, prices, now)) };
}

/** A task as the JSON API returns it: `output` as JSON where the program gave it as JSON. */
export type ApiJob = Omit<JobView, 'output' | 'outputJson'> & { output: unknown };

/**
 * The API's task object (README, "The task object"). A program whose last output was
 * `{"output": <JSON value>}` gets that value back as JSON; any other result, and every job
 * finished before `outputJson` was kept, is the text it always was.
 */
export function toApiJob(job: Job, prices: PriceTable, now = new Date()): ApiJob {
  const { outputJson, output, ...rest } = toJobView(job, prices, now);
  return { ...rest, output: outputJson === null ? output : (JSON.parse(outputJson) as unknown) };
}

/**
 * Money to a billionth of a dollar: per-second prices times seconds carry binary float noise
 * (0.000014999999999999999), and no bill is finer than this.
 */
function roundUsd(usd: number | null): number | null {
  return usd === null ? null : Math.round(usd * 1e9) / 1e9;
}
