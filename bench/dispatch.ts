import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SqliteJobStore } from '../apps/core/adapters/sqlite/job-store.js';
import { WORKER, workerMarks } from './cold-start.js';
import { insertPending, openStore, scratchDir, workerEnv } from './fixtures.js';
import { HttpClient } from './http-client.js';
import { launchAll, startStack } from './processes.js';
import { row, type Row } from './report.js';
import { percentile, spread, wallNow } from './stats.js';

// The client asks again 1 ms after each answer: it sees Done about as soon as a poll can, and
// what that costs shows as the breakdown's last step. (At 2 ms the step, and the ratio, grow by
// about 1 ms; a browser polls every second.)
const POLL_MS = 1;

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

async function runDirectly(store: SqliteJobStore, uri: string): Promise<number> {
  const job = await insertPending(store);
  const [exit] = (await launchAll([{ args: [WORKER], env: await workerEnv(job, uri) }])).results;
  if (exit!.code !== 0) throw new Error(`the worker exited ${exit!.code}`);
  return exit!.ms;
}

interface TraceEvent {
  step: string;
  key: string | string[] | null;
  started: number;
  ended: number;
}

/** Where one trip's time went: the stack's own steps (bench/trace-stack.mjs), the worker's marks, the client's clock. */
function steps(trip: Trip, trace: TraceEvent[], finishedAt: string, logs: string): Record<string, number> | null {
  const find = (step: string, match: (event: TraceEvent) => boolean) => trace.find((e) => e.step === step && match(e));
  const insert = find('insert', (e) => e.key === trip.id);
  const send = find('send', (e) => e.key === trip.id);
  const receive = find('receive', (e) => Array.isArray(e.key) && e.key.includes(trip.id));
  const start = find('start', (e) => e.key === trip.id);
  const dispatched = find('markDispatched', (e) => e.key === trip.containerName);
  const wake = send && find('waitForMessages', (e) => e.ended >= send.started);
  const marks = workerMarks(logs);
  const loggedAt = /^(\S+) job \S+: InProgress/m.exec(logs)?.[1];
  if (!insert || !send || !receive || !start || !dispatched || !wake || !marks || !loggedAt) return null;
  // The worker's own clock: its log line's time (whole ms) less its time since its process started.
  const processStart = Date.parse(loggedAt) - marks.upMs;
  return {
    'request in → insert begins (HTTP, checks)': insert.started - trip.sentAt,
    insert: insert.ended - insert.started,
    send: send.ended - send.started,
    'wake: the consumer resumes after the send': wake.ended - send.ended,
    receive: receive.ended - receive.started,
    'receive → spawn begins (the job read)': start.started - receive.ended,
    'spawn: the supervisor started (/bin/sh), the container recorded and sampled': start.ended - start.started,
    'dispatch recorded, after the spawn': dispatched.ended - start.ended,
    'POST answered, as the client sees it': trip.answeredAt - trip.sentAt,
    'spawn → worker process started (the supervisor starts node; whole ms)': processStart - start.started,
    'worker: process start → InProgress written': marks.upMs,
    'worker: InProgress → Done written (whole ms)': Date.parse(finishedAt) - (processStart + marks.upMs),
    [`Done written → seen by the client (it polls every ${POLL_MS} ms; whole ms)`]: trip.seenAt - Date.parse(finishedAt),
    total: trip.seenAt - trip.sentAt,
  };
}

/** The same trips against a stack that notes its steps, after the measured ones: tracing costs a little. */
async function breakdown(runs: number): Promise<Record<string, number> | null> {
  const dir = scratchDir('dispatch-trace');
  const tracePath = join(dir.path, 'trace.json');
  const stack = await startStack({ DATA_DIR: dir.path, WORK_SECONDS: '0' }, tracePath);
  const { store } = await openStore(dir.path);
  const client = new HttpClient(stack.url);
  const trips: Trip[] = [];
  try {
    await oneTask(client, 'warm-up');
    for (let i = 0; i < runs; i++) trips.push(await oneTask(client, `traced ${i}`));
    // The reaper copies each container's log to the store (every REAP_INTERVAL_SECONDS, 2).
    await new Promise((resolve) => setTimeout(resolve, 2500));
    client.close();
    await stack.stop();
    const trace = JSON.parse(readFileSync(tracePath, 'utf8')) as TraceEvent[];
    const split: Record<string, number>[] = [];
    for (const trip of trips) {
      const job = (await store.get(trip.id))!;
      const logs = (await store.getArtifacts(trip.containerName))?.logs ?? '';
      const one = steps(trip, trace, job.finishedAt!, logs);
      if (one) split.push(one);
    }
    if (split.length === 0) return null;
    return Object.fromEntries(Object.keys(split[0]!).map((step) => [step, percentile(split.map((s) => s[step]!), 50)]));
  } finally {
    client.close();
    await stack.stop();
    await store.close();
    dir.remove();
  }
}

/**
 * 2. One task at a time through the whole stack (the build, as `npm start` runs it): POST, then
 * GET until Done, against the same worker run directly on a Pending job. They alternate. Then
 * where the time goes, from a stack that notes each step.
 */
export async function dispatchOneAtATime(runs: number): Promise<Row[]> {
  const dir = scratchDir('dispatch');
  // The direct runs use a store of their own: the stack's reaper would take a job InProgress
  // without a container of its own for a lost one.
  const directDir = scratchDir('dispatch-direct');
  const stack = await startStack({ DATA_DIR: dir.path, WORK_SECONDS: '0' });
  const own = await openStore(directDir.path);
  const client = new HttpClient(stack.url);
  const direct: number[] = [];
  const totals: number[] = [];
  try {
    await oneTask(client, 'warm-up');
    for (let i = 0; i < runs; i++) {
      direct.push(await runDirectly(own.store, own.uri));
      const trip = await oneTask(client, `task ${i}`);
      totals.push(trip.seenAt - trip.sentAt);
    }
  } finally {
    client.close();
    await stack.stop();
    await own.store.close();
    dir.remove();
    directDir.remove();
  }
  const breakdownP50 = await breakdown(Math.min(runs, 20));
  return [
    row('dispatchOne', 'one task through the stack, POST → Done seen, vs the same worker run directly (p50)', 'ms', percentile(direct, 50), percentile(totals, 50), { max: 1.1 }, 'ratio', {
      direct: spread(direct),
      stack: spread(totals),
      pollMs: POLL_MS,
      ...(breakdownP50 ? { breakdownP50 } : {}),
    }),
    row('dispatchOneP95', 'one task through the stack, POST → Done seen, vs the same worker run directly (p95)', 'ms', percentile(direct, 95), percentile(totals, 95), null, 'ratio'),
  ];
}
