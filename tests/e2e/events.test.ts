// The local stack moves a task when its container does (issue 25): each test runs the built
// stack with the sweep set to an hour, so whatever moves a task here is an event, never a look.
// Timing itself is measured by `npm run bench` ("events" row), not here.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sleep, tempDir } from '../helpers.js';
import { getJob, startStackProcess, type RunningStack } from '../local-stack-process.js';

const KINDS = {
  // The issue's own kind: a program that knows nothing of the store.
  echo: { command: ['sh', '-c', 'echo \'{"output": "ok"}\''], timeoutSeconds: 60 },
  slow: { command: ['sh', '-c', 'sleep 1.5; echo finished'], timeoutSeconds: 60 },
  stuck: { command: ['sh', '-c', 'sleep 10'], timeoutSeconds: 2, maxAttempts: 1 },
  halfway: { command: ['sh', '-c', 'echo progress 0.5; sleep 3; echo progress 1'], timeoutSeconds: 60 },
};

async function post(url: string, kind: string): Promise<{ id: string; containerName: string }> {
  const response = await fetch(`${url}/api/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ message: 'x', kind }) });
  expect(response.status).toBe(202);
  return (await response.json()) as { id: string; containerName: string };
}

/** Every distinct state the client sees, polling every 10 ms, until a terminal one (or `limitMs`). */
async function follow(url: string, id: string, limitMs = 20_000): Promise<Record<string, unknown>[]> {
  const seen: Record<string, unknown>[] = [];
  const until = Date.now() + limitMs;
  while (Date.now() < until) {
    const job = await getJob(url, id);
    const last = seen[seen.length - 1];
    if (!last || last.state !== job.state || last.progress !== job.progress) seen.push(job);
    if (job.state === 'Done' || job.state === 'Failed') return seen;
    await sleep(10);
  }
  throw new Error(`not finished within ${limitMs} ms: ${JSON.stringify(seen.map((j) => j.state))}`);
}

describe('the local stack, event-driven (the sweep set to an hour)', () => {
  let dir: ReturnType<typeof tempDir>;
  let stack: RunningStack | null = null;
  beforeEach(async () => {
    dir = tempDir();
    writeFileSync(join(dir.path, 'kinds.json'), JSON.stringify(KINDS));
    stack = await startStackProcess({ DATA_DIR: join(dir.path, 'data'), KINDS_FILE: join(dir.path, 'kinds.json'), REAP_INTERVAL_SECONDS: '3600' });
  });
  afterEach(async () => {
    if (stack && stack.child.exitCode === null) await stack.stop(2);
    stack = null;
    dir.remove();
  });

  it('runs 12 sequential tasks of an own kind to Done, each on its container exit', async () => {
    for (let i = 0; i < 12; i++) {
      const { id } = await post(stack!.url, 'echo');
      const seen = await follow(stack!.url, id);
      const done = seen[seen.length - 1]!;
      expect(done).toMatchObject({ state: 'Done', output: 'ok', attempts: 1 });
      expect(done.startedAt).toEqual(expect.any(String));
    }
  });

  it('shows a 1.5 s own-kind task InProgress, with its container name, before Done, every time', async () => {
    for (let i = 0; i < 3; i++) {
      const { id, containerName } = await post(stack!.url, 'slow');
      const seen = await follow(stack!.url, id);
      expect(seen.map((job) => job.state)).toEqual(['Pending', 'InProgress', 'Done'].slice(seen[0]!.state === 'Pending' ? 0 : 1));
      expect(seen.find((job) => job.state === 'InProgress')).toMatchObject({ containerName });
      const done = seen[seen.length - 1]!;
      // Its start is its container's own (its process exists once spawned), after its dispatch
      // began: the timeline's "container start" is not the dispatch time again.
      expect(Date.parse(done.startedAt as string)).toBeGreaterThan(Date.parse(done.dispatchedAt as string));
    }
  });

  it('fails a task that runs past its kind’s 2 s timeout, by its own timer', async () => {
    const { id } = await post(stack!.url, 'stuck');
    const seen = await follow(stack!.url, id);
    const failed = seen[seen.length - 1]!;
    expect(failed).toMatchObject({ state: 'Failed', error: expect.stringMatching(/^timed out: still running after 2 s/) });
    // What the store recorded: ended within 3 s of its start (the program would have run 10 s).
    expect(Date.parse(failed.finishedAt as string) - Date.parse(failed.startedAt as string)).toBeLessThan(3_000);
  });

  it('moves the progress bar from a `progress 0.5` line while the task runs', async () => {
    const { id } = await post(stack!.url, 'halfway');
    const seen = await follow(stack!.url, id);
    expect(seen.some((job) => job.state === 'InProgress' && job.progress === 0.5)).toBe(true);
    expect(seen[seen.length - 1]).toMatchObject({ state: 'Done' });
  });
});
