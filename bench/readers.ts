import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from './build.js';
import { openStore, scratchDir } from './fixtures.js';
import { HttpClient } from './http-client.js';
import { startStack, type StackProcess } from './processes.js';
import { row, type Row } from './report.js';
import { emptyHistory, seedHistory } from './seed.js';
import { percentile, spread } from './stats.js';

const LOAD = join(ROOT, 'bench/readers-load.mjs');

export interface ReadersOptions {
  stored: number;
  pollers: number;
  listers: number;
  loadSeconds: number;
  /** Tasks timed POST → Done, idle and then under the load. */
  tasks: number;
}

interface LoadCounts {
  polls: number;
  pollErrors: number;
  lists: number;
  listErrors: number;
  listMs: number[];
}

/** POST → Done of one task, polling the task every 20 ms. */
async function postToDone(client: HttpClient, message: string): Promise<number> {
  const started = performance.now();
  const posted = await client.send('POST', '/api/jobs', { message });
  if (posted.status !== 202) throw new Error(`POST /api/jobs answered ${posted.status}: ${posted.body}`);
  const { id } = JSON.parse(posted.body) as { id: string };
  for (;;) {
    const answer = await client.get(`/api/jobs/${id}`);
    const state = (JSON.parse(answer.body) as { state: string }).state;
    if (state === 'Done') return performance.now() - started;
    if (state === 'Failed') throw new Error(`task ${id} Failed`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function tasksToDone(stack: StackProcess, count: number, until: number | null): Promise<number[]> {
  const client = new HttpClient(stack.url);
  const times: number[] = [];
  try {
    for (let i = 0; i < count || (until !== null && Date.now() < until); i++) times.push(await postToDone(client, `timed ${i}`));
  } finally {
    client.close();
  }
  return times;
}

function runLoad(input: Record<string, unknown>): Promise<LoadCounts> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [LOAD], { env: { PATH: process.env.PATH ?? '' }, stdio: ['pipe', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve(JSON.parse(out) as LoadCounts) : reject(new Error(`the readers' load exited ${code}`))));
    child.stdin.end(JSON.stringify(input));
  });
}

/**
 * 7. Many readers: `stored` tasks in the store; for `loadSeconds`, `pollers` clients ask
 * /ui/updates?since=<their revision> once a second while `listers` list /api/jobs?limit=500
 * back to back, from a process of their own. Meanwhile /healthz is asked every 100 ms and tasks
 * are timed POST → Done, against the same tasks timed on the idle stack first.
 */
export async function readers(options: ReadersOptions): Promise<Row[]> {
  const dir = scratchDir('readers');
  const { store } = await openStore(dir.path);
  let stack: StackProcess | null = null;
  try {
    await seedHistory(store, 0, options.stored, emptyHistory());
    const since = await store.currentRev();
    stack = await startStack({ DATA_DIR: dir.path, WORK_SECONDS: '0', MAX_CONCURRENT: '4' });
    await tasksToDone(stack, 2, null); // warm-up
    const idle = await tasksToDone(stack, options.tasks, null);

    const load = runLoad({ url: stack.url, pollers: options.pollers, listers: options.listers, seconds: options.loadSeconds, since });
    const until = Date.now() + options.loadSeconds * 1000;
    // Wait a second for every poller to be asking, then measure while the load lasts.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const health = new HttpClient(stack.url);
    const healthz: number[] = [];
    let healthErrors = 0;
    const prober = (async () => {
      while (Date.now() < until) {
        const answer = await health.get('/healthz');
        if (answer.status === 200) healthz.push(answer.ms);
        else healthErrors++;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    })();
    const loaded = await tasksToDone(stack, options.tasks, until - 500);
    await prober;
    health.close();
    const counts = await load;
    const detail = {
      stored: options.stored,
      pollers: options.pollers,
      listers: options.listers,
      seconds: options.loadSeconds,
      healthz: spread(healthz),
      healthErrors,
      idlePostToDone: spread(idle),
      loadedPostToDone: spread(loaded),
      polls: counts.polls,
      pollErrors: counts.pollErrors,
      lists: counts.lists,
      listErrors: counts.listErrors,
      listP99: counts.listMs.length ? percentile(counts.listMs, 99) : null,
    };
    console.error(`  readers: ${JSON.stringify(detail)}`);
    const k = `${options.stored / 1000}k`;
    const who = `${options.pollers} pollers + ${options.listers} listers at ${k} tasks`;
    return [
      row('readersHealthzP99', `/healthz p99 under ${who}`, 'ms', null, percentile(healthz, 99), { max: 1000 }, 'ours', detail),
      row('readersPostToDoneP50', `POST → Done p50: idle (floor) → under ${who}`, 'ms', percentile(idle, 50), percentile(loaded, 50), { max: 2 }, 'ratio'),
    ];
  } finally {
    await stack?.stop();
    await store.close();
    dir.remove();
  }
}
