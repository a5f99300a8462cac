import type { FastifyInstance } from 'fastify';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { openJobStore } from '../../apps/core/adapters/open-job-store.js';
import { describeDatabase, sqlitePathFromUri } from '../../apps/core/domain/database-uri.js';
import { verifySqliteFile } from '../../apps/core/adapters/sqlite/open.js';
import { SqliteWorkQueue } from '../../apps/core/adapters/sqlite/work-queue.js';
import type { JobStore } from '../../apps/core/domain/job-store.port.js';
import { knownSecrets } from '../../apps/core/domain/known-secrets.js';
import { MIN_MASKED_SECRET_LENGTH, SecretMasker } from '../../apps/core/domain/secret-masker.js';
import { withMaskedLogs } from '../../apps/core/masked-logs.js';
import { buildApp } from '../../apps/dashboard/app.js';
import { httpServerOptions } from '../../apps/dashboard/http-limits.js';
import { errorMessage } from '../../apps/core/domain/errors.js';
import { EventSettler } from '../../apps/spawner/event-settler.js';
import { LocalConsumer } from '../../apps/spawner/local-consumer.js';
import type { ReaperDeps } from '../../apps/spawner/reaper.js';
import { ReaperLoop } from '../../apps/spawner/reaper-loop.js';
import { prepareDataDir } from './data-dir.js';
import { StorageHealth } from './storage-health.js';
import type { LocalSettings } from './settings.js';
import { explainListenFailure, explainStoreFailure } from './start-up-error.js';
import { openLocalRuntime, type OpenedRuntime } from './local-runtime.js';
import type { KindCatalog } from '../../apps/core/domain/task-kind.js';

/** The consumer's own fallback poll, in sweeps: the sweep's tick nudges it before that. */
const CONSUMER_POLL_SWEEPS = 10;

export interface LocalStack {
  url: string;
  /** The kinds as the runtime runs them (with CONTAINERS=docker, each by its image). */
  kinds: KindCatalog;
  /**
   * Stops taking work, lets running tasks finish for up to `graceSeconds` (or until
   * `interrupt` resolves), then stops what is left: those tasks run again, as a new attempt,
   * when the stack next starts.
   */
  stop(interrupt?: Promise<void>): Promise<void>;
  /**
   * After an error nothing expected (an uncaught exception): /healthz answers 503 with `reason`,
   * submits are refused and dispatch takes nothing more, until the process exits.
   */
  refuseWork(reason: string): void;
}

/**
 * The store, checked page by page first when it is a SQLite file: damage found now stops the
 * start with one line, rather than failing requests one by one later.
 */
async function openStore(databaseUri: string, reportDir: string): Promise<JobStore> {
  try {
    if (databaseUri.startsWith('sqlite:')) verifySqliteFile(sqlitePathFromUri(databaseUri));
    return await openJobStore(databaseUri);
  } catch (error) {
    throw explainStoreFailure(error, `DATABASE_URI (${describeDatabase(databaseUri)})`, reportDir);
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
    throw explainStoreFailure(error, `DATA_DIR ${settings.dataDir}`, settings.dataDir);
  }
}

/**
 * The whole system on one machine: dashboard, durable queue, store, spawner and reaper. A
 * fault the user can fix (DATA_DIR, DATABASE_URI, HOST, PORT) throws a StartupError or a
 * SettingsError whose message says what to change.
 */
export async function startLocalStack(settings: LocalSettings, log: (line: string) => void): Promise<LocalStack> {
  prepareDataDir(settings.dataDir, log);
  const store = await openStore(settings.databaseUri, settings.dataDir);
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
  // Secrets a program prints are masked where its logs are read to be stored or served.
  const masker = new SecretMasker(knownSecrets(kinds, settings.databaseUri));
  for (const name of masker.tooShort) {
    log(`warning: ${name} is shorter than ${MIN_MASKED_SECRET_LENGTH} characters, so it cannot be masked in logs and outputs: use a longer value`);
  }
  const storeFolder = settings.databaseUri.startsWith('sqlite:') ? dirname(sqlitePathFromUri(settings.databaseUri)) : null;
  const health = new StorageHealth(
    [
      { setting: 'DATA_DIR', path: settings.dataDir },
      ...(existsSync(join(settings.dataDir, 'containers')) ? [{ setting: 'DATA_DIR', path: join(settings.dataDir, 'containers'), watched: true }] : []),
      ...(storeFolder && storeFolder !== settings.dataDir ? [{ setting: 'DATABASE_URI', path: storeFolder }] : []),
    ],
    [
      { name: 'the store', ping: () => store.ping() },
      { name: 'the queue', ping: () => queue.ping() },
    ],
  );
  let brokenBy: string | null = null;
  const storageFault = async () => brokenBy ?? health.fault();
  const launch = { databaseUri: settings.databaseUri, kinds };
  const consumer = new LocalConsumer({
    queue,
    store,
    runtime,
    launch,
    maxConcurrent: settings.maxConcurrent,
    running: () => runtime.runningCount(),
    waitForExit: (ms) => runtime.waitForExit(ms),
    // Only a message another process sent (a dashboard of its own on this queue) needs a poll:
    // this process's sends wake the consumer, and a message scheduled for later is waited for
    // until it is due. The sweep's tick nudges it (below), so its own timer is only a backstop
    // and an idle stack wakes once per sweep.
    pollMs: settings.reapIntervalSeconds * 1000 * CONSUMER_POLL_SWEEPS,
    paused: storageFault,
    log,
  });
  const settleRuntime = withMaskedLogs(runtime, masker, { live: false });
  const reaperDeps: ReaperDeps = {
    store,
    runtime: settleRuntime,
    metrics: runtime,
    queue,
    kinds,
    // Metrics are sampled as each container runs: nothing to wait for after it exits.
    metricsWaitSeconds: 0,
    watchSeconds: settings.reapIntervalSeconds,
    log,
  };
  // Containers' starts and exits, timeouts, progress and dead letters each settle their task
  // at once; the sweep is the safety net for what no event tells (README: "How a task moves").
  // Its looks store logs, outputs and reasons: masked as the sweep's are (the proxy keeps the events).
  const events = new EventSettler({ ...reaperDeps, runtime: settleRuntime, queue });
  const reaper = new ReaperLoop(reaperDeps, settings.reapIntervalSeconds * 1000, log, () => consumer.nudge());

  // What dispatch will add to a task's environment, so that a message too large for it is refused at submit.
  const kindEnvironment = (name: string) => {
    const kind = kinds.get(name);
    return kind && { ...kind.env, ...kind.secretEnv, ...(kind.store ? { DATABASE_URI: settings.databaseUri } : {}) };
  };
  let app: FastifyInstance;
  try {
    app = await buildApp(
      { store, queue, runtime: withMaskedLogs(runtime, masker, { live: true }), metrics: runtime, prices: settings.prices, costLabel: 'ACI equivalent', kinds, kindEnvironment, storageFault },
      {
        // A connection not taken for want of descriptors is one log line; work in flight goes on.
        ...httpServerOptions(settings.http, (error) => log(`the HTTP server could not take a connection: ${errorMessage(error)}`)),
        logger: { level: settings.logLevel },
        servedAs: settings.servedAs,
        accessToken: settings.accessToken,
        // The local stack is reached directly: its client is the socket's address, never a header's.
        clientAddress: 'socket',
      },
    );
    await app.listen({ host: settings.host, port: settings.port });
  } catch (error) {
    await Promise.all([store.close(), queue.close(), runtime.close()]);
    throw explainListenFailure(error, settings.host, settings.port);
  }
  await events.start();
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
    kinds,
    refuseWork(reason) {
      brokenBy = `the stack is stopping after an unexpected error: ${reason}`;
    },
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
      // The stopped containers' exits are settled (their next attempts queued); the sweep's
      // last pass then finds anything an event's handling left.
      await events.stop();
      await reaper.stop();
      await app.close();
      await Promise.all([store.close(), queue.close(), runtime.close()]);
    },
  };
}

async function waitUntil(done: () => boolean, wait: (ms: number) => Promise<void>): Promise<void> {
  while (!done()) await wait(1000);
}
