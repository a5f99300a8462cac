import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { eventually, tempDir } from '../helpers.js';
import { getJob, postJob, startStackProcess, type RunningStack } from '../local-stack-process.js';

// A bug nobody expected, planted in the real stack process (through --import, which runs before
// the stack's own code): a timer throws once the test creates the file `trigger`.
const planted = (trigger: string) =>
  `data:text/javascript,${encodeURIComponent(
    `import { existsSync } from 'node:fs'; const t = setInterval(() => { if (existsSync(${JSON.stringify(trigger)})) { clearInterval(t); throw new Error('planted bug'); } }, 100); t.unref();`,
  )}`;

describe('an unexpected error in the local stack', () => {
  const dir = tempDir();
  let stack: RunningStack | null = null;
  afterEach(async () => {
    if (stack && stack.child.exitCode === null) await stack.stop(2);
    dir.remove();
  });

  it('is logged, /healthz turns 503 and work is refused, running tasks drain, then one line and exit 1', async () => {
    stack = await startStackProcess({ DATA_DIR: join(dir.path, 'data'), WORK_SECONDS: '4', SHUTDOWN_GRACE_SECONDS: '20' }, { nodeOptions: [`--import=${planted(join(dir.path, 'break-now'))}`] });
    const running = await postJob(stack.url, 'running when it breaks');
    await eventually(async () => (await getJob(stack!.url, running.id)).state === 'InProgress', 5_000, 'the task running');
    writeFileSync(join(dir.path, 'break-now'), '');
    await eventually(() => stack!.output().includes('planted bug'), 5_000, 'the error logged');
    const health = await fetch(`${stack.url}/healthz`);
    expect(health.status).toBe(503);
    expect(((await health.json()) as { storage: string }).storage).toMatch(/unexpected error: planted bug/);
    const refused = await fetch(`${stack.url}/api/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"message":"after"}' });
    expect(refused.status).toBe(503);

    const code = await new Promise<number | null>((resolve) => stack!.child.once('exit', resolve));
    expect(code).toBe(1);
    const lines = stack.output().trim().split('\n');
    expect(lines[lines.length - 1]).toBe('stopped after an unexpected error: planted bug');
    // The running task was let finish within the drain period.
    expect(stack.output()).not.toMatch(/stopping 1 running task/);
  }, 40_000);
});
