import type { SqliteJobStore } from '../apps/core/adapters/sqlite-job-store.js';
import type { Job } from '../apps/core/domain/job.js';
import { WORKER, workerMarks } from './cold-start.js';
import { insertPending, openStore, scratchDir, workerEnv } from './fixtures.js';
import { HttpClient } from './http-client.js';
import { launchAll, startStack } from './processes.js';
import { row, type Row } from './report.js';
import { percentile, spread, wallNow } from './stats.js';

const POLL_MS = 2;

interface Trip {
  id: string;
  containerName: string;
  sentAt: number;
  answeredAt: number;
  seenAt: number;
}

/** POSTs one task and polls it until Done, as a script using the API would. */
async function oneTask(client: HttpClient, message: string): Promise<Trip> {
  const sentAt = wallNow();
  const posted = await client.send('POST', '/api/jobs', { message });
  const answeredAt = wallNow();
  if (posted.status !== 202) throw new Error(`POST /api/jobs answered ${posted.status}: ${posted.body}`);
  const { id, containerName } = JSON.parse(posted.body) as { id: string; containerName: string };
  for (;;) {
    const answer = await client.get(`/api/jobs/${id}`);
    const state = (JSON.parse(answer.body) as { state: string }).state;
    if (state === 'Done') return { id, containerName, sentAt, answeredAt, seenAt: wallNow() };
    if (state === 'Failed') throw new Error(`task ${id} failed: ${answer.body}`);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

/** Where one trip's time went, from the client's clock, the job's record and the worker's own marks. */
function steps(trip: Trip, job: Job, logs: string | null): Record<string, number> | null {
  const marks = logs ? workerMarks(logs) : null;
  const loggedAt = logs ? /^(\S+) job \S+: InProgress/m.exec(logs)?.[1] : undefined;
  if (!marks || !loggedAt || !job.startedAt || !job.finishedAt) return null;
  const processStart = Date.parse(loggedAt) - marks.upMs;
  return {
    'POST answered (insert, send)': trip.answeredAt - trip.sentAt,
    'answer → worker process running (wake, receive, spawn)': processStart - trip.answeredAt,
    'worker: start until InProgress written': Date.parse(job.startedAt) - processStart,
    'worker: InProgress → Done written': Date.parse(job.finishedAt) - Date.parse(job.startedAt),
    [`Done written → seen by the client (polls every ${POLL_MS} ms)`]: trip.seenAt - Date.parse(job.finishedAt),
  };
}

async function runDirectly(store: SqliteJobStore, uri: string): Promise<number> {
  const job = await insertPending(store);
  const [exit] = (await launchAll([{ args: [WORKER], env: await workerEnv(job, uri) }])).results;
  if (exit!.code !== 0) throw new Error(`the worker exited ${exit!.code}`);
  return exit!.ms;
}

/**
 * 2. One task at a time through the whole stack (the build, as `npm start` runs it): POST, then
 * GET until Done, against the same worker run directly on a Pending job. They alternate.
 */
export async function dispatchOneAtATime(runs: number): Promise<Row[]> {
  const dir = scratchDir('dispatch');
  // The direct runs use a store of their own: the stack's reaper would take a job InProgress
  // without a container of its own for a lost one.
  const directDir = scratchDir('dispatch-direct');
  const stack = await startStack({ DATA_DIR: dir.path, WORK_SECONDS: '0' });
  const { store, uri } = await openStore(dir.path);
  const own = await openStore(directDir.path);
  const client = new HttpClient(stack.url);
  const direct: number[] = [];
  const trips: Trip[] = [];
  try {
    await oneTask(client, 'warm-up');
    for (let i = 0; i < runs; i++) {
      direct.push(await runDirectly(own.store, own.uri));
      trips.push(await oneTask(client, `task ${i}`));
    }
    // The reaper copies each container's log to the store (every REAP_INTERVAL_SECONDS, 2).
    await new Promise((resolve) => setTimeout(resolve, 2500));
    const breakdowns: Record<string, number>[] = [];
    for (const trip of trips) {
      const job = (await store.get(trip.id))!;
      const logs = (await store.getArtifacts(trip.containerName))?.logs ?? null;
      const split = steps(trip, job, logs);
      if (split) breakdowns.push(split);
    }
    const totals = trips.map((t) => t.seenAt - t.sentAt);
    const breakdownP50 = breakdowns.length
      ? Object.fromEntries(Object.keys(breakdowns[0]!).map((step) => [step, percentile(breakdowns.map((b) => b[step]!), 50)]))
      : null;
    return [
      row('dispatchOne', 'one task through the stack, POST → Done seen, vs the same worker run directly (p50)', 'ms', percentile(direct, 50), percentile(totals, 50), { max: 1.1 }, 'ratio', {
        direct: spread(direct),
        stack: spread(totals),
        ...(breakdownP50 ? { breakdownP50 } : {}),
      }),
      row('dispatchOneP95', 'one task through the stack, POST → Done seen, vs the same worker run directly (p95)', 'ms', percentile(direct, 95), percentile(totals, 95), null, 'ratio'),
    ];
  } finally {
    client.close();
    await stack.stop();
    await Promise.all([store.close(), own.store.close()]);
    dir.remove();
    directDir.remove();
  }
}
