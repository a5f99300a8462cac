import type { ContainerMetrics, ContainerRuntime } from '../core/domain/container-runtime.port.js';
import type { JobStore } from '../core/domain/job-store.port.js';
import type { KindCatalog } from '../core/domain/task-kind.js';
import type { WorkQueue } from '../core/domain/work-queue.port.js';
import type { WorkerLaunch } from './dispatch.js';

/** Everything the Function handlers need, whichever adapters stand behind the ports. */
export interface SpawnerDeps {
  store: JobStore;
  runtime: ContainerRuntime;
  metrics: ContainerMetrics;
  /** For deferred resends, next attempts, watches and the dead letter queue. */
  queue: WorkQueue;
  launch: WorkerLaunch;
  /** Each kind's timeout and retry policy. */
  kinds: KindCatalog;
  maxConcurrent: number;
  deferSeconds: number;
  /** Seconds between looks at a running task (its watch messages). */
  watchSeconds: number;
  /** How long a finished group is kept for Azure Monitor's late metrics. */
  metricsWaitSeconds: number;
  /** Whether ACI's quota is tight: a group kept for metrics is then deleted early (settle-task.ts). */
  quotaTight?: () => Promise<boolean>;
}
