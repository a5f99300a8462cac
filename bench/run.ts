// npm run bench: the performance claims, measured side by side in one run (this machine is
// noisy, so compare the ratios, not the single timings). Nothing here is a pass/fail test.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SqliteJobStore } from '../apps/core/adapters/sqlite-job-store.js';
import { SqliteWorkQueue } from '../apps/core/adapters/sqlite-work-queue.js';
import { containerNameFor } from '../apps/core/domain/container-name.js';
import { newPendingJob } from '../apps/core/domain/job.js';
import { newJobId } from '../apps/core/domain/job-id.js';
import { DEFAULT_PRICES } from '../apps/core/domain/pricing.js';
import { buildApp } from '../apps/dashboard/app.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

async function timeIt(runs: number, fn: () => Promise<unknown>): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    await fn();
    times.push(performance.now() - start);
  }
  return median(times);
}

function row(what: string, a: string, b: string, ratio: number): void {
  console.log(`${what.padEnd(58)} ${a.padStart(12)} ${b.padStart(12)} ${ratio.toFixed(1).padStart(8)}x`);
}

const ms = (value: number) => `${value.toFixed(2)} ms`;

/** Send → receive latency: the consumer woken on send, against a consumer that polls every 250 ms. */
async function pickupLatency(dir: string): Promise<void> {
  const queue = new SqliteWorkQueue({ path: join(dir, 'queue.db'), lockDurationMs: 30_000, maxDeliveryCount: 5, duplicateDetectionWindowMs: 600_000 });
  const measure = async (wait: () => Promise<void>) => {
    const latencies: number[] = [];
    for (let i = 0; i < 20; i++) {
      let received = 0;
      const consumer = (async () => {
        for (;;) {
          const [message] = await queue.receive(1);
          if (message) {
            received = performance.now();
            await queue.complete(message);
            return;
          }
          await wait();
        }
      })();
      await new Promise((resolve) => setTimeout(resolve, 5 + Math.random() * 250));
      const sent = performance.now();
      await queue.send({ messageId: newJobId(), body: { jobId: 'x', message: 'm' } });
      await consumer;
      latencies.push(received - sent);
    }
    return median(latencies);
  };
  const woken = await measure(() => queue.waitForMessages(1000));
  const polled = await measure(() => new Promise((resolve) => setTimeout(resolve, 250)));
  row('queue pickup after send (median): fixed 250 ms poll / wake-on-send', ms(polled), ms(woken), polled / woken);
  await queue.close();
}

/** The worker started as built JavaScript, against compiling its TypeScript at spawn (tsx). */
async function workerStart(dir: string): Promise<void> {
  const store = new SqliteJobStore(join(dir, 'jobs.db'));
  const run = async (args: string[]) => {
    const id = newJobId();
    const job = await store.insert(newPendingJob(id, containerNameFor(id), 'm', new Date()));
    const env = { MESSAGE: 'm', CONTAINER_NAME: job.containerName, DATABASE_URI: `sqlite:${join(dir, 'jobs.db')}`, WORK_SECONDS: '0', PATH: process.env.PATH ?? '' };
    await new Promise<void>((resolve, reject) => {
      const child = spawn(process.execPath, args, { cwd: ROOT, env, stdio: 'ignore' });
      child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`worker exited ${code}`))));
    });
  };
  const built = await timeIt(7, () => run([join(ROOT, 'dist/apps/worker/main.js')]));
  const compiled = await timeIt(7, () => run(['--import', 'tsx', join(ROOT, 'apps/worker/main.ts')]));
  row('worker run, WORK_SECONDS=0 (median): tsx at spawn / built JS', ms(compiled), ms(built), compiled / built);
  await store.close();
}

/** The dashboard with 10,000 tasks, against 100; and a live update against re-sending the list. */
async function dashboardAtScale(dir: string): Promise<void> {
  const open = async (name: string, tasks: number) => {
    const store = new SqliteJobStore(join(dir, `${name}.db`));
    const queue = new SqliteWorkQueue({ path: join(dir, `${name}-queue.db`), lockDurationMs: 30_000, maxDeliveryCount: 5, duplicateDetectionWindowMs: 600_000 });
    for (let i = 0; i < tasks; i++) {
      const id = newJobId();
      const job = await store.insert(newPendingJob(id, containerNameFor(id), `task ${i}`, new Date()));
      if (i % 3 === 0) await store.markDone(job.containerName, new Date(), 'ok');
    }
    const app = await buildApp({ store, queue, runtime: { logs: async () => null }, metrics: { metrics: async () => null }, prices: DEFAULT_PRICES, costLabel: 'ACI equivalent', kinds: ['default'] }, { logger: false });
    return { store, queue, app };
  };
  const small = await open('small', 100);
  const large = await open('large', 10_000);
  const pageSmall = await timeIt(30, () => small.app.inject('/'));
  const pageLarge = await timeIt(30, () => large.app.inject('/'));
  row('page load (median): 10,000 tasks / 100 tasks', ms(pageLarge), ms(pageSmall), pageLarge / pageSmall);

  const rev = await large.store.currentRev();
  const idle = await timeIt(50, () => large.app.inject(`/ui/updates?since=${rev}`));
  const everything = await timeIt(10, () => large.app.inject('/api/jobs?limit=500'));
  row('poll, nothing changed, 10,000 tasks: list 500 as JSON / 204', ms(everything), ms(idle), everything / idle);

  const [recent] = (await large.store.list({ limit: 1, state: 'Pending' })).jobs;
  const before = await large.store.currentRev();
  await large.store.markFailed(recent!.containerName, new Date(), 'bench');
  const update = await large.app.inject(`/ui/updates?since=${before}`);
  const full = await large.app.inject('/');
  row('bytes for one changed task: whole page / the update', `${full.body.length} B`, `${update.body.length} B`, full.body.length / update.body.length);

  for (const { app, store, queue } of [small, large]) {
    await app.close();
    await Promise.all([store.close(), queue.close()]);
  }
}

const dir = mkdtempSync(join(tmpdir(), 'eda-bench-'));
try {
  console.log(`${'measure'.padEnd(58)} ${'baseline'.padStart(12)} ${'ours'.padStart(12)} ${'ratio'.padStart(9)}`);
  await pickupLatency(dir);
  await workerStart(dir);
  await dashboardAtScale(dir);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
