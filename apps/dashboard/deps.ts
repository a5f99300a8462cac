import type { ContainerMetrics, ContainerRuntime } from '../core/domain/container-runtime.port.js';
import type { JobStore } from '../core/domain/job-store.port.js';
import type { WorkQueue } from '../core/domain/work-queue.port.js';
import type { PriceTable } from '../core/domain/pricing.js';
import type { KindCatalog } from '../core/domain/task-kind.js';

/** What the dashboard needs, chosen by its composition root (local stack or App Service). */
export interface DashboardDeps {
  store: JobStore;
  queue: WorkQueue;
  /** Logs of containers that still exist. */
  runtime: Pick<ContainerRuntime, 'logs'>;
  metrics: ContainerMetrics;
  prices: PriceTable;
  /** "ACI equivalent" on the local stack, where nothing is billed. */
  costLabel: string;
  /** The task kinds a request may name, the built-in `default` first. */
  kinds: KindCatalog;
}
