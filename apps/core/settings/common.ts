import { DEFAULT_PRICES, type PriceTable } from '../domain/pricing.js';
import { ACI_LINUX_LIMITS, MAX_ATTEMPTS_LIMITS, TIMEOUT_LIMITS, type TaskKind } from '../domain/task-kind.js';
import { DEFAULT_WORK_SECONDS } from '../domain/worker-contract.js';
import type { SettingsReader } from './reader.js';
import { defaultKind } from './kinds.js';
import { readRetryPolicy } from './retry.js';

/**
 * One vocabulary for the settings every stack shares: the same names, defaults and bounds in
 * the local stack, the apps on Azure and the Pulumi program's config (which uses these bounds
 * too), so that a value one accepts the other never refuses.
 */
export const SETTING_LIMITS = {
  workerCpu: ACI_LINUX_LIMITS.cpu,
  workerMemoryGb: ACI_LINUX_LIMITS.memoryGb,
  workSeconds: { min: 0, max: 86_400 },
  taskTimeoutSeconds: TIMEOUT_LIMITS,
  maxAttempts: MAX_ATTEMPTS_LIMITS,
  // Service Bus's bounds, kept by the embedded queue too: a lock of at most 5 minutes
  // (https://learn.microsoft.com/dotnet/api/azure.messaging.servicebus.administration.createqueueoptions.lockduration;
  // at least 5 s is ours: a shorter one expires under a busy spawner), a duplicate window of
  // 20 s to 7 days (…queueproperties.duplicatedetectionhistorytimewindow).
  maxDeliveryCount: { min: 1, max: 2000 },
  lockDurationSeconds: { min: 5, max: 300 },
  duplicateWindowSeconds: { min: 20, max: 604_800 },
  priceUsd: { min: 0, max: 1 },
} as const;

export const SETTING_DEFAULTS = {
  workerCpu: 1,
  workerMemoryGb: 1.5,
  workSeconds: DEFAULT_WORK_SECONDS,
  taskTimeoutSeconds: 600,
  maxDeliveryCount: 5,
  lockDurationSeconds: 60,
  duplicateWindowSeconds: 600,
} as const;

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/**
 * The built-in worker's kind, from WORKER_CPU, WORKER_MEMORY_GB, WORK_SECONDS,
 * TASK_TIMEOUT_SECONDS, MAX_ATTEMPTS and RETRY_EXIT_CODES: also the defaults of every other kind.
 */
export function readBuiltInKind(read: SettingsReader): TaskKind {
  return defaultKind({
    cpu: read.number('WORKER_CPU', SETTING_DEFAULTS.workerCpu, SETTING_LIMITS.workerCpu),
    memoryGb: read.number('WORKER_MEMORY_GB', SETTING_DEFAULTS.workerMemoryGb, SETTING_LIMITS.workerMemoryGb),
    workSeconds: read.number('WORK_SECONDS', SETTING_DEFAULTS.workSeconds, SETTING_LIMITS.workSeconds),
    timeoutSeconds: read.number('TASK_TIMEOUT_SECONDS', SETTING_DEFAULTS.taskTimeoutSeconds, SETTING_LIMITS.taskTimeoutSeconds),
    retry: readRetryPolicy(read),
  });
}

/** PRICE_VCPU_SECOND and PRICE_GB_SECOND: ACI's per-second prices, for the cost shown. */
export function readPrices(read: SettingsReader): PriceTable {
  return {
    vcpuSecondUsd: read.number('PRICE_VCPU_SECOND', DEFAULT_PRICES.vcpuSecondUsd, SETTING_LIMITS.priceUsd),
    gbSecondUsd: read.number('PRICE_GB_SECOND', DEFAULT_PRICES.gbSecondUsd, SETTING_LIMITS.priceUsd),
  };
}

export function readLogLevel(read: SettingsReader, fallback: LogLevel): LogLevel {
  return read.oneOf('LOG_LEVEL', LOG_LEVELS, fallback);
}

/** How the embedded queue behaves, with Service Bus's defaults and bounds. */
export interface QueueTuning {
  maxDeliveryCount: number;
  lockDurationSeconds: number;
  duplicateWindowSeconds: number;
}

export function readQueueTuning(read: SettingsReader): QueueTuning {
  return {
    maxDeliveryCount: read.integer('MAX_DELIVERY_COUNT', SETTING_DEFAULTS.maxDeliveryCount, SETTING_LIMITS.maxDeliveryCount),
    lockDurationSeconds: read.number('LOCK_DURATION_SECONDS', SETTING_DEFAULTS.lockDurationSeconds, SETTING_LIMITS.lockDurationSeconds),
    duplicateWindowSeconds: read.number('DUPLICATE_WINDOW_SECONDS', SETTING_DEFAULTS.duplicateWindowSeconds, SETTING_LIMITS.duplicateWindowSeconds),
  };
}
