import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { eventually, sleep, tempDir } from '../helpers.js';
import { getJob, postJob, startStackProcess, workerProcesses, type RunningStack } from '../local-stack-process.js';

describe('the local stack, as `npm start` runs it', () => {
  let dir: ReturnType<typeof tempDir>;
  let stack: RunningStack | null = null;
  beforeEach(() => {
    dir = tempDir();
  });
  afterEach(async () => {
    if (stack && stack.child.exitCode === null) await stack.stop(2);
    stack = null;
    dir.remove();
  });

  const dataDir = () => join(dir.path, 'data');

  it('runs a task to Done within WORK_SECONDS + 2 s', async () => {
    stack = await startStackProcess({ DATA_DIR: dataDir(), WORK_SECONDS: '1' });
    const started = Date.now();
    const { id } = await postJob(stack.url, 'hi');
    const job = await eventually(async () => {
      const job = await getJob(stack!.url, id);
      return job.state === 'Done' ? job : undefined;
    }, 3_000, 'Done within WORK_SECONDS + 2 s');
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(job.output).toMatch(/^processed "hi"/);
  });

  it('runs 20 tasks to Done, never more than MAX_CONCURRENT at once', async () => {
    const maxConcurrent = 3;
    stack = await startStackProcess({ DATA_DIR: dataDir(), WORK_SECONDS: '0.7', MAX_CONCURRENT: String(maxConcurrent) });
    const posted = await Promise.all(Array.from({ length: 20 }, (_, i) => postJob(stack!.url, `task ${i}`)));

    // Watch the processes themselves, independently of what the stack reports.
    let peakProcesses = 0;
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        peakProcesses = Math.max(peakProcesses, workerProcesses(dataDir()).length);
        await sleep(10);
      }
    })();
    const jobs = await eventually(async () => {
      const all = await Promise.all(posted.map((p) => getJob(stack!.url, p.id)));
      return all.every((j) => j.state === 'Done') ? all : undefined;
    }, 45_000, 'all 20 Done');
    watching = false;
    await watcher;

    for (const job of jobs) {
      expect(job.startedAt).toEqual(expect.any(String));
      expect(job.finishedAt).toEqual(expect.any(String));
      expect(job.attempts).toBe(1);
    }
    // The tasks' own InProgress intervals never overlap more than the limit either.
    const edges = jobs.flatMap((j) => [
      [Date.parse(j.startedAt as string), 1],
      [Date.parse(j.finishedAt as string), -1],
    ]);
    edges.sort((a, b) => a[0]! - b[0]! || a[1]! - b[1]!);
    let open = 0;
    let peakIntervals = 0;
    for (const [, delta] of edges) peakIntervals = Math.max(peakIntervals, (open += delta!));
    expect(peakProcesses).toBeLessThanOrEqual(maxConcurrent);
    expect(peakIntervals).toBeLessThanOrEqual(maxConcurrent);
    expect(peakIntervals).toBeGreaterThanOrEqual(2); // it does run work side by side
  });

  it('on Ctrl-C lets the running task finish, leaves no worker behind, and carries on when started again', async () => {
    stack = await startStackProcess({ DATA_DIR: dataDir(), WORK_SECONDS: '1', MAX_CONCURRENT: '1' });
    const first = await postJob(stack.url, 'first');
    const rest = [await postJob(stack.url, 'second'), await postJob(stack.url, 'third')];
    await eventually(async () => (await getJob(stack!.url, first.id)).state === 'InProgress');
    expect(await stack.stop(1)).toBe(0);
    expect(stack.output()).toMatch(/waiting up to 30 s for 1 running task/);
    expect(workerProcesses(dataDir(), { supervisors: true })).toEqual([]);

    stack = await startStackProcess({ DATA_DIR: dataDir(), WORK_SECONDS: '0.2', MAX_CONCURRENT: '1' });
    expect((await getJob(stack.url, first.id)).state).toBe('Done');
    for (const job of rest) {
      await eventually(async () => (await getJob(stack!.url, job.id)).state === 'Done', 15_000, `${job.id} Done after restart`);
    }
  });

  it('on a second Ctrl-C stops running work at once, and runs it again as a new attempt after the restart', async () => {
    stack = await startStackProcess({ DATA_DIR: dataDir(), WORK_SECONDS: '60' });
    const job = await postJob(stack.url, 'long');
    await eventually(async () => (await getJob(stack!.url, job.id)).state === 'InProgress');
    expect(workerProcesses(dataDir())).toHaveLength(1);
    expect(await stack.stop(2)).toBe(0);
    expect(stack.output()).toMatch(/they run again when the stack next starts/);
    expect(workerProcesses(dataDir(), { supervisors: true })).toEqual([]);

    stack = await startStackProcess({ DATA_DIR: dataDir(), WORK_SECONDS: '0' });
    const after = await eventually(async () => {
      const current = await getJob(stack!.url, job.id);
      return current.state === 'Done' ? current : undefined;
    }, 15_000, 'the second attempt Done');
    expect(after).toMatchObject({ attempts: 2 });
    const [first] = after.priorAttempts as { containerName: string; reason: string }[];
    expect(first).toMatchObject({ containerName: job.containerName, reason: expect.stringMatching(/^the container was killed by signal 15 \(exit code 143\)/) });
    // What the first attempt's container wrote before it was stopped is kept.
    const logs = await (await fetch(`${stack.url}/api/containers/${job.containerName}/logs`)).text();
    expect(logs).toContain('InProgress');
  });

  it('refuses bad settings with a message naming them', async () => {
    await expect(startStackProcess({ DATA_DIR: dataDir(), MAX_CONCURRENT: 'many' })).rejects.toThrow(
      /exited with 2:\s+invalid settings: MAX_CONCURRENT must be a whole number at least 1 and at most 256 \(got "many"\)/,
    );
  });
});
