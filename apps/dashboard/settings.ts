import {
  readAzureScope,
  readServiceBusSettings,
  type AzureScope,
  type ServiceBusSettings,
} from '../core/adapters/azure/azure-settings.js';
import { databaseUriProblem } from '../core/adapters/open-job-store.js';
import { DEFAULT_PRICES, type PriceTable } from '../core/domain/pricing.js';
import { DEFAULT_RETRY_POLICY } from '../core/domain/retry-policy.js';
import type { KindCatalog } from '../core/domain/task-kind.js';
import { defaultKind, readKindsSetting } from '../core/kind-settings.js';
import { SettingsReader } from '../core/settings.js';
import { readServedHosts, type ServedAs } from './served-as.js';

/** The dashboard server's settings (App Service app settings), read once at start. */
export interface DashboardSettings {
  host: string;
  port: number;
  /** Host names and scheme browsers use (ALLOWED_HOSTS, or App Service's own host name). */
  servedAs: ServedAs;
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
  /** The kinds a task may name (KINDS, written by the Pulumi program): the form offers them. */
  kinds: KindCatalog;
}

export function readDashboardSettings(env: Record<string, string | undefined>): DashboardSettings {
  const read = new SettingsReader(env);
  const queueKind = read.oneOf('QUEUE', ['servicebus', 'sqlite'], 'servicebus');
  const containersKind = read.oneOf('CONTAINERS', ['aci', 'none'], 'aci');
  const anonymous = read.oneOf('ALLOW_ANONYMOUS', ['true', 'false'], 'false') === 'true';
  const token = anonymous ? '' : read.requiredString('DASHBOARD_TOKEN');
  if (token && token.length < 24) read.problem(`DASHBOARD_TOKEN must be at least 24 characters (got ${token.length})`);
  const host = read.string('HOST', '0.0.0.0');
  // App Service sets WEBSITE_HOSTNAME in the container to the site's default host name and
  // ends TLS in front of it (https://learn.microsoft.com/azure/app-service/reference-app-settings;
  // the container's `docker run -e WEBSITE_HOSTNAME=…` line, MicrosoftDocs/azure-docs#34451).
  const appServiceHost = read.string('WEBSITE_HOSTNAME', '');
  const settings: DashboardSettings = {
    host,
    port: read.integer('PORT', 8080, { min: 0, max: 65535 }),
    servedAs: {
      hosts: readServedHosts(read, host, appServiceHost),
      scheme: appServiceHost ? 'https' : 'http',
      // App Service's health check does not send the site's host name (projectkudu/kudu#3184).
      anyHostPaths: appServiceHost ? ['/healthz'] : [],
    },
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
    // The dashboard needs the kinds' names and resources, not their secrets (it is given none).
    kinds: readKindsSetting(read, 'KINDS', defaultKind({ cpu: 1, memoryGb: 1.5, timeoutSeconds: 600, retry: DEFAULT_RETRY_POLICY, workSeconds: 5 })),
    logLevel: read.oneOf('LOG_LEVEL', ['fatal', 'error', 'warn', 'info', 'debug', 'silent'], 'info'),
  };
  const uriProblem = settings.databaseUri ? databaseUriProblem(settings.databaseUri) : null;
  if (uriProblem) read.problem(uriProblem);
  read.done();
  return settings;
}
