import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import type { SqliteJobStore } from '../apps/core/adapters/sqlite/job-store.js';
import { WORKER, workerMarks } from './cold-start.js';
import { insertPending, openStore, scratchDir, workerEnv } from './fixtures.js';
import { HttpClient } from './http-client.js';
import { launchAll, startStack } from './processes.js';
import { row, type Row } from './report.js';
import { percentile } from './stats.js';

async function waitForDone(store: SqliteJobStore, done: number): Promise<void> {
  while ((await store.counts()).Done < done) await new Promise((resolve) => setTimeout(resolve, 5));
}

/** `tasks` Pending jobs run by the built worker, `concurrency` at a time, started by hand: seconds. */
async function directly(store: SqliteJobStore, uri: string, tasks: number, concurrency: number): Promise<number> {
  const jobs = [];
  for (let i = 0; i < tasks; i++) jobs.push(await insertPending(store));
  const launches = await Promise.all(jobs.map(async (job) => ({ args: [WORKER], env: await workerEnv(job, uri) })));
  const { results, ms } = await launchAll(launches, concurrency);
  if (results.some((exit) => exit.code !== 0)) throw new Error('a worker failed');
  return ms / 1000;
}

/**
 * `tasks` added to the stack with the dashboard's form, 100 copies a request (its most), as a
 * user adds many at once; seconds until every one is Done. The stack still stores and queues each
 * one: only the client's own requests are fewer.
 */
async function throughStack(client: HttpClient, store: SqliteJobStore, tasks: number): Promise<number> {
  const doneBefore = (await store.counts()).Done;
  const started = performance.now();
  for (let sent = 0; sent < tasks; sent += 100) {
    const posted = await client.send('POST', '/ui/jobs', { message: 'bench', count: String(Math.min(100, tasks - sent)) }, 'form');
    if (posted.status !== 201) throw new Error(`POST /ui/jobs answered ${posted.status}: ${posted.body}`);
  }
  await waitForDone(store, doneBefore + tasks);
  return (performance.now() - started) / 1000;
}

// Tasks per round: each round runs this many by hand, then as many through the stack.
const ROUND = 50;

/**
 * Tasks per second through the stack and by hand, `concurrency` at a time, in rounds that
 * alternate: the machine is shared, and a busy moment falls on one round of each side rather
 * than on one side. Each side's figure is its median round.
 */
async function compare(tasks: number, concurrency: number) {
  const dir = scratchDir('throughput');
  // The direct runs use a store of their own: the stack's reaper would take a job InProgress
  // without a container of its own for a lost one.
  const directDir = scratchDir('throughput-direct');
  const stack = await startStack({ DATA_DIR: dir.path, WORK_SECONDS: '0', MAX_CONCURRENT: String(concurrency) });
  const { store } = await openStore(dir.path);
  const own = await openStore(directDir.path);
  const client = new HttpClient(stack.url);
  try {
    const direct: number[] = [];
    const stacked: number[] = [];
    for (let done = 0; done < tasks; done += ROUND) {
      const n = Math.min(ROUND, tasks - done);
      direct.push(n / (await directly(own.store, own.uri, n, concurrency)));
      stacked.push(n / (await throughStack(client, store, n)));
    }
    return { directRate: percentile(direct, 50), stackRate: percentile(stacked, 50), directRounds: direct, stackRounds: stacked };
  } finally {
    client.close();
    await stack.stop();
    await Promise.all([store.close(), own.store.close()]);
    dir.remove();
    directDir.remove();
  }
}

interface TraceEvent {
  step: string;
  key: string | null;
  started: number;
}

/**
 * Where one slot's time goes, task after task, at concurrency 1: from a stack that notes its
 * steps (bench/trace-stack.mjs), the worker's own marks and the job's times (whole ms), beside
 * the same worker started by hand. p50 of each step.
 */
async function slotBreakdown(tasks: number): Promise<Record<string, number>> {
  const dir = scratchDir('throughput-trace');
  const tracePath = join(dir.path, 'trace.json');
  const stack = await startStack({ DATA_DIR: dir.path, WORK_SECONDS: '0', MAX_CONCURRENT: '1' }, tracePath);
  const { store } = await openStore(dir.path);
  const own = await openStore(join(dir.path, 'direct'));
  const client = new HttpClient(stack.url);
  try {
    const perTask = ((await throughStack(client, store, tasks)) * 1000) / tasks;
    // The reaper copies each container's log to the store (every REAP_INTERVAL_SECONDS, 2).
    await new Promise((resolve) => setTimeout(resolve, 2500));
    client.close();
    await stack.stop();
    const trace = JSON.parse(readFileSync(tracePath, 'utf8')) as TraceEvent[];
    const starts = trace.filter((e) => e.step === 'start').sort((a, b) => a.started - b.started);
    const ends = new Map(trace.filter((e) => e.step === 'finish').map((e) => [e.key, e.started]));
    const { jobs } = await store.list({ limit: 500 });
    const steps: Record<string, number[]> = {};
    const add = (step: string, ms: number) => (steps[step] ??= []).push(ms);
    for (const [i, start] of starts.entries()) {
      const job = jobs.find((j) => j.id === start.key);
      const logs = job ? ((await store.getArtifacts(job.containerName))?.logs ?? '') : '';
      const marks = workerMarks(logs);
      const loggedAt = /^(\S+) job \S+: InProgress/m.exec(logs)?.[1];
      const end = job && ends.get(job.containerName);
      if (!job?.finishedAt || !marks || !loggedAt || !end) continue;
      const processStart = Date.parse(loggedAt) - marks.upMs;
      add('spawn begins → worker process started (records, the supervisor, node)', processStart - start.started);
      add('worker: process start → InProgress written', marks.upMs);
      add('worker: Done written → its end seen by the stack (node exits, then the supervisor)', end - Date.parse(job.finishedAt));
      const next = starts[i + 1];
      if (next) add('end seen → next spawn begins (receive, job read)', next.started - end);
    }
    const launches = [];
    for (let i = 0; i < tasks; i++) launches.push({ args: [WORKER], env: await workerEnv(await insertPending(own.store), own.uri) });
    const { results, ms } = await launchAll(launches, 1);
    const direct = results.map((exit) => workerMarks(exit.stdout)?.upMs ?? Number.NaN);
    return {
      ...Object.fromEntries(Object.entries(steps).map(([step, values]) => [step, percentile(values, 50)])),
      'stack: ms per task': perTask,
      'by hand: worker process start → InProgress written': percentile(direct, 50),
      'by hand: spawn → exit, less the above (exec, exit)': percentile(results.map((exit) => exit.ms), 50) - percentile(direct, 50),
      'by hand: ms per task': ms / tasks,
    };
  } finally {
    client.close();
    await stack.stop();
    await Promise.all([store.close(), own.store.close()]);
    dir.remove();
  }
}

/**
 * 3. Throughput at concurrency = cores: `tasks` through the stack (MAX_CONCURRENT = cores),
 * against the same number of worker runs started by hand, as many at a time, in alternating
 * rounds (compare). Then the same with
 * one core left over, for the stack's own work: what the stack does per task is then beside the
 * workers, not in their place.
 */
export async function throughput(tasks: number): Promise<Row[]> {
  const cores = availableParallelism();
  const full = await compare(tasks, cores);
  const rows = [
    row('throughput', `${tasks} tasks at concurrency ${cores} (= cores): stack vs worker runs ${cores} at a time, from the launcher (median of ${Math.ceil(tasks / ROUND)} alternating rounds)`, 'tasks/s', full.directRate, full.stackRate, { min: 0.9 }, 'ratio', { ...full, cores }),
  ];
  if (cores > 1) {
    const spare = await compare(Math.ceil(tasks / 4), cores - 1);
    const slotP50 = await slotBreakdown(60);
    rows.push(row('throughputSpareCore', `${Math.ceil(tasks / 4)} tasks at concurrency ${cores - 1} (a core to spare): stack vs worker runs`, 'tasks/s', spare.directRate, spare.stackRate, null, 'ratio', { ...spare, slotP50 }));
  }
  return rows;
}
