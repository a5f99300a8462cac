import { availableParallelism } from 'node:os';
import type { SqliteJobStore } from '../apps/core/adapters/sqlite-job-store.js';
import { WORKER } from './cold-start.js';
import { insertPending, openStore, scratchDir, workerEnv } from './fixtures.js';
import { HttpClient } from './http-client.js';
import { launchAll, startStack } from './processes.js';
import { row, type Row } from './report.js';

async function waitForDone(store: SqliteJobStore, done: number): Promise<void> {
  while ((await store.counts()).Done < done) await new Promise((resolve) => setTimeout(resolve, 20));
}

/** `tasks` Pending jobs run by the built worker, `concurrency` at a time, started by hand: seconds. */
async function direct(store: SqliteJobStore, uri: string, tasks: number, concurrency: number): Promise<number> {
  const jobs = [];
  for (let i = 0; i < tasks; i++) jobs.push(await insertPending(store));
  const launches = await Promise.all(jobs.map(async (job) => ({ args: [WORKER], env: await workerEnv(job, uri) })));
  const { results, ms } = await launchAll(launches, concurrency);
  if (results.some((exit) => exit.code !== 0)) throw new Error('a worker failed');
  return ms / 1000;
}

/** `tasks` POSTed to the stack at once; seconds until every one is Done. */
async function throughStack(client: HttpClient, store: SqliteJobStore, tasks: number): Promise<number> {
  const doneBefore = (await store.counts()).Done;
  const started = performance.now();
  for (let i = 0; i < tasks; i++) {
    const posted = await client.send('POST', '/api/jobs', { message: `task ${i}` });
    if (posted.status !== 202) throw new Error(`POST /api/jobs answered ${posted.status}`);
  }
  await waitForDone(store, doneBefore + tasks);
  return (performance.now() - started) / 1000;
}

/**
 * 3. Throughput at concurrency = cores: `tasks` through the stack (MAX_CONCURRENT = cores),
 * against the same number of worker runs started by hand, as many at a time. Each side runs
 * in two halves, alternating, so a busy moment on the machine falls on both.
 */
export async function throughput(tasks: number): Promise<Row[]> {
  const cores = availableParallelism();
  const dir = scratchDir('throughput');
  // The direct runs use a store of their own: the stack's reaper would take a job InProgress
  // without a container of its own for a lost one.
  const directDir = scratchDir('throughput-direct');
  const stack = await startStack({ DATA_DIR: dir.path, WORK_SECONDS: '0', MAX_CONCURRENT: String(cores) });
  const { store } = await openStore(dir.path);
  const own = await openStore(directDir.path);
  const client = new HttpClient(stack.url);
  try {
    const half = Math.floor(tasks / 2);
    let directSeconds = 0;
    let stackSeconds = 0;
    for (const n of [half, tasks - half]) {
      directSeconds += await direct(own.store, own.uri, n, cores);
      stackSeconds += await throughStack(client, store, n);
    }
    const directRate = tasks / directSeconds;
    const stackRate = tasks / stackSeconds;
    return [
      row('throughput', `${tasks} tasks at concurrency ${cores} (= cores): stack vs worker runs ${cores} at a time`, 'tasks/s', directRate, stackRate, { min: 0.95 }, 'ratio', {
        directSeconds,
        stackSeconds,
        cores,
      }),
    ];
  } finally {
    client.close();
    await stack.stop();
    await Promise.all([store.close(), own.store.close()]);
    dir.remove();
    directDir.remove();
  }
}
