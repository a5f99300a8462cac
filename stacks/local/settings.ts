import { resolve } from 'node:path';
import { databaseUriProblem } from '../../apps/core/domain/database-uri.js';
import type { PriceTable } from '../../apps/core/domain/pricing.js';
import type { KindCatalog } from '../../apps/core/domain/task-kind.js';
import { readBuiltInKind, readLogLevel, readPrices, readQueueTuning, type LogLevel, type QueueTuning } from '../../apps/core/settings/common.js';
import { DockerEngine } from '../../apps/core/adapters/docker/docker-engine.js';
import { readKindsFile, type KindBuild } from '../../apps/core/settings/kinds.js';
import { SettingsReader } from '../../apps/core/settings/reader.js';
import { readHttpLimits, type HttpLimits } from '../../apps/dashboard/http-limits.js';
import { isLoopback, readServedHosts, type ServedAs } from '../../apps/dashboard/served-as.js';
import { readTokenSetting } from '../../apps/dashboard/token-setting.js';

/** Every setting of `npm start`, read once from the environment (README: "Settings"). */
export interface LocalSettings extends QueueTuning {
  host: string;
  port: number;
  /** The host names the dashboard answers (loopback names for the default bind, ALLOWED_HOSTS). */
  servedAs: ServedAs;
  /** DASHBOARD_TOKEN: the same gate as the deployed dashboard's; null for an open dashboard. */
  accessToken: string | null;
  /** The HTTP server's timeouts and connection cap. */
  http: HttpLimits;
  dataDir: string;
  databaseUri: string;
  maxConcurrent: number;
  reapIntervalSeconds: number;
  metricsIntervalMs: number;
  shutdownGraceSeconds: number;
  prices: PriceTable;
  logLevel: LogLevel;
  /** The built-in worker's kind and the ones KINDS_FILE declares. */
  kinds: KindCatalog;
  /** Where the kinds were read from, to name it in a message about one. */
  kindsFile: string;
  /** The folders the kinds' images build from, by kind (CONTAINERS=docker). */
  kindBuilds: Map<string, KindBuild>;
  /** How each task runs: a process of its own (the default), or a Docker container. */
  containers: ContainerMode;
  /** The Docker engine's socket (DOCKER_HOST), for CONTAINERS=docker. */
  dockerSocket: string;
}

export type ContainerMode = 'process' | 'docker';
const CONTAINER_MODES: ContainerMode[] = ['process', 'docker'];

export function readLocalSettings(env: Record<string, string | undefined>): LocalSettings {
  const read = new SettingsReader(env);
  const dataDir = resolve(read.string('DATA_DIR', '.data'));
  const host = read.string('HOST', '127.0.0.1');
  const { token, anonymous } = readTokenSetting(read);
  // Anyone who reaches the dashboard can list every task and run every kind.
  if (!token && !anonymous && !isLoopback(host)) {
    read.problem(`HOST ${host} lets other machines reach the dashboard, which would run any task for anyone: set DASHBOARD_TOKEN to a secret of at least 32 characters, or ALLOW_ANONYMOUS=true to leave it open`);
  }
  const databaseUri = read.string('DATABASE_URI', `sqlite:${resolve(dataDir, 'jobs.db')}`);
  const uriProblem = databaseUriProblem(databaseUri);
  if (uriProblem) read.problem(uriProblem);
  const kindsFile = read.string('KINDS_FILE', '');
  const builtIn = readBuiltInKind(read);
  const queueTuning = readQueueTuning(read);
  // kinds.json where `npm start` runs, unless KINDS_FILE names another file.
  const kindsPath = resolve(kindsFile || 'kinds.json');
  const kinds = readKindsFile(read, kindsPath, kindsFile !== '', builtIn);
  const containers = read.string('CONTAINERS', 'process') as ContainerMode;
  if (!CONTAINER_MODES.includes(containers)) read.problem(`CONTAINERS must be one of ${CONTAINER_MODES.join(', ')} (got "${containers}")`);
  let dockerSocket = '';
  try {
    dockerSocket = DockerEngine.socketFromDockerHost(read.string('DOCKER_HOST', '') || undefined);
  } catch (error) {
    if (containers === 'docker') read.problem((error as Error).message);
  }
  const settings: LocalSettings = {
    host,
    port: read.integer('PORT', 3000, { min: 0, max: 65535 }),
    servedAs: { hosts: readServedHosts(read, host), scheme: 'http', anyHostPaths: [] },
    accessToken: anonymous ? null : token,
    http: readHttpLimits(read),
    dataDir,
    databaseUri,
    maxConcurrent: read.integer('MAX_CONCURRENT', 4, { min: 1, max: 256 }),
    ...queueTuning,
    // The sweep is a safety net (events settle tasks): rare, so an idle stack wakes at most twice a minute.
    reapIntervalSeconds: read.number('REAP_INTERVAL_SECONDS', 60, { min: 0.1 }),
    metricsIntervalMs: read.integer('METRICS_INTERVAL_MS', 1000, { min: 50 }),
    shutdownGraceSeconds: read.number('SHUTDOWN_GRACE_SECONDS', 30, { min: 0 }),
    prices: readPrices(read),
    logLevel: readLogLevel(read, 'warn'),
    kinds: kinds.catalog,
    kindsFile: kindsPath,
    kindBuilds: kinds.builds,
    containers,
    dockerSocket,
  };
  read.done();
  return settings;
}
