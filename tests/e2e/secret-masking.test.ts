import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { eventually, tempDir } from '../helpers.js';
import { getJob, startStackProcess, type RunningStack } from '../local-stack-process.js';

const SECRET = 'sk-live-5f3a9c1e7b2d4068';
// Printed three ways: on stdout, on stderr, and as the output line; then a pause, so a live look
// sees it, and the end the kind asks for.
const PROGRAM = 'echo "stdout says $API_KEY"; echo "stderr says $API_KEY" >&2; echo "{\\"output\\": \\"the key is $API_KEY\\"}"; sleep 1.5; exit "$END"';

describe('secrets stay secret: a secretEnv value a program prints is stored and served only as ***', () => {
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

  it('is found by grep -r nowhere under DATA_DIR once the container is settled, nor in any API answer or page', async () => {
    const kinds = join(dir.path, 'kinds.json');
    const kind = (end: string) => ({ command: ['/bin/sh', '-c', PROGRAM], env: { END: end }, secretEnv: { API_KEY: SECRET }, maxAttempts: 1, timeoutSeconds: 30 });
    writeFileSync(kinds, JSON.stringify({ leaky: kind('0'), 'leaky-fails': kind('3'), tiny: { command: ['/bin/true'], secretEnv: { PIN: '123' } } }));
    const dataDir = join(dir.path, 'data');
    stack = await startStackProcess({ DATA_DIR: dataDir, KINDS_FILE: kinds, REAP_INTERVAL_SECONDS: '0.5' });
    // A secret too short to mask is named at start, never shown.
    expect(stack.output()).toContain('warning: kind "tiny" secretEnv PIN is shorter than 4 characters, so it cannot be masked in logs and outputs: use a longer value');
    expect(stack.output()).not.toContain('123');

    const submit = async (kindName: string) => {
      const response = await fetch(`${stack!.url}/api/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ message: 'go', kind: kindName }) });
      return (await response.json()) as { id: string; containerName: string };
    };
    const done = await submit('leaky');
    const failed = await submit('leaky-fails');
    const served: string[] = [];
    const read = async (path: string, headers: Record<string, string> = {}) => {
      const text = await (await fetch(`${stack!.url}${path}`, { headers })).text();
      served.push(`${path}: ${text}`);
      return text;
    };
    // Live, while the containers run: the logs are served masked.
    const live = await eventually(async () => {
      const text = await read(`/api/containers/${done.containerName}/logs`);
      return text.includes('stderr says') ? text : undefined;
    }, 15_000, 'live logs');
    expect(live).toContain('stdout says ***');

    const settled = await eventually(async () => {
      const jobs = await Promise.all([getJob(stack!.url, done.id), getJob(stack!.url, failed.id)]);
      return jobs.every((j) => j.state === 'Done' || j.state === 'Failed') ? jobs : undefined;
    }, 30_000, 'both settled');
    expect(settled[0]!.state).toBe('Done');
    expect(settled[0]!.output).toBe('the key is ***');
    expect(settled[1]!.state).toBe('Failed');
    expect(String(settled[1]!.error)).toContain('stderr says ***');
    // Settled means the containers are gone too (their raw output files with them).
    await eventually(async () => (!existsSync(join(dataDir, 'containers')) || readdirSync(join(dataDir, 'containers')).length === 0 ? true : undefined), 15_000, 'containers removed');

    for (const job of [done, failed]) {
      expect(await read(`/api/containers/${job.containerName}/logs`)).toContain('stderr says ***');
      expect(await read(`/ui/containers/${job.containerName}/details`, { 'hx-request': 'true' })).toContain('***');
      await read(`/api/jobs/${job.id}`);
    }
    await read('/api/jobs');
    await read('/', { accept: 'text/html' });
    await read('/ui/updates?since=0', { 'hx-request': 'true' });
    for (const answer of served) expect(answer).not.toContain(SECRET);

    await stack.stop();
    // grep exits 1 when it finds nothing: the secret is in no file, the WAL and free pages included.
    let found = '';
    try {
      found = execFileSync('grep', ['-r', '-l', '-a', SECRET, dataDir], { encoding: 'utf8' });
    } catch (error) {
      expect((error as { status: number }).status).toBe(1);
    }
    expect(found).toBe('');
    // The masked text is there: the store did keep the logs.
    expect(execFileSync('grep', ['-r', '-l', '-a', 'stderr says \\*\\*\\*', dataDir], { encoding: 'utf8' })).not.toBe('');
  });
});
