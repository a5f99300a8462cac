import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ProcessRuntime } from '../../apps/core/adapters/process/runtime.js';
import type { ContainerSpec } from '../../apps/core/domain/container-runtime.port.js';
import { compiledSupervisor, ECHO_WORKER, eventually, ROOT, tempDir } from '../helpers.js';
import { containerRuntimeContract, echoSpec } from './container-runtime.contract.js';


containerRuntimeContract('ProcessRuntime', async () => {
  const dir = tempDir();
  const runtime = new ProcessRuntime({ workerEntry: ECHO_WORKER, dir: dir.path, metricsIntervalMs: 100, supervisor: compiledSupervisor() });
  return {
    runtime,
    spec: echoSpec,
    cleanup: async () => {
      await runtime.close();
      dir.remove();
    },
  };
});

/** Running, not a zombie: an orphaned supervisor is reparented, and its reaper may be slow. */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

describe('ProcessRuntime across restarts, as ACI container groups outlive the spawner', () => {
  let dir: ReturnType<typeof tempDir>;
  const runtimes: ProcessRuntime[] = [];
  const open = () => {
    const runtime = new ProcessRuntime({ workerEntry: ECHO_WORKER, dir: dir.path, metricsIntervalMs: 100, supervisor: compiledSupervisor() });
    runtimes.push(runtime);
    return runtime;
  };
  const record = (name: string) => JSON.parse(readFileSync(join(dir.path, `${name}.json`), 'utf8')) as { pid: number; startTicks: number };

  beforeEach(() => {
    dir = tempDir();
  });
  afterEach(async () => {
    for (const runtime of runtimes.splice(0)) await runtime.close();
    dir.remove();
  });

  /** The spawner as its own process, killed with SIGKILL right after it started a container. */
  async function startThenKillSpawner(spec: ContainerSpec): Promise<void> {
    const script = `
      const { ProcessRuntime } = await import(${JSON.stringify(join(ROOT, 'apps/core/adapters/process/runtime.ts'))});
      const runtime = new ProcessRuntime({ workerEntry: ${JSON.stringify(ECHO_WORKER)}, dir: ${JSON.stringify(dir.path)}, metricsIntervalMs: 100, supervisor: ${JSON.stringify(compiledSupervisor())} });
      await runtime.start(${JSON.stringify(spec)});
      console.log('started');
      setInterval(() => {}, 1000);`;
    const spawner = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve) => spawner.stdout.on('data', (chunk) => String(chunk).includes('started') && resolve()));
    spawner.kill('SIGKILL');
    await new Promise((resolve) => spawner.once('exit', resolve));
  }

  it('a container started by a process that was SIGKILLed keeps running, and a new runtime adopts it, samples it and sees its end', async () => {
    await startThenKillSpawner(echoSpec('task-orphan', 1500, 4));
    const { pid } = record('task-orphan');
    expect(alive(pid)).toBe(true);

    const runtime = open();
    expect(await runtime.status('task-orphan')).toMatchObject({ state: 'Running', exitCode: null });
    expect(runtime.runningCount()).toBe(1);
    await eventually(async () => (await runtime.status('task-orphan'))?.state === 'Failed', 10_000, 'the adopted container to end');
    expect(await runtime.status('task-orphan')).toMatchObject({ exitCode: 4 });
    expect(runtime.runningCount()).toBe(0);
    expect(await runtime.logs('task-orphan')).toContain('to stderr');
    expect((await runtime.metrics('task-orphan'))!.memory.length).toBeGreaterThan(2);
  }, 30_000);

  it('a container that ended while no runtime watched is found finished, with its exit code', async () => {
    const first = open();
    await first.start(echoSpec('task-ended', 0, 3));
    await eventually(async () => (await first.status('task-ended'))?.state === 'Failed');
    const second = open();
    expect(await second.status('task-ended')).toMatchObject({ state: 'Failed', exitCode: 3, signal: null });
    expect(await second.logs('task-ended')).toContain('env {');
  });

  it('a program that exits 137 or 255 by itself is an exit, for an own child and an adopted one alike', async () => {
    const runtime = open();
    for (const code of [1, 137, 255]) await runtime.start(echoSpec(`task-exit-${code}`, 0, code));
    await startThenKillSpawner(echoSpec('task-exit-adopted', 1000, 137));
    for (const code of [1, 137, 255]) {
      await eventually(async () => (await runtime.status(`task-exit-${code}`))?.state === 'Failed');
      expect(await runtime.status(`task-exit-${code}`)).toMatchObject({ exitCode: code, signal: null, stoppedFor: null });
      expect(readFileSync(join(dir.path, `task-exit-${code}.exit`), 'utf8')).toBe(`exit ${code}\n`);
    }
    const adopting = open();
    expect(await adopting.status('task-exit-adopted')).toMatchObject({ state: 'Running' });
    await eventually(async () => (await adopting.status('task-exit-adopted'))?.state === 'Failed', 10_000);
    expect(await adopting.status('task-exit-adopted')).toMatchObject({ exitCode: 137, signal: null });
  });

  it('a program killed by a signal while no runtime watched is known killed at the next start', async () => {
    await startThenKillSpawner(echoSpec('task-killed-unwatched', 60_000, 0));
    const { pid } = record('task-killed-unwatched');
    const worker = await eventually(() => readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(' ')[0] || undefined);
    process.kill(Number(worker), 'SIGKILL');
    await eventually(() => !alive(pid));
    expect(readFileSync(join(dir.path, 'task-killed-unwatched.exit'), 'utf8')).toBe('signal 9\n');
    expect(await open().status('task-killed-unwatched')).toMatchObject({ state: 'Failed', exitCode: 137, signal: 9, stoppedFor: null });
  });

  it('a container killed with its supervisor while no runtime watched is lost: no exit code', async () => {
    await startThenKillSpawner(echoSpec('task-killed', 60_000, 0));
    const { pid } = record('task-killed');
    // As if the machine's OOM killer, or a person, took the whole container.
    process.kill(-pid, 'SIGKILL');
    await eventually(() => !alive(pid));
    const second = open();
    expect(await second.status('task-killed')).toMatchObject({ state: 'Failed', exitCode: null });
  });

  it('a worker killed by a signal is reported with the signal (and 128 + it as its code), written by its supervisor', async () => {
    const runtime = open();
    await runtime.start(echoSpec('task-signal', 60_000, 0));
    const { pid } = record('task-signal');
    const worker = await eventually(() => readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(' ')[0] || undefined);
    process.kill(Number(worker), 'SIGKILL');
    await eventually(async () => (await runtime.status('task-signal'))?.state === 'Failed');
    expect(await runtime.status('task-signal')).toMatchObject({ exitCode: 137, signal: 9 });
    expect(readFileSync(join(dir.path, 'task-signal.exit'), 'utf8')).toBe('signal 9\n');
  });

  it('a recorded pid that now belongs to another process is never mistaken for the container', async () => {
    const first = open();
    await first.start(echoSpec('task-reused', 0, 0));
    await eventually(async () => (await first.status('task-reused'))?.state === 'Succeeded');
    // The kernel gave the pid to another process (this one), and the status file was lost.
    const stale = record('task-reused');
    writeFileSync(join(dir.path, 'task-reused.json'), JSON.stringify({ ...stale, pid: process.pid }));
    writeFileSync(join(dir.path, 'task-reused.exit'), '');
    const second = open();
    expect(await second.status('task-reused')).toMatchObject({ state: 'Failed', exitCode: null });
  });

  it('stops an adopted container, and counts it while it runs', async () => {
    await startThenKillSpawner(echoSpec('task-adopted', 60_000, 0));
    const second = open();
    expect(second.runningCount()).toBe(1);
    // Its program runs (so the supervisor has set its handlers, which it does before that).
    const { pid } = record('task-adopted');
    await eventually(() => readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim() || undefined);
    await second.stop('task-adopted', 'shutdown');
    const status = (await second.status('task-adopted'))!;
    expect(status).toMatchObject({ state: 'Failed', exitCode: 143, signal: 15, stoppedFor: 'shutdown' });
    expect(alive(pid)).toBe(false);
    // Why it was stopped outlives the runtime that stopped it.
    expect(await open().status('task-adopted')).toMatchObject({ signal: 15, stoppedFor: 'shutdown' });
  });

  it('the stop reason is kept for an own child: a timeout', async () => {
    const runtime = open();
    await runtime.start(echoSpec('task-timeout', 60_000, 0));
    await runtime.stop('task-timeout', 'timeout');
    expect(await runtime.status('task-timeout')).toMatchObject({ state: 'Failed', signal: 15, stoppedFor: 'timeout' });
  });
});

describe('ProcessRuntime without a compiled supervisor (no C compiler at build): the shell, and its ambiguity', () => {
  let dir: ReturnType<typeof tempDir>;
  let runtime: ProcessRuntime;
  beforeEach(() => {
    dir = tempDir();
    runtime = new ProcessRuntime({ workerEntry: ECHO_WORKER, dir: dir.path, metricsIntervalMs: 100, supervisor: null });
  });
  afterEach(async () => {
    await runtime.close();
    dir.remove();
  });

  it("reads 129–192 as a signal, as the shell's $? cannot tell, and 193–255 always as an exit", async () => {
    for (const code of [1, 137, 255]) await runtime.start(echoSpec(`task-shell-${code}`, 0, code));
    for (const code of [1, 137, 255]) await eventually(async () => (await runtime.status(`task-shell-${code}`))?.state === 'Failed');
    expect(await runtime.status('task-shell-1')).toMatchObject({ exitCode: 1, signal: null });
    expect(await runtime.status('task-shell-137')).toMatchObject({ exitCode: 137, signal: 9 });
    expect(await runtime.status('task-shell-255')).toMatchObject({ exitCode: 255, signal: null });
    expect(readFileSync(join(dir.path, 'task-shell-255.exit'), 'utf8')).toBe('255\n');
  });
});
