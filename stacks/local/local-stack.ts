import type { FastifyInstance } from 'fastify';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { openJobStore } from '../../apps/core/adapters/open-job-store.js';
import { describeDatabase, sqlitePathFromUri } from '../../apps/core/domain/database-uri.js';
import { verifySqliteFile } from '../../apps/core/adapters/sqlite/open.js';
import { SqliteWorkQueue } from '../../apps/core/adapters/sqlite/work-queue.js';
import type { JobStore } from '../../apps/core/domain/job-store.port.js';
import { buildApp } from '../../apps/dashboard/app.js';
import { LocalConsumer } from '../../apps/spawner/local-consumer.js';
import type { ReaperDeps } from '../../apps/spawner/reaper.js';
import { ReaperLoop } from '../../apps/spawner/reaper-loop.js';
import { prepareDataDir } from './data-dir.js';
import type { LocalSettings } from './settings.js';
import { explainListenFailure, explainStoreFailure } from './start-up-error.js';
import { openLocalRuntime, type OpenedRuntime } from './local-runtime.js';

const CONSUMER_POLL_MS = 1000;

export interface LocalStack {
  url: string;
  /**
   * Stops taking work, lets running tasks finish for up to `graceSeconds` (or until
   * `interrupt` resolves), then stops what is left: those tasks run again, as a new attempt,
   * when the stack next starts.
   */
  stop(interrupt?: Promise<void>): Promise<void>;
}

/**
 * The store, checked page by page first when it is a SQLite file: damage found now stops the
 * start with one line, rather than failing requests one by one later.
 */
async function openStore(databaseUri: string): Promise<JobStore> {
  try {
    if (databaseUri.startsWith('sqlite:')) verifySqliteFile(sqlitePathFromUri(databaseUri));
    return await openJobStore(databaseUri);
  } catch (error) {
    throw explainStoreFailure(error, `DATABASE_URI (${describeDatabase(databaseUri)})`);
  }
}

function openQueue(settings: LocalSettings): SqliteWorkQueue {
  const path = join(settings.dataDir, 'queue.db');
  try {
    verifySqliteFile(path);
    return new SqliteWorkQueue({
      path,
      lockDurationMs: settings.lockDurationSeconds * 1000,
      maxDeliveryCount: settings.maxDeliveryCount,
      duplicateDetectionWindowMs: settings.duplicateWindowSeconds * 1000,
    });
  } catch (error) {
    throw explainStoreFailure(error, `DATA_DIR ${settings.dataDir}`);
  }
}

/**
 * The whole system on one machine: dashboard, durable queue, store, spawner and reaper. A
 * fault the user can fix (DATA_DIR, DATABASE_URI, HOST, PORT) throws a StartupError or a
 * SettingsError whose message says what to change.
 */
export async function startLocalStack(settings: LocalSettings, log: (line: string) => void): Promise<LocalStack> {
  prepareDataDir(settings.dataDir);
  const store = await openStore(settings.databaseUri);
  let queue: SqliteWorkQueue;
  try {
    queue = openQueue(settings);
  } catch (error) {
    await store.close();
    throw error;
  }
  let opened: OpenedRuntime;
  try {
    opened = await openLocalRuntime(settings, log);
  } catch (error) {
    await Promise.all([store.close(), queue.close()]);
    throw error;
  }
  const { runtime, kinds } = opened;
  const launch = { databaseUri: settings.databaseUri, kinds };
  const consumer = new LocalConsumer({
    queue,
    store,
    runtime,
    launch,
    maxConcurrent: settings.maxConcurrent,
    running: () => runtime.runningCount(),
    waitForExit: (ms) => runtime.waitForExit(ms),
    pollMs: CONSUMER_POLL_MS,
    log,
  });
  const reaperDeps: ReaperDeps = {
    store,
    runtime,
    metrics: runtime,
    queue,
    kinds,
    // Metrics are sampled as each container runs: nothing to wait for after it exits.
    metricsWaitSeconds: 0,
    watchSeconds: settings.reapIntervalSeconds,
    log,
  };
  const reaper = new ReaperLoop(reaperDeps, settings.reapIntervalSeconds * 1000, log);

  let app: FastifyInstance;
  try {
    app = await buildApp(
      { store, queue, runtime, metrics: runtime, prices: settings.prices, costLabel: 'ACI equivalent', kinds },
      { logger: { level: settings.logLevel }, servedAs: settings.servedAs },
    );
    await app.listen({ host: settings.host, port: settings.port });
  } catch (error) {
    await Promise.all([store.close(), queue.close(), runtime.close()]);
    throw explainListenFailure(error, settings.host, settings.port);
  }
  consumer.start();
  reaper.start();
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : settings.port;
  // A bind to every address is reached by one of ALLOWED_HOSTS: that is the URL that works.
  const bindName = settings.host.includes(':') ? `[${settings.host}]` : settings.host;
  const reachedAs = ['0.0.0.0', '[::]'].includes(bindName) ? settings.servedAs.hosts[0]! : bindName;
  const url = `http://${reachedAs}:${port}`;

  return {
    url,
    async stop(interrupt = new Promise<void>(() => {})) {
      await consumer.stop();
      if (runtime.runningCount() > 0) {
        log(`waiting up to ${settings.shutdownGraceSeconds} s for ${runtime.runningCount()} running task(s); Ctrl-C again to stop them now`);
        await Promise.race([
          waitUntil(() => runtime.runningCount() === 0, (ms) => runtime.waitForExit(ms)),
          sleep(settings.shutdownGraceSeconds * 1000, undefined, { ref: false }),
          interrupt,
        ]);
      }
      if (runtime.runningCount() > 0) log(`stopping ${runtime.runningCount()} running task(s); they run again when the stack next starts`);
      await runtime.stopAll();
      // Its last pass sees the stopped containers and queues their next attempts.
      await reaper.stop();
      await app.close();
      await Promise.all([store.close(), queue.close(), runtime.close()]);
    },
  };
}

async function waitUntil(done: () => boolean, wait: (ms: number) => Promise<void>): Promise<void> {
  while (!done()) await wait(1000);
}
