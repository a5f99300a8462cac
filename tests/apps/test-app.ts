import type { FastifyInstance } from 'fastify';
import type { SqliteJobStore } from '../../apps/core/adapters/sqlite/job-store.js';
import type { SqliteWorkQueue } from '../../apps/core/adapters/sqlite/work-queue.js';
import { DEFAULT_PRICES } from '../../apps/core/domain/pricing.js';
import { buildApp, type BuildOptions } from '../../apps/dashboard/app.js';
import type { DashboardDeps } from '../../apps/dashboard/deps.js';
import { DEFAULT_RETRY_POLICY } from '../../apps/core/domain/retry-policy.js';
import type { TaskKind } from '../../apps/core/domain/task-kind.js';
import { openEmbedded, tempDir, testKinds } from '../helpers.js';

/** A second kind besides the built-in one, as the local stack's kinds file declares it. */
export const WORDCOUNT: TaskKind = {
  name: 'wordcount',
  command: ['sh', 'examples/wordcount/wordcount.sh'],
  image: null,
  registry: null,
  cpu: 0.5,
  memoryGb: 0.5,
  timeoutSeconds: 60,
  retry: DEFAULT_RETRY_POLICY,
  env: { STEP_SECONDS: '0.3' },
  secretEnv: {},
  store: false,
};
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
    kinds: await testKinds({}, [WORDCOUNT]),
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
