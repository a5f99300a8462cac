import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ProcessRuntime } from '../../apps/core/adapters/process/runtime.js';
import type { SqliteJobStore } from '../../apps/core/adapters/sqlite/job-store.js';
import type { SqliteWorkQueue } from '../../apps/core/adapters/sqlite/work-queue.js';
import { DEFAULT_RETRY_POLICY } from '../../apps/core/domain/retry-policy.js';
import type { Job } from '../../apps/core/domain/job.js';
import type { TaskKind } from '../../apps/core/domain/task-kind.js';
import { DEFAULT_PRICES } from '../../apps/core/domain/pricing.js';
import { toApiJob } from '../../apps/dashboard/job-view.js';
import { submitWork } from '../../apps/dashboard/submit-work.js';
import type { WorkerLaunch } from '../../apps/spawner/dispatch.js';
import { LocalConsumer } from '../../apps/spawner/local-consumer.js';
import { reap } from '../../apps/spawner/reaper.js';
import { BUILT_WORKER, compiledSupervisor, ECHO_WORKER, eventually, openEmbedded, ROOT, tempDir, testKinds } from '../helpers.js';

// Kinds whose programs know nothing of the database, run through the local stack's parts:
// their state is read from the container itself (running, exit code, output, log).

function kind(name: string, command: string[], overrides: Partial<TaskKind> = {}): TaskKind {
  return { name, command, image: null, registry: null, cpu: 0.5, memoryGb: 0.5, timeoutSeconds: 60, retry: DEFAULT_RETRY_POLICY, env: {}, secretEnv: {}, store: false, ...overrides };
}

const WORDCOUNT = kind('wordcount', ['sh', 'examples/wordcount/wordcount.sh'], { env: { STEP_SECONDS: '0.3' } });
const EXITS_WITH = (name: string, exitCode: number, overrides: Partial<TaskKind> = {}) =>
  kind(name, ['sh', 'tests/fixtures/kinds/exits-with.sh'], { env: { EXIT_CODE: String(exitCode) }, ...overrides });

describe('task kinds that know nothing of the store', () => {
  let dir: ReturnType<typeof tempDir>;
  let store: SqliteJobStore;
  let queue: SqliteWorkQueue;
  let runtime: ProcessRuntime;
  let launch: WorkerLaunch;
  let consumer: LocalConsumer;
  let reaping = true;
  let reaper: Promise<void>;

  beforeEach(async () => {
    dir = tempDir();
    ({ store, queue } = await openEmbedded(dir.path, { maxDeliveryCount: 3 }));
    runtime = new ProcessRuntime({ workerEntry: BUILT_WORKER, dir: join(dir.path, 'containers'), metricsIntervalMs: 100, cwd: ROOT, supervisor: compiledSupervisor() });
    launch = {
      databaseUri: `sqlite:${join(dir.path, 'jobs.db')}`,
      kinds: await testKinds({}, [
        WORDCOUNT,
        EXITS_WITH('fails', 3),
        kind('traceback', ['sh', 'tests/fixtures/kinds/traceback.sh']),
        EXITS_WITH('flaky', 75, { retry: { maxAttempts: 2, retryOnExitCodes: ['75'] } }),
        EXITS_WITH('slow', 0, { timeoutSeconds: 1, env: { SLEEP_SECONDS: '30' } }),
        EXITS_WITH('exits-1', 1),
        EXITS_WITH('exits-137', 137),
        EXITS_WITH('exits-255', 255),
        EXITS_WITH('sleeps', 0, { env: { SLEEP_SECONDS: '20' } }),
        kind('echo', ['node', ECHO_WORKER], { env: { GREETING: 'hello' }, secretEnv: { API_TOKEN: 's3cret' } }),
        kind('json-out', ['sh', '-c', 'echo "progress 1"; echo \'{"output": {"length": 5, "words": ["a", "b"]}}\'']),
      ]),
    };
    consumer = new LocalConsumer({ queue, store, runtime, launch, maxConcurrent: 4, running: () => runtime.runningCount(), waitForExit: (ms) => runtime.waitForExit(ms), pollMs: 100, log: () => {} });
    consumer.start();
    reaping = true;
    reaper = (async () => {
      while (reaping) {
        await reap({ store, runtime, metrics: runtime, queue, kinds: launch.kinds, metricsWaitSeconds: 0, watchSeconds: 0.2, log: () => {} });
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    })();
  });
  /** The job once it is in `state` (waiting up to `timeoutMs`). */
  const reaches = (id: string, state: Job['state'], timeoutMs: number) =>
    eventually(async () => {
      const current = (await store.get(id))!;
      return current.state === state ? current : undefined;
    }, timeoutMs, `${id} ${state}`);

  afterEach(async () => {
    reaping = false;
    await reaper;
    await consumer.stop();
    await runtime.close();
    await Promise.all([store.close(), queue.close()]);
    dir.remove();
  });

  it('runs the example word count: InProgress while it runs, its progress, then Done with its output', async () => {
    const job = await submitWork({ message: 'the quick brown fox\njumps', kind: 'wordcount' }, { store, queue });
    const running = await eventually(async () => {
      const current = (await store.get(job.id))!;
      return current.state === 'InProgress' && current.progress !== null && current.progress > 0 ? current : undefined;
    }, 10_000, 'InProgress with progress');
    expect(running.startedAt).not.toBeNull();
    const done = await reaches(job.id, 'Done', 10_000);
    expect(done).toMatchObject({ output: '5 words on 2 lines', progress: 1, kind: 'wordcount', cpu: 0.5, memoryGb: 0.5, attempts: 1 });
    expect((await store.getArtifacts(job.containerName))!.logs).toContain('progress 0.5');
  });

  it('keeps a JSON result as JSON, which the API returns as a value, not a string to parse again', async () => {
    const job = await submitWork({ message: 'hi', kind: 'json-out' }, { store, queue });
    const done = await reaches(job.id, 'Done', 10_000);
    expect(done).toMatchObject({ output: '{"length":5,"words":["a","b"]}', outputJson: '{"length":5,"words":["a","b"]}' });
    expect(toApiJob(done, DEFAULT_PRICES).output).toEqual({ length: 5, words: ['a', 'b'] });
  });

  it('gives a kind without store access MESSAGE, CONTAINER_NAME and its own env alone: never DATABASE_URI', async () => {
    const job = await submitWork({ message: 'hi', kind: 'echo' }, { store, queue });
    await eventually(async () => (await store.get(job.id))!.state === 'Done', 10_000);
    const logs = (await store.getArtifacts(job.containerName))!.logs;
    const env = JSON.parse(/^env (.*)$/m.exec(logs)![1]!) as Record<string, string>;
    // SECRET_VARIABLES names its secrets (never their values), so that what it stores can be masked.
    expect(env).toEqual({ MESSAGE: 'hi', CONTAINER_NAME: job.containerName, GREETING: 'hello', API_TOKEN: 's3cret', SECRET_VARIABLES: 'API_TOKEN' });
  });

  it('fails a kind that exits non-zero with the end of its log as the reason', async () => {
    const job = await submitWork({ message: 'bad input', kind: 'fails' }, { store, queue });
    const failed = await reaches(job.id, 'Failed', 10_000);
    // At most three lines of its story, the protocol's progress line left out.
    expect(failed.error).toBe('exited with code 3: starting on: bad input ⏎ something went wrong with bad input ⏎ giving up');
    // Its progress is the last it reported, not whatever a look while it ran saw.
    expect(failed.progress).toBe(0.3);
    expect(failed.attempts).toBe(1);
  });

  it('fails a program that reported its progress and exited 1 with at most three lines of its own, and its last progress', async () => {
    const job = await submitWork({ message: 'nothing', kind: 'traceback' }, { store, queue });
    const failed = await reaches(job.id, 'Failed', 10_000);
    expect(failed.error).toBe('exited with code 1: main() ⏎ File "task.py", line 2, in main ⏎ ValueError: no words in nothing');
    expect(failed.progress).toBe(1);
  });

  it('runs again an exit code its kind retries, as a new attempt, until its attempts run out', async () => {
    const job = await submitWork({ message: 'try me', kind: 'flaky' }, { store, queue });
    const failed = await reaches(job.id, 'Failed', 15_000);
    expect(failed.attempts).toBe(2);
    expect(failed.priorAttempts).toHaveLength(1);
    expect(failed.priorAttempts[0]!.reason).toMatch(/^exited with code 75: /);
    expect(failed.error).toMatch(/exited with code 75: .*; gave up after 2 attempts \(the kind's maxAttempts\)$/);
  });

  it('fails a program that exits 1, 137 or 255 by itself once: an exit code it chose is never read as a kill', async () => {
    const jobs = await Promise.all(['exits-1', 'exits-137', 'exits-255'].map((kind) => submitWork({ message: 'm', kind }, { store, queue })));
    for (const [i, code] of [1, 137, 255].entries()) {
      const failed = await reaches(jobs[i]!.id, 'Failed', 15_000);
      expect(failed.error).toMatch(new RegExp(`^exited with code ${code}: `));
      expect(failed.attempts).toBe(1);
      expect(failed.priorAttempts).toEqual([]);
    }
  });

  it('runs again, as a new attempt, a program SIGKILLed from outside (as an OOM killer would)', async () => {
    const job = await submitWork({ message: 'm', kind: 'sleeps' }, { store, queue });
    await reaches(job.id, 'InProgress', 10_000);
    const { pid } = JSON.parse(readFileSync(join(dir.path, 'containers', `${job.containerName}.json`), 'utf8')) as { pid: number };
    // The supervisor's child is the program; the supervisor lives on to write how it ended.
    const program = await eventually(() => readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(' ')[0] || undefined);
    process.kill(Number(program), 'SIGKILL');
    const again = await eventually(async () => {
      const current = (await store.get(job.id))!;
      return current.attempts === 2 ? current : undefined;
    }, 10_000, 'a second attempt');
    expect(again.state).not.toBe('Failed');
    expect(again.priorAttempts).toHaveLength(1);
    expect(again.priorAttempts[0]!.reason).toMatch(/^the container was killed by signal 9 \(exit code 137\)/);
  });

  it('stops a kind that runs past its own timeout and fails the task', async () => {
    const job = await submitWork({ message: 'forever', kind: 'slow' }, { store, queue });
    const failed = await reaches(job.id, 'Failed', 15_000);
    expect(failed.error).toBe("timed out: still running after 1 s (the kind's timeoutSeconds)");
    await eventually(async () => runtime.runningCount() === 0);
  });
});
