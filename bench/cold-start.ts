import { join } from 'node:path';
import { WORKER_ENTRY_IN_BUILD } from '../stacks/local/worker-entry.js';
import { DIST } from './build.js';
import { insertPending, openStore, scratchDir, workerEnv } from './fixtures.js';
import { launchAll, type Launch } from './processes.js';
import { row, type Row } from './report.js';
import { percentile, spread } from './stats.js';

export const WORKER = join(DIST, WORKER_ENTRY_IN_BUILD);

/** What the worker says of its own start, when it says it (see apps/worker/main.ts). */
export function workerMarks(stdout: string): { upMs: number; storeOpenMs: number } | null {
  const match = /InProgress \(([\d.]+) ms after the process started; store open at ([\d.]+) ms\)/.exec(stdout);
  return match ? { upMs: Number(match[1]), storeOpenMs: Number(match[2]) } : null;
}

/**
 * 1. The built worker on a Pending job (InProgress and Done written, WORK_SECONDS=0), against
 * `node -e ''`: the least a process that runs JavaScript costs here. The two alternate, so load
 * on the machine falls on both alike, both started by the same small launcher. A store connection stays open meanwhile, as the stack's
 * does, so the worker's close is not the last one (which would checkpoint the WAL).
 */
export async function coldStart(runs: number): Promise<Row[]> {
  const dir = scratchDir('cold');
  const { store, uri } = await openStore(dir.path);
  const floor: number[] = [];
  const worker: number[] = [];
  const up: number[] = [];
  const open: number[] = [];
  try {
    const jobs = [];
    const launches: Launch[] = [];
    for (let i = 0; i < runs; i++) {
      const job = await insertPending(store);
      jobs.push(job);
      launches.push({ args: ['-e', ''], env: {} }, { args: [WORKER], env: await workerEnv(job, uri) });
    }
    const { results } = await launchAll(launches);
    for (let i = 0; i < runs; i++) {
      const [bare, exit] = [results[2 * i]!, results[2 * i + 1]!];
      const saved = await store.get(jobs[i]!.id);
      if (exit.code !== 0 || saved?.state !== 'Done') throw new Error(`the worker did not finish its job: exit ${exit.code}, ${saved?.state}`);
      floor.push(bare.ms);
      worker.push(exit.ms);
      const marks = workerMarks(exit.stdout);
      if (marks) {
        up.push(marks.upMs);
        open.push(marks.storeOpenMs);
      }
    }
  } finally {
    await store.close();
    dir.remove();
  }
  const breakdown = up.length
    ? {
        'until the store is open (boot, load, open)': percentile(open, 50),
        'store open → InProgress written (a read, a write)': percentile(up, 50) - percentile(open, 50),
        'InProgress → exit seen by the parent (work of 0 s, Done written, close, exit)': percentile(worker, 50) - percentile(up, 50),
      }
    : null;
  return [
    row('coldStart', "worker cold start: the built worker on a Pending job vs node -e ''", 'ms', percentile(floor, 50), percentile(worker, 50), { max: 1.5 }, 'ratio', {
      floor: spread(floor),
      worker: spread(worker),
      entry: WORKER_ENTRY_IN_BUILD,
      ...(breakdown ? { breakdownP50: breakdown } : {}),
    }),
  ];
}
