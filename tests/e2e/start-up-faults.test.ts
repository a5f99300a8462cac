import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { damagePages, storeWithJobs } from '../damaged-sqlite.js';
import { tempDir } from '../helpers.js';
import { runStackUntilExit, type FinishedStack } from '../local-stack-process.js';

/** What `npm start` must do with a fault the user can fix: one line naming it, exit 2, no stack. */
function expectOneLine(result: FinishedStack, line: RegExp): void {
  expect(result.timedOut, 'the start hung').toBe(false);
  expect(result.code, result.stderr).toBe(2);
  const lines = result.stderr.split('\n').filter((l) => l.trim() !== '');
  expect(lines, result.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(line);
  expect(result.stderr).not.toMatch(/^\s+at /m);
  expect(result.stdout).not.toContain('running at');
}

describe('npm start stops with one clear line on a fault it cannot work around', () => {
  let dir: ReturnType<typeof tempDir>;
  let blocker: Server | null = null;
  beforeEach(() => {
    dir = tempDir();
  });
  afterEach(async () => {
    await new Promise((resolve) => (blocker ? blocker.close(resolve) : resolve(undefined)));
    blocker = null;
    dir.remove();
  });

  it('the port is in use', async () => {
    blocker = createServer();
    await new Promise<void>((resolve) => blocker!.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    const result = await runStackUntilExit({ DATA_DIR: join(dir.path, 'data'), PORT: String(port) });
    expectOneLine(result, new RegExp(`^PORT ${port} is already in use on 127\\.0\\.0\\.1: stop what listens there, or set PORT to another port \\(PORT=0 picks a free one\\)$`));
  });

  it('DATA_DIR is a file', async () => {
    const file = join(dir.path, 'data');
    writeFileSync(file, 'not a folder');
    expectOneLine(await runStackUntilExit({ DATA_DIR: file }), /^DATA_DIR .*\/data is a file, not a folder: move the file away, or set DATA_DIR to a folder$/);
  });

  it('DATA_DIR is not writable', async () => {
    const readOnly = join(dir.path, 'read-only');
    mkdirSync(readOnly);
    chmodSync(readOnly, 0o555);
    const result = await runStackUntilExit({ DATA_DIR: readOnly }, { withoutRootPowers: true });
    chmodSync(readOnly, 0o755);
    expectOneLine(result, /^DATA_DIR .*\/read-only is not writable \(EACCES: permission denied, .*\): give this user write access to it, or set DATA_DIR to another folder$/);
  });

  it('DATA_DIR is under /proc: no spin, one line at once', async () => {
    for (const dataDir of ['/proc/eda-data', '/proc']) {
      const result = await runStackUntilExit({ DATA_DIR: dataDir }, { timeoutMs: 10_000 });
      expectOneLine(result, new RegExp(`^DATA_DIR ${dataDir} is inside /proc, a virtual file system that cannot hold the data: set DATA_DIR to a folder on disk$`));
    }
  });

  it('DATABASE_URI names no file', async () => {
    expectOneLine(
      await runStackUntilExit({ DATA_DIR: join(dir.path, 'data'), DATABASE_URI: 'sqlite:' }),
      /^invalid settings: DATABASE_URI "sqlite:" names no file: write sqlite:<file>, for example sqlite:\.data\/jobs\.db$/,
    );
  });

  it('MongoDB does not answer', async () => {
    // Port 1 on this machine: nothing listens there, so every connection is refused.
    const result = await runStackUntilExit({ DATA_DIR: join(dir.path, 'data'), DATABASE_URI: 'mongodb://eda:secret@127.0.0.1:1/jobs' }, { timeoutMs: 30_000 });
    expectOneLine(result, /^DATABASE_URI \(MongoDB at 127\.0\.0\.1:1, database jobs\): MongoDB did not accept the connection \(.*ECONNREFUSED.*\): check that the server runs and is reachable, and the connection string$/);
    expect(result.stderr).not.toContain('secret');
  });

  it('the store file is not a database', async () => {
    const file = join(dir.path, 'notes.db');
    writeFileSync(file, 'these are my notes, not a database\n'.repeat(200));
    expectOneLine(
      await runStackUntilExit({ DATA_DIR: join(dir.path, 'data'), DATABASE_URI: `sqlite:${file}` }),
      /^DATABASE_URI \(SQLite file .*\/notes\.db\): .*\/notes\.db is not a SQLite database \(file is not a database\): move it away, and an empty one is made at the next start$/,
    );
  });

  it('the store has damaged pages (quick_check at start)', async () => {
    const dataDir = join(dir.path, 'data');
    mkdirSync(dataDir);
    const store = join(dataDir, 'jobs.db');
    await storeWithJobs(store, 2000);
    damagePages(store);
    const finished = await runStackUntilExit({ DATA_DIR: dataDir });
    expectOneLine(
      finished,
      /^DATABASE_URI \(SQLite file .*\/data\/jobs\.db\): .*\/data\/jobs\.db is damaged \(.+\): restore it from a backup, or move it away to start with an empty one(; full report: .*\/data\/store-check-[0-9TZ-]+\.txt)?$/,
    );
    // Where quick_check lists findings (rather than failing on the first), the line names the
    // first and the report in DATA_DIR holds every one.
    const report = /full report: (\S+)$/.exec(finished.stderr.trim())?.[1];
    if (report) expect(readFileSync(report, 'utf8').trim()).not.toBe('');
  });

  it('HOST listens on every address and ALLOWED_HOSTS is missing', async () => {
    expectOneLine(
      await runStackUntilExit({ DATA_DIR: join(dir.path, 'data'), HOST: '0.0.0.0', DASHBOARD_TOKEN: 'a-long-enough-dashboard-token-123' }),
      /^invalid settings: HOST 0\.0\.0\.0 listens on every address: set ALLOWED_HOSTS to the host names the dashboard is reached by/,
    );
  });

  it('HOST reaches other machines and there is no DASHBOARD_TOKEN (nor ALLOW_ANONYMOUS=true)', async () => {
    const result = await runStackUntilExit({ DATA_DIR: join(dir.path, 'data'), HOST: '0.0.0.0', ALLOWED_HOSTS: 'dash.example.com' });
    expectOneLine(
      result,
      /^invalid settings: HOST 0\.0\.0\.0 lets other machines reach the dashboard, which would run any task for anyone: set DASHBOARD_TOKEN to a secret of at least 32 characters, or ALLOW_ANONYMOUS=true to leave it open$/,
    );
    // A token of the length accepted until now is refused with its length, never its value.
    const short = await runStackUntilExit({ DATA_DIR: join(dir.path, 'data'), DASHBOARD_TOKEN: 'twenty-four-characters!!' });
    expectOneLine(short, /^invalid settings: DASHBOARD_TOKEN must be at least 32 characters \(got 24\); tokens of 24 to 31 characters are no longer accepted$/);
    expect(short.stderr).not.toContain('twenty-four');
  });

  it('CONTAINERS=docker and no Docker engine answers', async () => {
    expectOneLine(
      await runStackUntilExit({ DATA_DIR: join(dir.path, 'data'), CONTAINERS: 'docker', DOCKER_HOST: `unix://${join(dir.path, 'no-engine.sock')}` }),
      /^CONTAINERS=docker: no Docker engine answers at .*no-engine\.sock \(connect ENOENT .*\): start the Docker engine, or leave CONTAINERS unset to run tasks as processes$/,
    );
  });

  it('CONTAINERS names no runtime, or DOCKER_HOST no socket', async () => {
    expectOneLine(
      await runStackUntilExit({ DATA_DIR: join(dir.path, 'data'), CONTAINERS: 'podman' }),
      /^invalid settings: CONTAINERS must be one of process, docker \(got "podman"\)/,
    );
    expectOneLine(
      await runStackUntilExit({ DATA_DIR: join(dir.path, 'data'), CONTAINERS: 'docker', DOCKER_HOST: 'tcp://10.0.0.1:2376' }),
      /^invalid settings: DOCKER_HOST tcp:\/\/10\.0\.0\.1:2376 is not a unix:\/\/ socket/,
    );
  });

  it('a kind the chosen runtime cannot run: an image only, run as processes', async () => {
    const kinds = join(dir.path, 'kinds.json');
    writeFileSync(kinds, JSON.stringify({ packaged: { image: 'example.azurecr.io/packaged:1' } }));
    expectOneLine(
      await runStackUntilExit({ DATA_DIR: join(dir.path, 'data'), KINDS_FILE: kinds }),
      /^\/.*\/kinds\.json: kind "packaged" has no "command" to run as a process: add one to the kinds file, or run its image with CONTAINERS=docker$/,
    );
  });

  it("a kind whose command's program does not exist, is not executable, or is on no PATH", async () => {
    const kinds = join(dir.path, 'kinds.json');
    const notExecutable = join(dir.path, 'task.sh');
    writeFileSync(notExecutable, 'echo hi\n');
    const cases: [unknown, RegExp][] = [
      [['/no/such/program'], /kind "missing": its command cannot run: \/no\/such\/program does not exist$/],
      // Relative to the folder `npm start` runs in, as the process runtime runs it.
      [['examples/no-such.sh'], /kind "missing": its command cannot run: \/.*\/examples\/no-such\.sh does not exist$/],
      [[notExecutable], /kind "missing": its command cannot run: \/.*\/task\.sh is not executable \(chmod \+x it, or name its interpreter first: \["sh", ".*task\.sh"\]\)$/],
      [['no-such-program-anywhere', '--flag'], /kind "missing": its command cannot run: "no-such-program-anywhere" is not a program on the PATH its tasks get \(\/usr\/local\/sbin:.*\)$/],
    ];
    for (const [command, line] of cases) {
      writeFileSync(kinds, JSON.stringify({ fine: { command: ['sh', 'missing.sh'] }, missing: { command } }));
      const result = await runStackUntilExit({ DATA_DIR: join(dir.path, 'data'), KINDS_FILE: kinds });
      expectOneLine(result, line);
      expect(result.stderr).toMatch(/^\/.*\/kinds\.json: kind "missing"/);
      expect(result.stderr).not.toMatch(/eda-container|supervisor/);
    }
  });
});
