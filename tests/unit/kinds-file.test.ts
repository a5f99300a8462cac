import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readLocalSettings } from '../../stacks/local/settings.js';
import { tempDir } from '../helpers.js';

describe('the local kinds file: a command for processes, an image or a build folder for containers', () => {
  let dir: ReturnType<typeof tempDir>;
  beforeEach(() => {
    dir = tempDir();
  });
  afterEach(() => dir.remove());

  const settingsWith = (kinds: unknown, env: Record<string, string> = {}) => {
    const file = join(dir.path, 'kinds.json');
    writeFileSync(file, JSON.stringify(kinds));
    return () => readLocalSettings({ DATA_DIR: join(dir.path, 'data'), KINDS_FILE: file, ...env });
  };

  it('reads a kind with both, its build folder resolved from where npm start runs', () => {
    const settings = settingsWith({ wordcount: { command: ['sh', 'examples/wordcount/wordcount.sh'], build: 'examples/wordcount' } })();
    expect(settings.kinds.get('wordcount')).toMatchObject({ command: ['sh', 'examples/wordcount/wordcount.sh'], image: null });
    expect(settings.kindBuilds.get('wordcount')).toEqual({ context: resolve('examples/wordcount'), dockerfile: null });
    expect(settings.containers).toBe('process');
  });

  it('reads an image-only kind, and the build object form', () => {
    const settings = settingsWith({
      packaged: { image: 'busybox:1.36' },
      built: { build: { context: 'examples', dockerfile: 'examples/wordcount/Dockerfile' } },
    }, { CONTAINERS: 'docker' })();
    expect(settings.kinds.get('packaged')).toMatchObject({ command: null, image: 'busybox:1.36' });
    expect(settings.kindBuilds.get('built')).toEqual({ context: resolve('examples'), dockerfile: resolve('examples/wordcount/Dockerfile') });
    expect(settings.containers).toBe('docker');
  });

  it('refuses a kind with no program, or with both an image and a build, naming the kind and the key', () => {
    expect(settingsWith({ empty: { cpu: 1 } })).toThrow(/kind "empty": command is required, or an image: a command runs as a process \(npm start\), an image or a folder to build one from runs in a container \(CONTAINERS=docker\)/);
    expect(settingsWith({ both: { image: 'busybox:1.36', build: 'examples/wordcount' } })).toThrow(/kind "both": image and build are two ways to give the image: keep one/);
    expect(settingsWith({ creds: { image: 'busybox:1.36', registry: { server: 'x', username: 'u', password: 'p' } } })).toThrow(/kind "creds": unknown key "registry"/);
  });

  it('takes retryExitCodes as numbers or strings, and refuses what is neither an exit code nor a pattern', () => {
    const settings = settingsWith({ flaky: { command: ['sh', '-c', 'exit 75'], retryExitCodes: [75, '10*', 0] } })();
    expect(settings.kinds.get('flaky')!.retry.retryOnExitCodes).toEqual(['75', '10*', '0']);
    for (const bad of [[-1], [256], [7.5], ['x'], [true], 75]) {
      expect(settingsWith({ flaky: { command: ['sh'], retryExitCodes: bad } }), JSON.stringify(bad)).toThrow(/kind "flaky": retryExitCodes must be an array of exit codes, numbers or strings/);
    }
  });
});
