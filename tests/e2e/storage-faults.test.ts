import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, closeSync, mkdirSync, openSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { eventually, sleep, tempDir } from '../helpers.js';
import { damagePages, storeWithJobs } from '../damaged-sqlite.js';
import { getJob, postJob, startStackProcess, type RunningStack } from '../local-stack-process.js';
import { deliveryCounts } from '../queue-inspection.js';

// Storage faults are states, not crashes: /healthz 503 naming the cause, submits 503 with it and
// nothing stored, dispatch paused (no delivery spent), and work resumes by itself when it clears.
// The full disk needs a small tmpfs (mount: root), the read-only DATA_DIR an unprivileged user
// (setpriv: root). A machine that can't skips them and says so; on CI (CI=true) that fails.

const asRoot = process.getuid?.() === 0;
const onCi = process.env.CI === 'true';

function canMountTmpfs(at: string): boolean {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m,mode=0755', 'tmpfs', at], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

async function health(url: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${url}/healthz`);
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

async function submit(url: string, message: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${url}/api/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ message }) });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

async function jobCount(url: string): Promise<number> {
  return ((await (await fetch(`${url}/api/jobs?limit=500`)).json()) as { jobs: unknown[] }).jobs.length;
}

/** Fills the file system holding `folder` to the last byte. */
function fill(folder: string): string {
  const path = join(folder, 'filler');
  const fd = openSync(path, 'w');
  const chunk = Buffer.alloc(64 * 1024, 1);
  try {
    for (;;) writeSync(fd, chunk);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
    // The last bytes: a chunk smaller than what is left.
    try {
      for (;;) writeSync(fd, Buffer.alloc(512, 1));
    } catch {
      // full
    }
  } finally {
    closeSync(fd);
  }
  return path;
}

describe('storage faults are states, not crashes', () => {
  let dir: ReturnType<typeof tempDir>;
  beforeEach(() => {
    dir = tempDir();
  });
  let stack: RunningStack | null = null;
  let mounted: string | null = null;
  afterEach(async () => {
    if (stack && stack.child.exitCode === null) await stack.stop(2);
    stack = null;
    if (mounted) execFileSync('umount', ['-l', mounted]);
    mounted = null;
    dir.remove();
  });

  it('a full DATA_DIR: 503 on submits and /healthz, the stack stays up and resumes when space returns', async (context) => {
    const dataDir = join(dir.path, 'small');
    mkdirSync(dataDir);
    if (!asRoot || !canMountTmpfs(dataDir)) {
      if (onCi) throw new Error('CI must be able to mount a tmpfs (root) for the full-disk test');
      console.warn('SKIPPED: a full DATA_DIR needs a tmpfs, and this machine cannot mount one (not root)');
      return context.skip();
    }
    mounted = dataDir;
    stack = await startStackProcess({ DATA_DIR: dataDir, WORK_SECONDS: '0.5' });
    const first = await postJob(stack.url, 'before');
    await eventually(async () => (await getJob(stack!.url, first.id)).state === 'Done', 15_000, 'the first task Done');
    const jobsBefore = await jobCount(stack.url);

    const filler = fill(dataDir);
    await eventually(async () => (await health(stack!.url)).status === 503, 5_000, '/healthz 503');
    const sick = await health(stack.url);
    expect(sick.body.storage).toMatch(new RegExp(`^error: DATA_DIR ${dataDir}.* is full \\(`));
    const refused = await submit(stack.url, 'while full');
    expect(refused.status).toBe(503);
    expect(refused.body.error).toMatch(/is full/);
    expect(await jobCount(stack.url)).toBe(jobsBefore);
    await sleep(1500);
    expect(stack.child.exitCode).toBeNull();

    rmSync(filler);
    await eventually(async () => (await health(stack!.url)).status === 200, 5_000, '/healthz 200 once space returns');
    const after = await postJob(stack.url, 'after');
    await eventually(async () => (await getJob(stack!.url, after.id)).state === 'Done', 15_000, 'the new task Done');
  }, 60_000);

  it('a read-only DATA_DIR: 503 on submits and /healthz, and work resumes when permissions return', async (context) => {
    if (!asRoot) {
      if (onCi) throw new Error('CI must run as root (setpriv) for the read-only DATA_DIR test');
      console.warn('SKIPPED: a read-only DATA_DIR needs the stack as an unprivileged user, which needs root here');
      return context.skip();
    }
    chmodSync(dir.path, 0o755);
    const dataDir = join(dir.path, 'data');
    mkdirSync(join(dataDir, 'containers'), { recursive: true });
    chownSync(dataDir, 65534, 65534);
    chownSync(join(dataDir, 'containers'), 65534, 65534);
    stack = await startStackProcess({ DATA_DIR: dataDir, WORK_SECONDS: '0.5' }, { asNobody: true });
    const first = await postJob(stack.url, 'before');
    await eventually(async () => (await getJob(stack!.url, first.id)).state === 'Done', 15_000, 'the first task Done');
    const jobsBefore = await jobCount(stack.url);

    for (const folder of [dataDir, join(dataDir, 'containers')]) chmodSync(folder, 0o555);
    await eventually(async () => (await health(stack!.url)).status === 503, 5_000, '/healthz 503');
    expect((await health(stack.url)).body.storage).toMatch(/^error: DATA_DIR .* is not writable \(EACCES/);
    const refused = await submit(stack.url, 'while read-only');
    expect(refused.status).toBe(503);
    expect(refused.body.error).toMatch(/is not writable/);
    expect(await jobCount(stack.url)).toBe(jobsBefore);
    expect(stack.child.exitCode).toBeNull();

    for (const folder of [dataDir, join(dataDir, 'containers')]) chmodSync(folder, 0o755);
    await eventually(async () => (await health(stack!.url)).status === 200, 5_000, '/healthz 200 once writable');
    const after = await postJob(stack.url, 'after');
    await eventually(async () => (await getJob(stack!.url, after.id)).state === 'Done', 15_000, 'the new task Done');
  }, 60_000);

  it('a store damaged while running: 503 on submits, and no queued message is delivered', async () => {
    const dataDir = join(dir.path, 'damaged');
    mkdirSync(dataDir);
    await storeWithJobs(join(dataDir, 'jobs.db'), 2000);
    // One slot, taken by the first task: the next two wait in the queue.
    stack = await startStackProcess({ DATA_DIR: dataDir, WORK_SECONDS: '3', MAX_CONCURRENT: '1' });
    const running = await postJob(stack.url, 'running');
    await eventually(async () => (await getJob(stack!.url, running.id)).state === 'InProgress', 10_000, 'the first task running');
    const waiting = [await postJob(stack.url, 'waiting 1'), await postJob(stack.url, 'waiting 2')];
    const queuePath = join(dataDir, 'queue.db');
    const countsBefore = deliveryCounts(queuePath);
    expect(waiting.map((job) => countsBefore[job.id])).toEqual([0, 0]);

    damagePages(join(dataDir, 'jobs.db'));
    // A page that reads every task comes on the damage; from then on the store says so.
    await fetch(`${stack.url}/`);
    const sick = await health(stack.url);
    expect(sick.status).toBe(503);
    expect(String(sick.body.store)).toMatch(/is damaged/);
    const refused = await submit(stack.url, 'while damaged');
    expect(refused.status).toBe(503);
    expect(refused.body.error).toMatch(/the store: .* is damaged/);

    // The first task's slot frees up; dispatch takes nothing while the store is damaged.
    await sleep(5000);
    const countsAfter = deliveryCounts(queuePath);
    expect(waiting.map((job) => countsAfter[job.id])).toEqual([0, 0]);
    expect(stack.child.exitCode).toBeNull();
  }, 60_000);
});
