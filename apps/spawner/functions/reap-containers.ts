import { app, type InvocationContext, type Timer } from '@azure/functions';
import { reap, type ReapReport } from '../reaper.js';
import type { SpawnerDeps } from '../spawner-deps.js';
import { spawnerDeps } from './deps.js';

/**
 * Timer trigger: the reaper. Copies logs and metrics of finished container groups to the
 * store and deletes the groups (so nothing bills and `pulumi destroy` finds nothing left), and
 * fails stuck, timed-out and dead-lettered jobs with the reason.
 */
export async function reapContainers(_timer: Timer, context: InvocationContext, deps: SpawnerDeps): Promise<ReapReport> {
  const report = await reap({
    store: deps.store,
    runtime: deps.runtime,
    metrics: deps.metrics,
    queue: deps.queue,
    taskTimeoutSeconds: deps.taskTimeoutSeconds,
    log: (line) => context.warn(line),
  });
  if (report.removed || report.failed || report.deadLettered) context.log(`reaper: ${JSON.stringify(report)}`);
  return report;
}

app.timer('reap-containers', {
  // Every 30 seconds: finished groups are deleted soon after they stop.
  schedule: '*/30 * * * * *',
  handler: async (timer, context) => {
    await reapContainers(timer, context, await spawnerDeps());
  },
});
