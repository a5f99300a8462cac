import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SqliteJobStore } from '../apps/core/adapters/sqlite/job-store.js';
import { ROOT } from './build.js';
import { WORKER, workerMarks } from './cold-start.js';
import { insertPending, openStore, scratchDir, workerEnv } from './fixtures.js';
import { HttpClient } from './http-client.js';
import { launchAll, startStack } from './processes.js';
import { row, type Row } from './report.js';
import { percentile, spread, wallNow } from './stats.js';

// The measure, frozen (bench/README.md): the client POSTs, then GETs `/api/jobs/:id` every 10 ms
// (on a fixed schedule from the POST, whatever each answer took) until the first Done. The
// direct run has no poll: its time is its spawn to its exit, from the launcher.
const POLL_MS = 10;
// Trips of each side per round; each side's figure is the median of its round medians.
const PER_ROUND = 4;

interface Trip {
  id: string;
  containerName: string;
  sentAt: number;
  answeredAt: number;
  seenAt: number;
}

/** POSTs one task and polls it until Done, as a script using the API would. */
async function oneTask(client: HttpClient, message: string, kind?: string): Promise<Trip> {
  const sentAt = wallNow();
  const posted = await client.send('POST', '/api/jobs', kind ? { message, kind } : { message });
  const answeredAt = wallNow();
  if (posted.status !== 202) throw new Error(`POST /api/jobs answered ${posted.status}: ${posted.body}`);
  const { id, containerName } = JSON.parse(posted.body) as { id: string; containerName: string };
  for (let poll = 1; ; poll++) {
    const answer = await client.get(`/api/jobs/${id}`);
    const state = (JSON.parse(answer.body) as { state: string }).state;
    if (state === 'Done') return { id, containerName, sentAt, answeredAt, seenAt: wallNow() };
    if (state === 'Failed') throw new Error(`task ${id} failed: ${answer.body}`);
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, sentAt + poll * POLL_MS - wallNow())));
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
    'spawn: the supervisor started, the container recorded and sampled': start.ended - start.started,
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

// An own kind, run as a process: the example word count, with no pause between its steps. Its
// floor is the same command, in the same folder, with the same environment, from the launcher.
const OWN_KIND = 'wordcount';
const OWN_COMMAND = ['sh', join(ROOT, 'examples/wordcount/wordcount.sh')];
const OWN_ENV = { STEP_SECONDS: '0' };

async function runOwnDirectly(): Promise<number> {
  const env = { ...OWN_ENV, MESSAGE: 'bench', CONTAINER_NAME: `task-direct-${Date.now()}` };
  const [exit] = (await launchAll([{ file: OWN_COMMAND[0], args: OWN_COMMAND.slice(1), env, cwd: ROOT }])).results;
  if (exit!.code !== 0) throw new Error(`the own kind's command exited ${exit!.code}`);
  return exit!.ms;
}

/** The median of per-round medians: the machine is shared, so one busy round moves one figure of each side. */
function medianOfRounds(rounds: number[][]): number {
  return percentile(rounds.map((round) => percentile(round, 50)), 50);
}

/**
 * 2. One task at a time through the whole stack (the build, as `npm start` runs it): POST, then
 * GET every 10 ms until Done, against the same program run directly (the frozen floor,
 * bench/README.md). The built-in worker and an own kind, in rounds that alternate all four.
 * Then where the built-in worker's time goes, from a stack that notes each step.
 */
export async function dispatchOneAtATime(runs: number): Promise<Row[]> {
  const dir = scratchDir('dispatch');
  // The direct runs use a store of their own: the stack's reaper would take a job InProgress
  // without a container of its own for a lost one.
  const directDir = scratchDir('dispatch-direct');
  const kindsFile = join(dir.path, 'kinds.json');
  writeFileSync(kindsFile, JSON.stringify({ [OWN_KIND]: { command: OWN_COMMAND, cpu: 0.5, memoryGb: 0.5, env: OWN_ENV } }));
  const stack = await startStack({ DATA_DIR: dir.path, WORK_SECONDS: '0', KINDS_FILE: kindsFile });
  const own = await openStore(directDir.path);
  const client = new HttpClient(stack.url);
  const rounds = Math.max(1, Math.round(runs / PER_ROUND));
  const sides = { direct: [] as number[][], stack: [] as number[][], ownDirect: [] as number[][], ownStack: [] as number[][] };
  try {
    await oneTask(client, 'warm-up');
    await oneTask(client, 'warm-up', OWN_KIND);
    for (let r = 0; r < rounds; r++) {
      const round = { direct: [] as number[], stack: [] as number[], ownDirect: [] as number[], ownStack: [] as number[] };
      for (let i = 0; i < PER_ROUND; i++) {
        round.direct.push(await runDirectly(own.store, own.uri));
        const trip = await oneTask(client, `task ${r}.${i}`);
        round.stack.push(trip.seenAt - trip.sentAt);
        round.ownDirect.push(await runOwnDirectly());
        const ownTrip = await oneTask(client, `task ${r}.${i}`, OWN_KIND);
        round.ownStack.push(ownTrip.seenAt - ownTrip.sentAt);
      }
      for (const side of Object.keys(sides) as (keyof typeof sides)[]) sides[side].push(round[side]);
    }
  } finally {
    client.close();
    await stack.stop();
    await own.store.close();
    dir.remove();
    directDir.remove();
  }
  const all = (side: keyof typeof sides) => sides[side].flat();
  const builtIn = { floor: medianOfRounds(sides.direct), ours: medianOfRounds(sides.stack) };
  const ownKind = { floor: medianOfRounds(sides.ownDirect), ours: medianOfRounds(sides.ownStack) };
  const builtInOverhead = builtIn.ours - builtIn.floor;
  const ownBudget = Math.round((builtInOverhead + 20) * 10) / 10;
  const breakdownP50 = await breakdown(Math.min(runs, 20));
  return [
    row('dispatchOne', 'built-in worker, POST → Done (GET every 10 ms) vs the worker run directly (median of round p50s)', 'ms', builtIn.floor, builtIn.ours, { max: 1.1 }, 'ratio', {
      rounds,
      perRound: PER_ROUND,
      direct: spread(all('direct')),
      stack: spread(all('stack')),
      pollMs: POLL_MS,
      ...(breakdownP50 ? { breakdownP50 } : {}),
    }),
    row('dispatchOneP95', 'built-in worker, POST → Done vs the worker run directly (p95 of every trip)', 'ms', percentile(all('direct'), 95), percentile(all('stack'), 95), null, 'ratio'),
    row(
      'dispatchOwnKindOverhead',
      `own kind (${OWN_KIND}, a process): POST → Done minus its command run directly, vs the built-in worker's overhead + 20 ms`,
      'ms',
      // The budget is the floor column; met when the own kind's overhead is within it (a ratio
      // to a budget near or below zero would mean nothing).
      ownBudget,
      ownKind.ours - ownKind.floor,
      { max: ownBudget },
      'ours',
      { ownDirect: spread(all('ownDirect')), ownStack: spread(all('ownStack')), ownFloor: ownKind.floor, ownOurs: ownKind.ours, builtInOverhead },
    ),
  ];
}
