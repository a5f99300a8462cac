import * as pulumi from '@pulumi/pulumi';
import { DEFAULT_PRICES } from '../../apps/core/domain/pricing.js';
import { DEFAULT_MAX_ATTEMPTS } from '../../apps/core/domain/retry-policy.js';
import { DEFAULT_ACI_QUOTA } from '../../apps/core/settings/azure.js';
import { SETTING_DEFAULTS, SETTING_LIMITS } from '../../apps/core/settings/common.js';
import { MIN_TOKEN_LENGTH } from '../../apps/dashboard/token-setting.js';
import { readKinds, type StackKind } from './kinds-config.js';
import { PROJECT_ROOT } from './project-root.js';

/** The stack's settings, read once from Pulumi config (Pulumi.<stack>.yaml), typed and checked. */
export interface AzureStackConfig {
  location: string;
  workerCpu: number;
  workerMemoryGb: number;
  workSeconds: number;
  maxConcurrent: number;
  /** The most ACI container groups this stack holds at once (running, provisioning, kept for metrics). */
  containerGroupQuota: number;
  /** The most cores those groups ask for together: ACI's StandardCores quota, often 10 in real subscriptions. */
  coreQuota: number;
  taskTimeoutSeconds: number;
  /** Attempts a task of the built-in kind gets in all; also every declared kind's default. */
  maxAttempts: number;
  maxDeliveryCount: number;
  lockDurationSeconds: number;
  duplicateWindowMinutes: number;
  spawnerMaxInstances: number;
  dashboardSku: string;
  /** Who runs `pulumi up`: a person (User) or a pipeline (ServicePrincipal); gets AcrPush. */
  deployerPrincipalType: 'User' | 'ServicePrincipal';
  /** The dashboard's access token (a Pulumi secret). */
  /** The configured access token; null when the stack is to generate one. */
  dashboardToken: pulumi.Output<string> | null;
  prices: { vcpuSecondUsd: number; gbSecondUsd: number };
  /** The user's own task kinds (`kinds`), checked; empty when none is declared. */
  kinds: StackKind[];
}

type Range = { min: number; max: number; integer?: boolean };

function checkedNumber(config: pulumi.Config, key: string, fallback: number, { min, max, integer }: Range): number {
  const raw = config.get(key);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min || value > max || (integer && !Number.isInteger(value))) {
    throw new Error(
      `config ${config.name}:${key} must be ${integer ? 'a whole number' : 'a number'} from ${min} to ${max} (got "${raw}")`,
    );
  }
  return value;
}

/** ACI's Linux limits per container group, and what Service Bus Standard allows. */
export function readAzureStackConfig(): AzureStackConfig {
  const config = new pulumi.Config();
  const azure = new pulumi.Config('azure-native');
  const location = azure.get('location');
  if (!location) throw new Error('config azure-native:location is required (e.g. pulumi config set azure-native:location westeurope)');
  // Optional: without it the stack generates one (dashboard-token.ts).
  const token = config.getSecret('dashboardToken');
  const dashboardToken = token?.apply((value) => {
    if (value.length < MIN_TOKEN_LENGTH) throw new Error(`config ${config.name}:dashboardToken must be at least ${MIN_TOKEN_LENGTH} characters (got ${value.length}); tokens of 24 to 31 characters are no longer accepted`);
    return value;
  });
  const dashboardSku = config.get('dashboardSku') ?? 'B1';
  if (!/^(B[1-3]|S[1-3]|P[0-3]v[23])$/.test(dashboardSku)) {
    throw new Error(`config ${config.name}:dashboardSku must be a Linux App Service plan SKU such as B1, S1 or P0v3 (got "${dashboardSku}")`);
  }
  const deployerPrincipalType = config.get('deployerPrincipalType') ?? 'User';
  if (deployerPrincipalType !== 'User' && deployerPrincipalType !== 'ServicePrincipal') {
    throw new Error(`config ${config.name}:deployerPrincipalType must be User or ServicePrincipal (got "${deployerPrincipalType}")`);
  }
  // The apps' own names, defaults and bounds (apps/core/settings/common.ts): a value the stack
  // accepts is one the apps accept too.
  const workerCpu = checkedNumber(config, 'workerCpu', SETTING_DEFAULTS.workerCpu, SETTING_LIMITS.workerCpu);
  const workerMemoryGb = checkedNumber(config, 'workerMemoryGb', SETTING_DEFAULTS.workerMemoryGb, SETTING_LIMITS.workerMemoryGb);
  const taskTimeoutSeconds = checkedNumber(config, 'taskTimeoutSeconds', SETTING_DEFAULTS.taskTimeoutSeconds, SETTING_LIMITS.taskTimeoutSeconds);
  const maxAttempts = checkedNumber(config, 'maxAttempts', DEFAULT_MAX_ATTEMPTS, { ...SETTING_LIMITS.maxAttempts, integer: true });
  // Structured config: a kind's secret leaves (`pulumi config set --secret --path …`) arrive
  // decrypted inside the object, and Pulumi marks the whole key secret, not the leaf
  // (pulumi/pulumi#3342; https://www.pulumi.com/docs/reference/cloud-rest-api/schema/appconfigvalue/).
  // So the kinds are read as plain values here, and which values are secret is decided by key:
  // readKinds wraps every secretEnv value and registry password in pulumi.secret.
  const kinds = readKinds(
    config.getObject<unknown>('kinds'),
    `config ${config.name}:kinds`,
    { cpu: workerCpu, memoryGb: workerMemoryGb, timeoutSeconds: taskTimeoutSeconds, retry: { maxAttempts, retryOnExitCodes: [] } },
    PROJECT_ROOT,
  );
  return {
    location,
    deployerPrincipalType,
    workerCpu,
    workerMemoryGb,
    workSeconds: checkedNumber(config, 'workSeconds', SETTING_DEFAULTS.workSeconds, SETTING_LIMITS.workSeconds),
    maxConcurrent: checkedNumber(config, 'maxConcurrent', 20, { min: 1, max: 1000, integer: true }),
    containerGroupQuota: checkedNumber(config, 'containerGroupQuota', DEFAULT_ACI_QUOTA.containerGroupQuota, { min: 1, max: 10_000, integer: true }),
    coreQuota: checkedNumber(config, 'coreQuota', DEFAULT_ACI_QUOTA.coreQuota, { min: 0.1, max: 100_000 }),
    taskTimeoutSeconds,
    maxAttempts,
    maxDeliveryCount: checkedNumber(config, 'maxDeliveryCount', SETTING_DEFAULTS.maxDeliveryCount, { ...SETTING_LIMITS.maxDeliveryCount, integer: true }),
    lockDurationSeconds: checkedNumber(config, 'lockDurationSeconds', SETTING_DEFAULTS.lockDurationSeconds, { ...SETTING_LIMITS.lockDurationSeconds, integer: true }),
    // In minutes here (Service Bus's whole-minute window): 1 minute to 7 days, inside the seconds' bounds.
    duplicateWindowMinutes: checkedNumber(config, 'duplicateWindowMinutes', SETTING_DEFAULTS.duplicateWindowSeconds / 60, {
      min: 1,
      max: SETTING_LIMITS.duplicateWindowSeconds.max / 60,
      integer: true,
    }),
    spawnerMaxInstances: checkedNumber(config, 'spawnerMaxInstances', 10, { min: 1, max: 1000, integer: true }),
    dashboardSku,
    dashboardToken: dashboardToken ? pulumi.secret(dashboardToken) : null,
    prices: {
      vcpuSecondUsd: checkedNumber(config, 'priceVcpuSecond', DEFAULT_PRICES.vcpuSecondUsd, SETTING_LIMITS.priceUsd),
      gbSecondUsd: checkedNumber(config, 'priceGbSecond', DEFAULT_PRICES.gbSecondUsd, SETTING_LIMITS.priceUsd),
    },
    kinds,
  };
}
