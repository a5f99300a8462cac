import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureWorkerImage } from '../../apps/core/adapters/docker/local-images.js';
import { LABELS } from '../../apps/core/adapters/docker/docker-runtime.js';
import { stackIdOf } from '../../stacks/local/local-runtime.js';
import { dockerEngineOrSkip } from '../docker-engine.js';
import { eventually, ROOT, tempDir } from '../helpers.js';
import { getJob, postJob, runStackUntilExit, startStackProcess, type RunningStack } from '../local-stack-process.js';

const engine = await dockerEngineOrSkip('the CONTAINERS=docker end-to-end test');

describe.runIf(engine)('the local stack with CONTAINERS=docker, as `npm start` runs it', () => {
  const dir = tempDir();
  const dataDir = join(dir.path, 'data');
  let stack: RunningStack | null = null;

  beforeAll(async () => {
    // Built (or found) here, so the stack's own check at start finds it and the start is quick.
    await ensureWorkerImage(engine!, ROOT, () => {});
  }, 900_000);
  afterAll(async () => {
    if (stack && stack.child.exitCode === null) await stack.stop(2);
    dir.remove();
  });

  /** This stack's containers on the engine, from its labels: what the engine holds, not what the stack says. */
  const containersOfStack = async () => {
    const filters = JSON.stringify({ label: [`${LABELS.stack}=${stackIdOf(dataDir)}`] });
    return (await engine!.json<{ Names: string[] }[]>('GET', '/containers/json', { query: { all: true, filters } })).body;
  };

  it('runs 20 tasks in containers to Done, never more than 3 running, removes each once saved, and shows its metrics', async () => {
    const maxConcurrent = 3;
    // The engine's own events: every start and every end of this stack's containers.
    const events = new AbortController();
    const response = await engine!.stream('GET', '/events', {
      query: { filters: JSON.stringify({ type: ['container'], event: ['start', 'die'], label: [`${LABELS.stack}=${stackIdOf(dataDir)}`] }) },
      signal: events.signal,
    });
    let running = 0;
    let peak = 0;
    let started = 0;
    const counting = (async () => {
      try {
        for await (const line of createInterface({ input: response })) {
          const event = JSON.parse(line) as { status: string };
          if (event.status === 'start') {
            started++;
            peak = Math.max(peak, ++running);
          } else if (event.status === 'die') running--;
        }
      } catch {
        // aborted at the end
      }
    })();

    stack = await startStackProcess(
      { DATA_DIR: dataDir, CONTAINERS: 'docker', MAX_CONCURRENT: String(maxConcurrent), WORK_SECONDS: '1' },
      { startTimeoutMs: 300_000 },
    );
    const posted = await Promise.all(Array.from({ length: 20 }, (_, i) => postJob(stack!.url, `task ${i}`)));
    const jobs = await eventually(async () => {
      const all = await Promise.all(posted.map((p) => getJob(stack!.url, p.id)));
      return all.every((j) => j.state === 'Done') ? all : undefined;
    }, 240_000, 'all 20 Done');
    for (const job of jobs) {
      expect(job.attempts).toBe(1);
      expect(job.output).toMatch(/^processed "task \d+"/);
    }

    // Every finished container is removed once its logs and metrics are in the store.
    await eventually(async () => ((await containersOfStack()).length === 0 ? true : undefined), 30_000, 'every container removed');
    events.abort();
    await counting;
    expect(started).toBe(20);
    expect(peak).toBeLessThanOrEqual(maxConcurrent);
    expect(peak).toBeGreaterThanOrEqual(2); // it does run work side by side

    // What the details modal draws, from the store now that the container is gone.
    for (const { containerName } of posted.slice(0, 3)) {
      const metrics = (await (await fetch(`${stack.url}/api/containers/${containerName}/metrics`)).json()) as { cpu: { v: number }[]; memory: { v: number }[] };
      expect(metrics.memory.length).toBeGreaterThan(0);
      expect(Math.max(...metrics.memory.map((p) => p.v))).toBeGreaterThan(1024 * 1024);
      const logs = await (await fetch(`${stack.url}/api/containers/${containerName}/logs`)).text();
      expect(logs.length).toBeGreaterThan(0);
    }
    expect(await stack.stop(1)).toBe(0);
  }, 600_000);

  it('a stack killed while its containers run is started again and adopts them: each task Done once, on its first attempt', async () => {
    const restartDir = join(dir.path, 'restarted');
    const env = { DATA_DIR: restartDir, CONTAINERS: 'docker', MAX_CONCURRENT: '2', WORK_SECONDS: '4', LOCK_DURATION_SECONDS: '5' };
    const first = await startStackProcess(env, { startTimeoutMs: 300_000 });
    const posted = await Promise.all(['one', 'two', 'three'].map((m) => postJob(first.url, m)));
    await eventually(async () => {
      const states = await Promise.all(posted.map(async (p) => (await getJob(first.url, p.id)).state));
      return states.filter((state) => state === 'InProgress').length === 2 ? true : undefined;
    }, 60_000, 'two tasks running');
    // As the spawner's machine failing: no Ctrl-C, no stop of anything. The containers run on.
    first.child.kill('SIGKILL');
    await new Promise((resolve) => first.child.once('exit', resolve));
    const filters = JSON.stringify({ status: ['running'], label: [`${LABELS.stack}=${stackIdOf(restartDir)}`] });
    expect((await engine!.json<unknown[]>('GET', '/containers/json', { query: { filters } })).body).toHaveLength(2);

    stack = await startStackProcess(env, { startTimeoutMs: 300_000 });
    const jobs = await eventually(async () => {
      const all = await Promise.all(posted.map((p) => getJob(stack!.url, p.id)));
      return all.every((j) => j.state === 'Done') ? all : undefined;
    }, 120_000, 'all three Done after the restart');
    for (const job of jobs) expect(job.attempts).toBe(1);
    expect(await stack.stop(1)).toBe(0);
    stack = null;
  }, 600_000);

  it('stops at start with one line for a kind that has only a command', async () => {
    const kinds = join(dir.path, 'kinds.json');
    writeFileSync(kinds, JSON.stringify({ local: { command: ['sh', '-c', 'echo hi'] } }));
    const result = await runStackUntilExit({ DATA_DIR: join(dir.path, 'other'), CONTAINERS: 'docker', KINDS_FILE: kinds }, { timeoutMs: 120_000 });
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr.trim()).toBe(
      `${kinds}: kind "local" has only a "command": CONTAINERS=docker runs each kind from an image, so give it "image" or "build" in the kinds file`,
    );
  }, 150_000);
});
