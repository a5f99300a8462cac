import {
  readAzureScope,
  readServiceBusSettings,
  type AzureScope,
  type ServiceBusSettings,
} from '../core/adapters/azure/azure-settings.js';
import { DEFAULT_PRICES, type PriceTable } from '../core/domain/pricing.js';
import { SettingsReader } from '../core/settings.js';

/** The dashboard server's settings (App Service app settings), read once at start. */
export interface DashboardSettings {
  host: string;
  port: number;
  databaseUri: string;
  queue: { kind: 'servicebus'; serviceBus: ServiceBusSettings } | { kind: 'sqlite'; path: string };
  /** Where live logs and metrics come from; with `none`, only what the reaper kept. */
  containers: { kind: 'aci'; scope: AzureScope } | { kind: 'none' };
  /** The user-assigned identity's client id, for Service Bus, ACI and Monitor. */
  managedIdentityClientId: string | null;
  /** Required unless ALLOW_ANONYMOUS=true: the dashboard is never open by accident. */
  accessToken: string | null;
  prices: PriceTable;
  costLabel: string;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'silent';
}

export function readDashboardSettings(env: Record<string, string | undefined>): DashboardSettings {
  const read = new SettingsReader(env);
  const queueKind = read.oneOf('QUEUE', ['servicebus', 'sqlite'], 'servicebus');
  const containersKind = read.oneOf('CONTAINERS', ['aci', 'none'], 'aci');
  const anonymous = read.oneOf('ALLOW_ANONYMOUS', ['true', 'false'], 'false') === 'true';
  const token = anonymous ? '' : read.requiredString('DASHBOARD_TOKEN');
  if (token && token.length < 24) read.problem(`DASHBOARD_TOKEN must be at least 24 characters (got ${token.length})`);
  const settings: DashboardSettings = {
    host: read.string('HOST', '0.0.0.0'),
    port: read.integer('PORT', 8080, { min: 0, max: 65535 }),
    databaseUri: read.requiredString('DATABASE_URI'),
    queue: queueKind === 'servicebus'
      ? { kind: 'servicebus', serviceBus: readServiceBusSettings(read) }
      : { kind: 'sqlite', path: read.requiredString('QUEUE_PATH') },
    containers: containersKind === 'aci' ? { kind: 'aci', scope: readAzureScope(read) } : { kind: 'none' },
    accessToken: token || null,
    managedIdentityClientId: read.string('AZURE_CLIENT_ID', '') || null,
    prices: {
      vcpuSecondUsd: read.number('PRICE_VCPU_SECOND', DEFAULT_PRICES.vcpuSecondUsd, { min: 0 }),
      gbSecondUsd: read.number('PRICE_GB_SECOND', DEFAULT_PRICES.gbSecondUsd, { min: 0 }),
    },
    costLabel: read.string('COST_LABEL', 'ACI'),
    logLevel: read.oneOf('LOG_LEVEL', ['fatal', 'error', 'warn', 'info', 'debug', 'silent'], 'info'),
  };
  read.done();
  return settings;
}
