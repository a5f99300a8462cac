// ProcessRuntime's events (issue 25): its own child's start and exit, an adopted container's
// status file appearing, and its log growing, each told as it happens; and logs read by offset.
// The sampler, which also looks at adopted containers, is set to an hour here, so an event seen
// came from the folder's watch.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ProcessRuntime } from '../../apps/core/adapters/process/runtime.js';
import type { ContainerEvent, ContainerSpec } from '../../apps/core/domain/container-runtime.port.js';
import { ECHO_WORKER, eventually, ROOT, tempDir } from '../helpers.js';
import { echoSpec } from './container-runtime.contract.js';

const AN_HOUR_MS = 3_600_000;

describe('ProcessRuntime events', () => {
  let dir: ReturnType<typeof tempDir>;
  const runtimes: ProcessRuntime[] = [];
  const open = () => {
    const runtime = new ProcessRuntime({ workerEntry: ECHO_WORKER, dir: dir.path, metricsIntervalMs: AN_HOUR_MS });
    runtimes.push(runtime);
    return runtime;
  };
  const listen = (runtime: ProcessRuntime) => {
    const events: ContainerEvent[] = [];
    runtime.onContainerEvent((event) => events.push(event));
    return events;
  };

  beforeEach(() => {
    dir = tempDir();
  });
  afterEach(async () => {
    for (const runtime of runtimes.splice(0)) await runtime.close();
    dir.remove();
  });

  it('tells its own container’s start, then its exit once its end is recorded', async () => {
    const runtime = open();
    const events = listen(runtime);
    let statusAtExit: unknown = null;
    runtime.onContainerEvent((event) => {
      if (event.type === 'exit') statusAtExit = runtime.status(event.name);
    });
    await runtime.start(echoSpec('task-own', 200, 0));
    expect(events[0]).toEqual({ type: 'start', name: 'task-own', jobId: expect.any(String) });
    await eventually(() => events.some((event) => event.type === 'exit'), 10_000, 'the exit event');
    expect(await statusAtExit).toMatchObject({ state: 'Succeeded', exitCode: 0, finishedAt: expect.any(String) });
    expect(events.filter((event) => event.type === 'start' || event.type === 'exit').map((event) => event.type)).toEqual(['start', 'exit']);
  });

  it('tells an adopted container’s exit when its supervisor writes the status file', async () => {
    await startThenKillSpawner(dir.path, echoSpec('task-adopted', 1500, 5));
    const runtime = open();
    expect(runtime.runningCount()).toBe(1);
    const events = listen(runtime);
    await eventually(() => events.find((event) => event.type === 'exit'), 10_000, 'the exit event of the adopted container');
    expect(await runtime.status('task-adopted')).toMatchObject({ state: 'Failed', exitCode: 5 });
  }, 30_000);

  it('tells when a log grows, and reads it on from an offset, only what is new', async () => {
    const runtime = open();
    const events = listen(runtime);
    await runtime.start(echoSpec('task-log', 300, 0));
    await eventually(() => events.some((event) => event.type === 'output'), 10_000, 'an output event');
    await eventually(() => events.some((event) => event.type === 'exit'), 10_000, 'the exit');
    const whole = await runtime.logsFrom('task-log', 0);
    expect(whole!.text).toContain('to stderr');
    expect(whole!.next).toBe(Buffer.byteLength(whole!.text));
    const cut = 5;
    const rest = await runtime.logsFrom('task-log', cut);
    expect(rest).toEqual({ text: whole!.text.slice(cut), next: whole!.next });
    expect(await runtime.logsFrom('task-log', whole!.next)).toEqual({ text: '', next: whole!.next });
    expect(await runtime.logsFrom('no-such-container', 0)).toBeNull();
  });

  it('a listener that throws changes nothing for the runtime or the other listeners', async () => {
    const runtime = open();
    runtime.onContainerEvent(() => {
      throw new Error('a listener fault');
    });
    const events = listen(runtime);
    await runtime.start(echoSpec('task-faulty-listener', 0, 0));
    await eventually(async () => (await runtime.status('task-faulty-listener'))?.state === 'Succeeded', 10_000);
    expect(events.map((event) => event.type)).toContain('exit');
  });
});

/** The spawner as its own process, killed with SIGKILL right after it started a container. */
async function startThenKillSpawner(dir: string, spec: ContainerSpec): Promise<void> {
  const script = `
    const { ProcessRuntime } = await import(${JSON.stringify(join(ROOT, 'apps/core/adapters/process/runtime.ts'))});
    const runtime = new ProcessRuntime({ workerEntry: ${JSON.stringify(ECHO_WORKER)}, dir: ${JSON.stringify(dir)}, metricsIntervalMs: 100 });
    await runtime.start(${JSON.stringify(spec)});
    console.log('started');
    setInterval(() => {}, 1000);`;
  const spawner = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve) => spawner.stdout.on('data', (chunk) => String(chunk).includes('started') && resolve()));
  spawner.kill('SIGKILL');
  await new Promise((resolve) => spawner.once('exit', resolve));
}
