import { execFile, spawn } from 'node:child_process';
import { chmodSync, createWriteStream, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { buildContextTar, digestBuildContext, readBuildContext } from '../../apps/core/adapters/docker/build-context.js';
import { ROOT, tempDir } from '../helpers.js';

// The context is checked by what the system's tar (GNU tar) reads from it: the archive is
// right when another implementation extracts the same files, contents, modes and links.
const run = promisify(execFile);
const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((cleanup) => cleanup()));

function folder(): string {
  const dir = tempDir('eda-context-');
  cleanups.push(dir.remove);
  return dir.path;
}

function write(root: string, path: string, content: string | Buffer, mode = 0o644): void {
  mkdirSync(join(root, path, '..'), { recursive: true });
  writeFileSync(join(root, path), content);
  chmodSync(join(root, path), mode);
}

/** Extracts the context's tar with the system tar; returns the folder. */
async function extract(source: string, dockerfile = 'Dockerfile'): Promise<string> {
  const into = folder();
  const tar = spawn('tar', ['-x', '--preserve-permissions', '-C', into], { stdio: ['pipe', 'ignore', 'pipe'] });
  let stderr = '';
  tar.stderr.on('data', (chunk) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => tar.on('close', resolve));
  await pipeline(buildContextTar(readBuildContext(source, dockerfile)), tar.stdin);
  expect({ code: await exited, stderr }).toEqual({ code: 0, stderr: '' });
  return into;
}

/** Every path under a folder with what it is: a file's mode and content, a link's target. */
function describeTree(root: string): Record<string, string> {
  const found: Record<string, string> = {};
  const walk = (dir: string, prefix: string) => {
    for (const name of readdirSync(dir).sort()) {
      const path = prefix ? `${prefix}/${name}` : name;
      const stats = lstatSync(join(dir, name));
      const mode = (stats.mode & 0o7777).toString(8);
      if (stats.isSymbolicLink()) found[path] = `link -> ${readlinkSync(join(dir, name))}`;
      else if (stats.isDirectory()) {
        found[path] = `dir ${mode}`;
        walk(join(dir, name), path);
      } else found[path] = `file ${mode} ${readFileSync(join(dir, name)).toString('base64')}`;
    }
  };
  walk(root, '');
  return found;
}

describe('build context', () => {
  it('sends files, directories and symlinks with their modes and contents, long and non-ASCII names included', async () => {
    const source = folder();
    const long = `${'deep-directory-name/'.repeat(6)}${'f'.repeat(90)}.txt`; // > 100 bytes, splits into prefix + name
    const longComponent = `${'n'.repeat(150)}.txt`; // one name over 100 bytes: only pax holds it
    write(source, 'Dockerfile', 'FROM scratch\n');
    write(source, 'run.sh', '#!/bin/sh\necho hi\n', 0o755);
    write(source, 'empty', '');
    write(source, 'binary.bin', Buffer.from([0, 1, 2, 255, 254]));
    write(source, 'exact-block', 'x'.repeat(512));
    write(source, long, 'long path');
    write(source, `dir/${longComponent}`, 'long name');
    write(source, 'dir/naïve café.txt', 'unicode');
    mkdirSync(join(source, 'empty-dir'));
    chmodSync(join(source, 'empty-dir'), 0o750);
    symlinkSync('run.sh', join(source, 'link-to-run'));
    symlinkSync(`../${'t'.repeat(120)}`, join(source, 'dir/long-link'));

    const extracted = await extract(source);
    expect(describeTree(extracted)).toEqual(describeTree(source));
    expect(Object.keys(describeTree(extracted))).toContain(long);
  });

  it('owns every entry by uid and gid 0', async () => {
    const source = folder();
    write(source, 'Dockerfile', 'FROM scratch\n');
    write(source, 'a/b', 'b');
    const archive = join(folder(), 'context.tar');
    await pipeline(buildContextTar(readBuildContext(source, 'Dockerfile')), createWriteStream(archive));
    const { stdout } = await run('tar', ['--numeric-owner', '-tvf', archive]);
    const owners = stdout.trim().split('\n').map((line) => `${line.split(/\s+/)[1]} ${line.split(/\s+/)[5]}`);
    expect(owners).toEqual(['0/0 Dockerfile', '0/0 a/', '0/0 a/b']);
  });

  it('applies the .dockerignore, yet always sends the Dockerfile and the .dockerignore', async () => {
    const source = folder();
    write(source, '.dockerignore', '.dockerignore\n**/*.log\nbuild\n!build/keep.txt\nsub\n');
    write(source, 'sub/Dockerfile', 'FROM scratch\n');
    write(source, 'sub/other.txt', 'left out');
    write(source, 'build/keep.txt', 'kept');
    write(source, 'build/drop.txt', 'left out');
    write(source, 'build/nested/drop.txt', 'left out');
    write(source, 'a.log', 'left out');
    write(source, 'src/b.log', 'left out');
    write(source, 'src/main.ts', 'kept');
    const extracted = await extract(source, 'sub/Dockerfile');
    expect(Object.keys(describeTree(extracted))).toEqual(['.dockerignore', 'build', 'build/keep.txt', 'src', 'src/main.ts', 'sub', 'sub/Dockerfile']);
  });

  it('refuses a Dockerfile outside the context', () => {
    const source = folder();
    expect(() => readBuildContext(source, 'Dockerfile')).toThrow(/not in the build context/);
    expect(() => readBuildContext(join(source, 'x'), '../Dockerfile')).toThrow(/not in the build context/);
  });

  it('digests what is sent: contents, names and modes count, mtimes and ignored files do not', () => {
    const source = folder();
    write(source, '.dockerignore', 'ignored\n');
    write(source, 'Dockerfile', 'FROM scratch\n');
    write(source, 'a.txt', 'one');
    const digest = () => digestBuildContext(readBuildContext(source, 'Dockerfile'));
    const first = digest();
    utimesSync(join(source, 'a.txt'), new Date(2000, 1, 1), new Date(2000, 1, 1));
    write(source, 'ignored', 'anything');
    expect(digest()).toBe(first);
    chmodSync(join(source, 'a.txt'), 0o755);
    const executable = digest();
    expect(executable).not.toBe(first);
    write(source, 'a.txt', 'two', 0o755);
    expect(digest()).not.toBe(executable);
  });

  it("digests this repository's worker context in well under a second", () => {
    const started = performance.now();
    const context = readBuildContext(ROOT, 'apps/worker/Dockerfile');
    digestBuildContext(context);
    const elapsed = performance.now() - started;
    expect(context.entries.some((entry) => entry.path.startsWith('node_modules'))).toBe(false);
    expect(elapsed).toBeLessThan(500);
  });
});
