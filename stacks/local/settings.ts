import { resolve } from 'node:path';
import { databaseUriProblem } from '../../apps/core/adapters/open-job-store.js';
import { DEFAULT_PRICES, type PriceTable } from '../../apps/core/domain/pricing.js';
import type { RetryPolicy } from '../../apps/core/domain/retry-policy.js';
import { ACI_LINUX_LIMITS, TIMEOUT_LIMITS, type KindCatalog } from '../../apps/core/domain/task-kind.js';
import { defaultKind, readKindsFile } from '../../apps/core/kind-settings.js';
import { readRetryPolicy } from '../../apps/core/retry-settings.js';
import { SettingsReader } from '../../apps/core/settings.js';
import { readServedHosts, type ServedAs } from '../../apps/dashboard/served-as.js';
import { DEFAULT_WORK_SECONDS } from '../../apps/core/domain/worker-contract.js';

/** Every setting of `npm start`, read once from the environment (README: "Settings"). */
export interface LocalSettings {
  host: string;
  port: number;
  /** The host names the dashboard answers (loopback names for the default bind, ALLOWED_HOSTS). */
  servedAs: ServedAs;
  dataDir: string;
  databaseUri: string;
  maxConcurrent: number;
  workSeconds: number;
  taskTimeoutSeconds: number;
  maxDeliveryCount: number;
  lockDurationSeconds: number;
  duplicateWindowSeconds: number;
  reapIntervalSeconds: number;
  metricsIntervalMs: number;
  shutdownGraceSeconds: number;
  retryPolicy: RetryPolicy;
  workerCpu: number;
  workerMemoryGb: number;
  prices: PriceTable;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'silent';
  /** The built-in worker's kind and the ones KINDS_FILE declares. */
  kinds: KindCatalog;
}

export function readLocalSettings(env: Record<string, string | undefined>): LocalSettings {
  const read = new SettingsReader(env);
  const dataDir = resolve(read.string('DATA_DIR', '.data'));
  const host = read.string('HOST', '127.0.0.1');
  const databaseUri = read.string('DATABASE_URI', `sqlite:${resolve(dataDir, 'jobs.db')}`);
  const uriProblem = databaseUriProblem(databaseUri);
  if (uriProblem) read.problem(uriProblem);
  const workSeconds = read.number('WORK_SECONDS', DEFAULT_WORK_SECONDS, { min: 0 });
  const taskTimeoutSeconds = read.number('TASK_TIMEOUT_SECONDS', 600, TIMEOUT_LIMITS);
  const retryPolicy = readRetryPolicy(read);
  const workerCpu = read.number('WORKER_CPU', 1, ACI_LINUX_LIMITS.cpu);
  const workerMemoryGb = read.number('WORKER_MEMORY_GB', 1.5, ACI_LINUX_LIMITS.memoryGb);
  const kindsFile = read.string('KINDS_FILE', '');
  const builtIn = defaultKind({ cpu: workerCpu, memoryGb: workerMemoryGb, timeoutSeconds: taskTimeoutSeconds, retry: retryPolicy, workSeconds });
  const settings: LocalSettings = {
    host,
    port: read.integer('PORT', 3000, { min: 0, max: 65535 }),
    servedAs: { hosts: readServedHosts(read, host), scheme: 'http', anyHostPaths: [] },
    dataDir,
    databaseUri,
    maxConcurrent: read.integer('MAX_CONCURRENT', 4, { min: 1, max: 256 }),
    workSeconds,
    taskTimeoutSeconds,
    maxDeliveryCount: read.integer('MAX_DELIVERY_COUNT', 5, { min: 1, max: 2000 }),
    lockDurationSeconds: read.number('LOCK_DURATION_SECONDS', 60, { min: 1, max: 300 }),
    duplicateWindowSeconds: read.number('DUPLICATE_WINDOW_SECONDS', 600, { min: 20 }),
    reapIntervalSeconds: read.number('REAP_INTERVAL_SECONDS', 2, { min: 0.1 }),
    metricsIntervalMs: read.integer('METRICS_INTERVAL_MS', 1000, { min: 50 }),
    shutdownGraceSeconds: read.number('SHUTDOWN_GRACE_SECONDS', 30, { min: 0 }),
    retryPolicy,
    workerCpu,
    workerMemoryGb,
    prices: {
      vcpuSecondUsd: read.number('PRICE_VCPU_SECOND', DEFAULT_PRICES.vcpuSecondUsd, { min: 0 }),
      gbSecondUsd: read.number('PRICE_GB_SECOND', DEFAULT_PRICES.gbSecondUsd, { min: 0 }),
    },
    logLevel: read.oneOf('LOG_LEVEL', ['fatal', 'error', 'warn', 'info', 'debug', 'silent'], 'warn'),
    // kinds.json where `npm start` runs, unless KINDS_FILE names another file.
    kinds: readKindsFile(read, resolve(kindsFile || 'kinds.json'), kindsFile !== '', builtIn),
  };
  read.done();
  return settings;
}
