import { openStore, scratchDir } from './fixtures.js';
import { HttpClient } from './http-client.js';
import { startStack, treeMemory } from './processes.js';
import { row, type Row } from './report.js';

const MiB = 1024 * 1024;

/** RSS and PSS of a bare `node` that only waits: what one more process of it costs at the least. */
async function bareNode(): Promise<{ rssBytes: number; pssBytes: number }> {
  const { spawn } = await import('node:child_process');
  const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 5000)'], { env: {}, stdio: 'ignore' });
  await new Promise((resolve) => setTimeout(resolve, 500));
  const memory = treeMemory(child.pid!);
  child.kill();
  return memory;
}

/**
 * 6. The stack's memory with `tasks` running at once (MAX_CONCURRENT = tasks): every process of
 * it (the stack, each task's supervisor and worker), sampled until all have run a while, and
 * per running task: (peak − the idle stack) / tasks, beside a bare node process.
 */
export async function memory(tasks: number): Promise<Row[]> {
  const dir = scratchDir('memory');
  // No grace at the end: the tasks are stopped at once rather than waited for.
  const stack = await startStack({ DATA_DIR: dir.path, WORK_SECONDS: '8', MAX_CONCURRENT: String(tasks), SHUTDOWN_GRACE_SECONDS: '0' });
  const { store } = await openStore(dir.path);
  const client = new HttpClient(stack.url);
  try {
    await new Promise((resolve) => setTimeout(resolve, 500));
    const idle = treeMemory(stack.pid);
    for (let i = 0; i < tasks; i++) await client.send('POST', '/api/jobs', { message: `memory ${i}` });
    let peak = idle;
    let allRunningAt: number | null = null;
    const started = Date.now();
    while (Date.now() - started < 30_000) {
      const now = treeMemory(stack.pid);
      if (now.rssBytes > peak.rssBytes) peak = now;
      const running = (await store.counts()).InProgress;
      if (running === tasks && allRunningAt === null) allRunningAt = Date.now();
      // Two seconds with every task running: their memory has settled.
      if (allRunningAt !== null && Date.now() - allRunningAt > 2000) break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    if (allRunningAt === null) throw new Error(`not all ${tasks} tasks were running at once`);
    const bare = await bareNode();
    const perTask = (peak.rssBytes - idle.rssBytes) / tasks / MiB;
    return [
      row('memoryPeak', `the stack's peak RSS with ${tasks} tasks running (every process)`, 'MiB', null, peak.rssBytes / MiB, null, 'ours', {
        idleStackRssMiB: idle.rssBytes / MiB,
        peakPssMiB: peak.pssBytes / MiB,
        processes: peak.processes,
      }),
      row('memoryPerTask', 'RSS per running task (supervisor and worker) vs a bare node process', 'MiB', bare.rssBytes / MiB, perTask, null, 'ratio', {
        perTaskPssMiB: (peak.pssBytes - idle.pssBytes) / tasks / MiB,
        bareNodePssMiB: bare.pssBytes / MiB,
      }),
    ];
  } finally {
    client.close();
    await stack.stop();
    await store.close();
    dir.remove();
  }
}
