import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MongoJobStore } from '../../apps/core/adapters/mongo/job-store.js';
import { SqliteJobStore } from '../../apps/core/adapters/sqlite/job-store.js';
import { containerNameFor } from '../../apps/core/domain/container-name.js';
import { newPendingJob } from '../../apps/core/domain/job.js';
import { newJobId } from '../../apps/core/domain/job-id.js';
import { runWorker } from '../../apps/worker/run-worker.js';
import { COSMOS_SERVER_VERSION } from '../../components/database.js';
import { WireStandIn } from '../fakes/mongo-wire/stand-in.js';
import { BUILT_WORKER, tempDir } from '../helpers.js';

/** Runs the built worker with exactly `env` (nothing inherited), as every runtime does. */
function runBuiltWorker(env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BUILT_WORKER], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('exit', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

describe('worker', () => {
  let dir: ReturnType<typeof tempDir>;
  let store: SqliteJobStore;
  let uri: string;
  beforeEach(() => {
    dir = tempDir();
    const path = join(dir.path, 'jobs.db');
    store = new SqliteJobStore(path);
    uri = `sqlite:${path}`;
  });
  afterEach(async () => {
    await store.close();
    dir.remove();
  });

  async function pendingJob(message = 'hello') {
    const id = newJobId();
    return store.insert(newPendingJob(id, containerNameFor(id), message, new Date()));
  }

  it('writes InProgress, reports progress, then Done with its output, and exits 0', async () => {
    const job = await pendingJob('hello');
    const result = await runBuiltWorker({ MESSAGE: 'hello', CONTAINER_NAME: job.containerName, DATABASE_URI: uri, WORK_SECONDS: '0.6' });
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(result.stdout).toMatch(/InProgress[\s\S]*progress \d+%[\s\S]*Done/);
    const done = (await store.get(job.id))!;
    expect(done).toMatchObject({ state: 'Done', progress: 1, error: null });
    expect(done.output).toMatch(/^processed "hello" \(5 bytes\) in 0\.\d s$/);
    expect(Date.parse(done.finishedAt!) - Date.parse(done.startedAt!)).toBeGreaterThanOrEqual(550);
  });

  it('exits 2 naming every missing or empty variable, touching nothing', async () => {
    const result = await runBuiltWorker({ MESSAGE: '', DATABASE_URI: uri });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('MESSAGE is empty; CONTAINER_NAME is not set');
  });

  it('exits 2 with a clear message for a DATABASE_URI it cannot use (a bad environment)', async () => {
    const result = await runBuiltWorker({ MESSAGE: 'm', CONTAINER_NAME: 'task-x', DATABASE_URI: 'postgres://db/jobs' });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('DATABASE_URI must start with sqlite:, mongodb:// or mongodb+srv:// (got "postgres:")');
  });

  it('runs its task against MongoDB too: the driver the bundle leaves in node_modules loads (the wire stand-in)', async () => {
    const standIn = await new WireStandIn({ serverVersion: COSMOS_SERVER_VERSION }).start();
    const mongoUri = `mongodb://127.0.0.1:${standIn.port}/worker-test`;
    const mongo = await MongoJobStore.connect(mongoUri);
    try {
      const id = newJobId();
      const job = await mongo.insert(newPendingJob(id, containerNameFor(id), 'hello', new Date()));
      const result = await runBuiltWorker({ MESSAGE: 'hello', CONTAINER_NAME: job.containerName, DATABASE_URI: mongoUri, WORK_SECONDS: '0' });
      expect(result).toMatchObject({ code: 0, stderr: '' });
      expect(await mongo.get(id)).toMatchObject({ state: 'Done', progress: 1 });
    } finally {
      await mongo.close();
      await standIn.close();
    }
  });

  it('says when its task started, and when its store was open, in ms after its process started', async () => {
    const job = await pendingJob();
    const result = await runBuiltWorker({ MESSAGE: 'm', CONTAINER_NAME: job.containerName, DATABASE_URI: uri, WORK_SECONDS: '0' });
    const [, up, open] = /InProgress \(([\d.]+) ms after the process started; store open at ([\d.]+) ms\)/.exec(result.stdout) ?? [];
    expect(Number(open)).toBeGreaterThan(0);
    expect(Number(up)).toBeGreaterThanOrEqual(Number(open));
  });

  it('exits 1 when no job has its container name', async () => {
    const result = await runBuiltWorker({ MESSAGE: 'm', CONTAINER_NAME: 'task-nobody', DATABASE_URI: uri, WORK_SECONDS: '0' });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('no job has the container name task-nobody');
  });

  it('does nothing for a job that already finished (a duplicate container)', async () => {
    const job = await pendingJob();
    await store.markDone(job.containerName, new Date(), 'first');
    const result = await runBuiltWorker({ MESSAGE: 'm', CONTAINER_NAME: job.containerName, DATABASE_URI: uri, WORK_SECONDS: '0' });
    expect(result.code).toBe(0);
    expect((await store.get(job.id))!.output).toBe('first');
  });

  it('writes Failed with the error when the work throws', async () => {
    const job = await pendingJob();
    const lines: string[] = [];
    const outcome = await runWorker({
      containerName: job.containerName,
      message: job.message,
      store,
      task: async () => {
        throw new Error('the work broke');
      },
      log: (line) => lines.push(line),
    });
    expect(outcome).toBe('Failed');
    expect(await store.get(job.id)).toMatchObject({ state: 'Failed', error: 'the work broke' });
  });
});
