import { billedUnits, usageCostUsd } from '../core/domain/pricing.js';
import type { DashboardDeps } from './deps.js';
import type { Totals } from './views/totals.js';

/**
 * The header's figures: counts and billed totals are running figures in the store (one read),
 * to which only the running attempts' cost so far is added.
 */
export async function currentTotals(deps: DashboardDeps): Promise<Totals> {
  const [counts, usage, active] = await Promise.all([deps.store.counts(), deps.store.usageTotals(), deps.store.listActive()]);
  const now = new Date();
  // The usage totals hold every ended attempt already: add only the running ones.
  const running = active.reduce((sum, job) => {
    const units = billedUnits(job, now);
    return sum + (units ? usageCostUsd(units, deps.prices) : 0);
  }, 0);
  return { counts, costUsd: usageCostUsd(usage, deps.prices) + running, costLabel: deps.costLabel };
}
