import { readAzureScope, readServiceBusSettings, type AzureScope, type ServiceBusSettings } from '../core/settings/azure.js';
import { databaseUriProblem } from '../core/domain/database-uri.js';
import type { PriceTable } from '../core/domain/pricing.js';
import type { KindCatalog } from '../core/domain/task-kind.js';
import { readBuiltInKind, readLogLevel, readPrices, readQueueTuning, type LogLevel, type QueueTuning } from '../core/settings/common.js';
import { readKindsSetting } from '../core/settings/kinds.js';
import { SettingsReader } from '../core/settings/reader.js';
import type { ClientAddressSource } from './client-address.js';
import { readHttpLimits, type HttpLimits } from './http-limits.js';
import { readServedHosts, type ServedAs } from './served-as.js';
import { readTokenSetting } from './token-setting.js';

/** The dashboard server's settings (App Service app settings), read once at start. */
export interface DashboardSettings {
  host: string;
  port: number;
  /** Host names and scheme browsers use (ALLOWED_HOSTS, or App Service's own host name). */
  servedAs: ServedAs;
  /** The HTTP server's timeouts and connection cap. */
  http: HttpLimits;
  databaseUri: string;
  queue: { kind: 'servicebus'; serviceBus: ServiceBusSettings } | { kind: 'sqlite'; path: string; tuning: QueueTuning };
  /** Where live logs and metrics come from; with `none`, only what the reaper kept. */
  containers: { kind: 'aci'; scope: AzureScope } | { kind: 'none' };
  /** The user-assigned identity's client id, for Service Bus, ACI and Monitor. */
  managedIdentityClientId: string | null;
  /** Required unless ALLOW_ANONYMOUS=true: the dashboard is never open by accident. */
  accessToken: string | null;
  /** On App Service (WEBSITE_SITE_NAME set), the client is the front end's last X-Forwarded-For entry. */
  clientAddress: ClientAddressSource;
  prices: PriceTable;
  costLabel: string;
  logLevel: LogLevel;
  /** The kinds a task may name (KINDS, written by the Pulumi program): the form offers them. */
  kinds: KindCatalog;
  /** Kinds with secretEnv (KINDS_WITH_SECRETS): their logs are served only as stored, masked by the spawner. */
  kindsWithSecrets: string[];
}

export function readDashboardSettings(env: Record<string, string | undefined>): DashboardSettings {
  const read = new SettingsReader(env);
  const queueKind = read.oneOf('QUEUE', ['servicebus', 'sqlite'], 'servicebus');
  const containersKind = read.oneOf('CONTAINERS', ['aci', 'none'], 'aci');
  const { token: configured, anonymous } = readTokenSetting(read);
  if (!configured && !anonymous) read.problem('DASHBOARD_TOKEN is required (or ALLOW_ANONYMOUS=true to run the dashboard open)');
  const token = anonymous ? null : configured;
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
    http: readHttpLimits(read),
    databaseUri: read.requiredString('DATABASE_URI'),
    queue: queueKind === 'servicebus'
      ? { kind: 'servicebus', serviceBus: readServiceBusSettings(read) }
      : { kind: 'sqlite', path: read.requiredString('QUEUE_PATH'), tuning: readQueueTuning(read) },
    containers: containersKind === 'aci' ? { kind: 'aci', scope: readAzureScope(read) } : { kind: 'none' },
    accessToken: token,
    // App Service sets WEBSITE_SITE_NAME in every app (https://learn.microsoft.com/azure/app-service/reference-app-settings);
    // only then is a front end known to append the client's address to X-Forwarded-For.
    clientAddress: read.string('WEBSITE_SITE_NAME', '') ? 'app-service-forwarded-for' : 'socket',
    managedIdentityClientId: read.string('AZURE_CLIENT_ID', '') || null,
    prices: readPrices(read),
    costLabel: read.string('COST_LABEL', 'ACI'),
    // The dashboard needs the kinds' names and resources, not their secrets (it is given none).
    kinds: readKindsSetting(read, 'KINDS', readBuiltInKind(read)),
    kindsWithSecrets: read.list('KINDS_WITH_SECRETS', [], (name) => /^[a-z0-9][a-z0-9-]*$/.test(name), 'kind names'),
    logLevel: readLogLevel(read, 'info'),
  };
  const uriProblem = settings.databaseUri ? databaseUriProblem(settings.databaseUri) : null;
  if (uriProblem) read.problem(uriProblem);
  read.done();
  return settings;
}
