import { lstatSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { eventually, tempDir } from '../helpers.js';
import { getJob, postJob, startStackProcess, type RunningStack } from '../local-stack-process.js';

/** Every path under `root` (itself included) whose mode is not 0700 (folders) or 0600 (files). */
function notPrivate(root: string): string[] {
  const wrong: string[] = [];
  const walk = (path: string) => {
    let stat;
    try {
      stat = lstatSync(path);
    } catch {
      return; // removed while we looked (a settled container's files)
    }
    const mode = stat.mode & 0o777;
    if (stat.isDirectory()) {
      if (mode !== 0o700) wrong.push(`${path} ${mode.toString(8)}`);
      let entries: string[] = [];
      try {
        entries = readdirSync(path);
      } catch {
        return;
      }
      for (const entry of entries) walk(join(path, entry));
    } else if (mode !== 0o600) {
      wrong.push(`${path} ${mode.toString(8)}`);
    }
  };
  walk(root);
  return wrong;
}

describe('a private store: DATA_DIR 0700, everything in it 0600 or 0700, whatever the umask', () => {
  let dir: ReturnType<typeof tempDir>;
  let stack: RunningStack | null = null;
  let umask: number;
  beforeEach(() => {
    dir = tempDir();
    // The loosest umask there is: npm start inherits it.
    umask = process.umask(0);
  });
  afterEach(async () => {
    process.umask(umask);
    if (stack && stack.child.exitCode === null) await stack.stop(2);
    stack = null;
    dir.remove();
  });

  it('makes DATA_DIR (and a missing parent) 0700 and every file in it 0600, while a task runs and after', async () => {
    const dataDir = join(dir.path, 'parent', 'data');
    stack = await startStackProcess({ DATA_DIR: dataDir, WORK_SECONDS: '1.5' });
    const { id } = await postJob(stack.url, 'a private message');
    await eventually(async () => ((await getJob(stack!.url, id)).state === 'InProgress' ? true : undefined), 10_000, 'InProgress');
    expect(readdirSync(join(dataDir, 'containers')).length).toBeGreaterThan(0);
    expect(notPrivate(dataDir)).toEqual([]);
    await eventually(async () => ((await getJob(stack!.url, id)).state === 'Done' ? true : undefined), 15_000, 'Done');
    await stack.stop();
    expect(notPrivate(join(dir.path, 'parent'))).toEqual([]);
    expect(stack.output()).not.toMatch(/warning/);
  });

  it('warns once, saying how to fix it, when an existing DATA_DIR may be read by others', async () => {
    const dataDir = join(dir.path, 'data');
    mkdirSync(dataDir, { mode: 0o755 });
    stack = await startStackProcess({ DATA_DIR: dataDir });
    const warnings = stack.output().split('\n').filter((line) => line.includes('warning'));
    expect(warnings).toEqual([
      `warning: DATA_DIR ${dataDir} may be read by other users of this machine (mode 0755), and it holds every task's message, output and logs: run chmod 700 ${dataDir}`,
    ]);
    // Its files are private all the same.
    expect(notPrivate(dataDir).filter((entry) => !entry.startsWith(`${dataDir} `))).toEqual([]);
  });
});
