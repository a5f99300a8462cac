import type { FastifyInstance } from 'fastify';
import type { SqliteJobStore } from '../../apps/core/adapters/sqlite/job-store.js';
import type { SqliteWorkQueue } from '../../apps/core/adapters/sqlite/work-queue.js';
import { DEFAULT_PRICES } from '../../apps/core/domain/pricing.js';
import { buildApp, type BuildOptions } from '../../apps/dashboard/app.js';
import type { DashboardDeps } from '../../apps/dashboard/deps.js';
import { openEmbedded, tempDir } from '../helpers.js';
import { queueDepth } from '../queue-inspection.js';

export interface DashboardUnderTest {
  app: FastifyInstance;
  deps: DashboardDeps;
  store: SqliteJobStore;
  queue: SqliteWorkQueue;
  dir: string;
  /** Nothing stored and nothing queued. */
  isEmpty: () => Promise<boolean>;
  close: () => Promise<void>;
}

/**
 * The dashboard over the embedded store and queue in a fresh folder, for `inject()`: the
 * setup every dashboard test shares. `deps` replaces any part (a runtime with live logs, a
 * store of the test's own); `options` are buildApp's.
 */
export async function buildTestApp({ deps: parts = {}, ...options }: BuildOptions & { deps?: Partial<DashboardDeps> } = {}): Promise<DashboardUnderTest> {
  const dir = tempDir();
  const { store, queue } = await openEmbedded(dir.path);
  const deps: DashboardDeps = {
    store,
    queue,
    runtime: { logs: async () => null },
    metrics: { metrics: async () => null },
    prices: DEFAULT_PRICES,
    costLabel: 'ACI equivalent',
    kinds: ['default', 'wordcount'],
    ...parts,
  };
  const app = await buildApp(deps, { logger: false, ...options });
  return {
    app,
    deps,
    store,
    queue,
    dir: dir.path,
    isEmpty: async () =>
      (await store.list({ limit: 1 })).jobs.length === 0 && queueDepth(queue).active === 0,
    close: async () => {
      await app.close();
      await Promise.all([store.close(), queue.close()]);
      dir.remove();
    },
  };
}
