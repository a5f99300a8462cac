import type { ContainerMetrics, ContainerRuntime, FollowableLogs } from '../core/domain/container-runtime.port.js';
import type { JobStore } from '../core/domain/job-store.port.js';
import type { WorkQueue } from '../core/domain/work-queue.port.js';
import type { PriceTable } from '../core/domain/pricing.js';
import type { KindCatalog } from '../core/domain/task-kind.js';

/** What the dashboard needs, chosen by its composition root (local stack or App Service). */
export interface DashboardDeps {
  store: JobStore;
  queue: WorkQueue;
  /** Logs of containers that still exist; followed by offset where the runtime can (a local file), else its tail. */
  runtime: Pick<ContainerRuntime, 'logs'> & Partial<FollowableLogs>;
  metrics: ContainerMetrics;
  prices: PriceTable;
  /** "ACI equivalent" on the local stack, where nothing is billed. */
  costLabel: string;
  /** The task kinds a request may name, the built-in `default` first. */
  kinds: KindCatalog;
  /** A kind's container environment besides MESSAGE and CONTAINER_NAME, to check a message fits it. */
  kindEnvironment?: (kind: string) => Record<string, string> | undefined;
  /**
   * Why storage can't take work now (a full disk, a read-only DATA_DIR, a damaged store), or
   * null. While it says so, /healthz answers 503 with it and submits are refused with it.
   */
  storageFault?: () => Promise<string | null>;
}
