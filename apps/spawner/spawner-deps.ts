import type { RetryPolicy } from '../core/domain/retry-policy.js';
import type { ContainerMetrics, ContainerRuntime } from '../core/domain/container-runtime.port.js';
import type { JobStore } from '../core/domain/job-store.port.js';
import type { WorkQueue } from '../core/domain/work-queue.port.js';
import type { WorkerLaunch } from './dispatch.js';

/** Everything the Function handlers need, whichever adapters stand behind the ports. */
export interface SpawnerDeps {
  store: JobStore;
  runtime: ContainerRuntime;
  metrics: ContainerMetrics;
  /** For deferred resends and the dead letter queue. */
  queue: WorkQueue;
  launch: WorkerLaunch;
  maxConcurrent: number;
  taskTimeoutSeconds: number;
  deferSeconds: number;
  /** Seconds between looks at a running task (its watch messages). */
  watchSeconds: number;
  /** How long a finished group is kept for Azure Monitor's late metrics. */
  metricsWaitSeconds: number;
  retryPolicy: RetryPolicy;
}
