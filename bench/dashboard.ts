import autocannon from 'autocannon';
import { join } from 'node:path';
import type { MongoJobStore } from '../apps/core/adapters/mongo/job-store.js';
import type { SqliteJobStore } from '../apps/core/adapters/sqlite/job-store.js';
import { WireStandIn } from '../tests/fakes/mongo-wire/stand-in.js';
import { fromBuild } from './build.js';
import { openStore, scratchDir } from './fixtures.js';
import { HttpClient } from './http-client.js';
import { startStack, type StackProcess } from './processes.js';
import { row, type Row } from './report.js';
import { emptyHistory, seedHistory, type SeededHistory } from './seed.js';
import { percentile, spread, type Spread } from './stats.js';

interface Probe {
  name: string;
  path: (rev: number) => string;
  runs: number;
  status: number;
}

// Each asked for one after another on one keep-alive connection, as a tab does.
const PROBES: Probe[] = [
  { name: 'page', path: () => '/', runs: 200, status: 200 },
  { name: 'updatesIdle', path: (rev) => `/ui/updates?since=${rev}`, runs: 500, status: 204 },
  // The last five writes: a card or more, and the totals, as a poll after a change gets them.
  { name: 'updatesChanged', path: (rev) => `/ui/updates?since=${rev - 5}`, runs: 200, status: 200 },
  { name: 'apiList', path: () => '/api/jobs?limit=50', runs: 200, status: 200 },
];

async function latencies(client: HttpClient, probe: Probe, rev: number): Promise<Spread> {
  const times: number[] = [];
  for (let i = 0; i < probe.runs; i++) {
    const answer = await client.get(probe.path(rev));
    if (answer.status !== probe.status) throw new Error(`${probe.path(rev)} answered ${answer.status}, not ${probe.status}`);
    times.push(answer.ms);
  }
  return spread(times);
}

type Inject = (path: string) => Promise<{ statusCode: number }>;

/** The dashboard of the build in this process, on the store given, to count what each request reads. */
async function readCounter(dataDir: string, store: SqliteJobStore | MongoJobStore) {
  const { buildApp } = await fromBuild<typeof import('../apps/dashboard/app.js')>('apps/dashboard/app.js');
  const { SqliteWorkQueue } = await fromBuild<typeof import('../apps/core/adapters/sqlite/work-queue.js')>('apps/core/adapters/sqlite/work-queue.js');
  const { DEFAULT_PRICES } = await fromBuild<typeof import('../apps/core/domain/pricing.js')>('apps/core/domain/pricing.js');
  const { KindCatalog } = await fromBuild<typeof import('../apps/core/domain/task-kind.js')>('apps/core/domain/task-kind.js');
  const { DEFAULT_RETRY_POLICY } = await fromBuild<typeof import('../apps/core/domain/retry-policy.js')>('apps/core/domain/retry-policy.js');
  const { defaultKind } = await fromBuild<typeof import('../apps/core/settings/kinds.js')>('apps/core/settings/kinds.js');
  const queue = new SqliteWorkQueue({ path: join(dataDir, 'reads-queue.db'), lockDurationMs: 60_000, maxDeliveryCount: 5, duplicateDetectionWindowMs: 600_000 });
  const app = await buildApp(
    { store, queue, runtime: { logs: async () => null }, metrics: { metrics: async () => null }, prices: DEFAULT_PRICES, costLabel: 'ACI equivalent', kinds: new KindCatalog(defaultKind({ cpu: 1, memoryGb: 1.5, timeoutSeconds: 60, retry: DEFAULT_RETRY_POLICY, workSeconds: 0 })) },
    { logger: false },
  );
  const inject: Inject = (path) => app.inject({ method: 'GET', url: path, headers: { host: '127.0.0.1' } });
  return {
    async rowsRead(path: string): Promise<number> {
      const before = store.reads.rows;
      await inject(path);
      return store.reads.rows - before;
    },
    close: async () => {
      await app.close();
      await queue.close();
    },
  };
}

/**
 * 20 pollers at once, each asking for what changed since what it last saw (its own `since`,
 * taken from each answer), as fast as answers come, while a task is added every 100 ms and the
 * stack runs them: the load a room of open dashboards puts on a busy stack.
 */
async function underLoad(stack: StackProcess, rev: number, seconds: number): Promise<{ latency: Spread; requestsPerSecond: number; non2xx: number; withChanges: number }> {
  const client = new HttpClient(stack.url);
  let adding = true;
  const adder = (async () => {
    for (let i = 0; adding; i++) {
      await client.send('POST', '/api/jobs', { message: `load ${i}` });
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  })();
  let withChanges = 0;
  const path = (since: string) => `/ui/updates?since=${since}`;
  try {
    const result = await autocannon({
      url: stack.url,
      connections: 20,
      duration: seconds,
      requests: [{ method: 'GET', path: path(String(rev)) }],
      setupClient: (poller) => {
        let since = String(rev);
        poller.on('body', (chunk: Buffer) => {
          const seen = /since=(\d+)/.exec(chunk.toString('latin1'))?.[1];
          if (!seen || seen === since) return;
          since = seen;
          withChanges++;
          poller.setRequests([{ method: 'GET', path: path(since) }]);
        });
      },
    });
    return {
      latency: { p50: result.latency.p50, p95: Number.NaN, p99: result.latency.p99, n: result.requests.total },
      requestsPerSecond: result.requests.average,
      non2xx: result.non2xx,
      withChanges,
    };
  } finally {
    adding = false;
    await adder;
    client.close();
  }
}

/**
 * The same requests against MongoJobStore (Cosmos DB's adapter) through the wire stand-in, to
 * count the documents each reads, at two sizes: on Cosmos a read's request charge grows with
 * them. The stand-in answers from memory and is slow with many documents, so the sizes are small;
 * what matters is whether the count grows with them. Its timings mean nothing and are not taken.
 */
async function mongoReads(sizes: number[]): Promise<Record<number, Record<string, number>>> {
  const { MongoJobStore } = await fromBuild<typeof import('../apps/core/adapters/mongo/job-store.js')>('apps/core/adapters/mongo/job-store.js');
  const standIn = await new WireStandIn({ serverVersion: '6.0' }).start();
  const dir = scratchDir('dashboard-mongo');
  const store = await MongoJobStore.connect(`mongodb://127.0.0.1:${standIn.port}/bench`);
  const history = emptyHistory();
  const reads: Record<number, Record<string, number>> = {};
  try {
    let seeded = 0;
    for (const size of sizes) {
      await seedHistory(store, seeded, size, history);
      seeded = size;
      const counter = await readCounter(dir.path, store);
      const rev = await store.currentRev();
      // A first read counts the totals of a store that has none (made by the seeding's first writes).
      await counter.rowsRead('/');
      reads[size] = {};
      for (const probe of PROBES) reads[size]![probe.name] = await counter.rowsRead(probe.path(rev));
      await counter.close();
    }
  } finally {
    await store.close();
    await standIn.close();
    dir.remove();
  }
  return reads;
}

export interface ScalingOptions {
  sizes: number[];
  loadSeconds: number;
  mongoSizes: number[];
}

/**
 * 4. The dashboard at 1k, 10k and 100k stored tasks: the page, /ui/updates with nothing and with
 * something changed, and GET /api/jobs?limit=50, one after another (p50, p99); 20 pollers under
 * load; and the rows each request reads, counted in the store adapter.
 */
export async function dashboardScaling({ sizes, loadSeconds, mongoSizes }: ScalingOptions): Promise<Row[]> {
  const dir = scratchDir('dashboard');
  const { store } = await openStore(dir.path);
  const history: SeededHistory = emptyHistory();
  const results: Record<number, Record<string, unknown>> = {};
  let stack: StackProcess | null = null;
  let seeded = 0;
  try {
    for (const size of sizes) {
      const seedStarted = performance.now();
      await seedHistory(store, seeded, size, history);
      seeded = size;
      const seedSeconds = (performance.now() - seedStarted) / 1000;
      const counts = await store.counts();
      // The tasks added under load end Done too: only Done may count more than was seeded.
      for (const state of ['Pending', 'InProgress', 'Done', 'Failed'] as const) {
        const wrong = state === 'Done' ? counts[state] < history.counts[state] : counts[state] !== history.counts[state];
        if (wrong) throw new Error(`the store counts ${counts[state]} ${state}, but ${history.counts[state]} were written`);
      }
      // Seeded while the stack is down (its reaper would take a seeded task that is InProgress
      // for a moment for one whose container was lost), then started on the store as it finds it.
      stack = await startStack({ DATA_DIR: dir.path, WORK_SECONDS: '0.5', MAX_CONCURRENT: '2' });
      const client = new HttpClient(stack.url);
      const rev = await store.currentRev();
      const timings: Record<string, Spread> = {};
      for (const probe of PROBES) timings[probe.name] = await latencies(client, probe, rev);
      client.close();
      const counter = await readCounter(dir.path, store);
      const rowsRead: Record<string, number> = {};
      for (const probe of PROBES) rowsRead[probe.name] = await counter.rowsRead(probe.path(rev));
      await counter.close();
      const load = await underLoad(stack, await store.currentRev(), loadSeconds);
      // The tasks added under load finish before the next size is measured idle.
      while ((await store.counts()).InProgress > 0 || (await store.counts()).Pending > history.counts.Pending) {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      await stack.stop();
      stack = null;
      results[size] = { seedSeconds, timings, rowsRead, load };
      console.error(`  dashboard at ${size} tasks: page p50 ${timings.page!.p50.toFixed(2)} ms, p99 ${timings.page!.p99.toFixed(2)} ms; rows read ${JSON.stringify(rowsRead)}`);
    }
  } finally {
    await stack?.stop();
    await store.close();
    dir.remove();
  }
  const mongo = await mongoReads(mongoSizes);
  const small = sizes[0]!;
  const large = sizes[sizes.length - 1]!;
  const middle = sizes.find((s) => s === 10_000) ?? large;
  const timing = (size: number, probe: string) => (results[size]!.timings as Record<string, Spread>)[probe]!;
  const k = (n: number) => `${n / 1000}k`;
  return [
    row('updatesIdleP99', `/ui/updates with nothing changed, p99, at ${k(middle)} stored tasks`, 'ms', null, timing(middle, 'updatesIdle').p99, { max: 5 }, 'ours'),
    row('pageP99', `the page /, p99 at ${k(large)} stored tasks`, 'ms', null, timing(large, 'page').p99, { max: 10 }, 'ours'),
    row('pageGrowthP50', `the page /, p50: ${k(small)} (floor) → ${k(large)} stored tasks`, 'ms', timing(small, 'page').p50, timing(large, 'page').p50, { max: 1.5 }, 'ratio'),
    row('pageGrowthP99', `the page /, p99: ${k(small)} (floor) → ${k(large)} stored tasks`, 'ms', timing(small, 'page').p99, timing(large, 'page').p99, { max: 1.5 }, 'ratio'),
    row('updatesChangedP99', `/ui/updates with changes, p99: ${k(small)} → ${k(large)}`, 'ms', timing(small, 'updatesChanged').p99, timing(large, 'updatesChanged').p99, null, 'ratio'),
    row('apiListP99', `GET /api/jobs?limit=50, p99: ${k(small)} → ${k(large)}`, 'ms', timing(small, 'apiList').p99, timing(large, 'apiList').p99, null, 'ratio'),
    row(
      'pollersUnderLoadP99',
      `20 pollers (autocannon) while tasks change, p99: ${k(small)} → ${k(large)}`,
      'ms',
      (results[small]!.load as { latency: Spread }).latency.p99,
      (results[large]!.load as { latency: Spread }).latency.p99,
      null,
      'ratio',
    ),
    row('rowsReadPage', `rows read by the page / (SQLite): ${k(small)} → ${k(large)}`, 'rows', (results[small]!.rowsRead as Record<string, number>).page!, (results[large]!.rowsRead as Record<string, number>).page!, { max: 1.5 }, 'ratio', { bySize: results }),
    row(
      'documentsReadPage',
      `documents read by the page / (MongoDB, wire stand-in): ${k(mongoSizes[0]!)} → ${k(mongoSizes[mongoSizes.length - 1]!)}`,
      'docs',
      mongo[mongoSizes[0]!]!.page!,
      mongo[mongoSizes[mongoSizes.length - 1]!]!.page!,
      { max: 1.5 },
      'ratio',
      { bySize: mongo },
    ),
  ];
}
