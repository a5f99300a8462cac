// The local stack, event-driven (issue 25): a task of a kind that knows nothing of the store is
// Done as soon as its container exits, not at a sweep's tick; and an idle stack wakes rarely.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ROOT } from './build.js';
import { scratchDir } from './fixtures.js';
import { startStack } from './processes.js';
import { row, type Row } from './report.js';
import { percentile } from './stats.js';

// The kind: a program that prints its result and exits.
const ECHO_KIND = { echo: { command: ['sh', '-c', 'echo \'{"output": "ok"}\''], timeoutSeconds: 60 } };
const POLL_MS = 10;

/** POST, then GET /api/jobs/:id every 10 ms until Done: the measure. */
async function postToDone(url: string): Promise<number> {
  const started = performance.now();
  const posted = await fetch(`${url}/api/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ message: 'x', kind: 'echo' }) });
  if (posted.status !== 202) throw new Error(`POST /api/jobs answered ${posted.status}: ${await posted.text()}`);
  const { id } = (await posted.json()) as { id: string };
  for (;;) {
    const job = (await (await fetch(`${url}/api/jobs/${id}`)).json()) as { state: string };
    if (job.state === 'Done') return performance.now() - started;
    if (job.state === 'Failed') throw new Error(`task ${id} failed: ${JSON.stringify(job)}`);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

export async function events(tasks: number, idleSeconds: number): Promise<Row[]> {
  const scratch = scratchDir('events');
  const dir = scratch.path;
  const kindsFile = join(dir, 'kinds.json');
  writeFileSync(kindsFile, JSON.stringify(ECHO_KIND));
  const wakesFile = join(dir, 'wakes.json');
  mkdirSync(join(dir, 'data'));
  const stack = await startStack({
    DATA_DIR: join(dir, 'data'),
    KINDS_FILE: kindsFile,
    // The stack's own settings otherwise: the sweep at its default interval.
    NODE_OPTIONS: `--import ${pathToFileURL(join(ROOT, 'bench/count-wakes.mjs')).href}`,
    BENCH_WAKES: wakesFile,
  });
  try {
    // Idle first, before any client has connected (a client's keep-alive sockets, closed by the
    // server later, would be the client's wakes): nothing running, nothing queued. The first
    // sweep runs at the start; every callback the loop runs after it is counted.
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    const from = Date.now();
    await new Promise((resolve) => setTimeout(resolve, idleSeconds * 1000));
    const to = Date.now();
    process.kill(stack.pid, 'SIGUSR2');
    await new Promise((resolve) => setTimeout(resolve, 500));
    const wakes = (JSON.parse(readFileSync(wakesFile, 'utf8')) as { at: number; type: string }[]).filter((w) => w.at >= from && w.at < to);
    const byType: Record<string, number> = {};
    for (const wake of wakes) byType[wake.type] = (byType[wake.type] ?? 0) + 1;
    if (wakes.length > 0) console.error(`events: idle wakes by origin: ${JSON.stringify(byType, null, 1)}`);

    await postToDone(stack.url); // warm: the first task pays for loading what later ones reuse
    const trips: number[] = [];
    for (let i = 0; i < tasks; i++) trips.push(await postToDone(stack.url));
    const perMinute = (wakes.length * 60) / idleSeconds;
    return [
      row('events.own-kind-done', `own kind: POST → Done, p50 of ${tasks} sequential (GET every ${POLL_MS} ms)`, 'ms', null, percentile(trips, 50), { max: 300 }, 'ours', {
        p90: percentile(trips, 90),
        max: Math.max(...trips),
      }),
      row('events.idle-wakes', `idle stack: event-loop wakes per minute (measured over ${idleSeconds} s)`, 'wakes', null, perMinute, { max: 2 }, 'ours', { wakes: wakes.length, seconds: idleSeconds, byType }),
    ];
  } finally {
    await stack.stop();
    scratch.remove();
  }
}
