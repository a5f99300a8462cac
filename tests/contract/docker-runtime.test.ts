import { randomBytes } from 'node:crypto';
import { chownSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DockerEngine } from '../../apps/core/adapters/docker/docker-engine.js';
import { DockerRuntime, LABELS, nameOnEngine, type DockerRuntimeOptions } from '../../apps/core/adapters/docker/docker-runtime.js';
import type { ContainerSpec } from '../../apps/core/domain/container-runtime.port.js';
import { ensureWorkerImage } from '../../apps/core/adapters/docker/local-images.js';
import { dockerEngineOrSkip } from '../docker-engine.js';
import { ECHO_WORKER, eventually, ROOT, tempDir } from '../helpers.js';
import { containerRuntimeContract, echoSpec } from './container-runtime.contract.js';

const engine = await dockerEngineOrSkip('the DockerRuntime test');
// The echo worker's source, run by the image's own Node: no image of its own to build.
const ECHO_SOURCE = readFileSync(ECHO_WORKER, 'utf8');
const echoInImage = (name: string, runMs: number, exitCode: number): ContainerSpec => ({
  ...echoSpec(name, runMs, exitCode),
  command: ['node', '--input-type=module', '-e', ECHO_SOURCE],
});

describe.runIf(engine)('DockerRuntime', () => {
  let workerImage = '';
  beforeAll(async () => {
    workerImage = await ensureWorkerImage(engine!, ROOT, () => {});
  }, 600_000);

  const opened: { runtime: DockerRuntime; dir: ReturnType<typeof tempDir>; stackId: string }[] = [];
  const open = async (stackId: string, extra: Partial<DockerRuntimeOptions> = {}) => {
    const dir = tempDir();
    // A restarted stack keeps its folder: the adopted container's earlier samples are there.
    const runtime = await DockerRuntime.open({
      engine: engine!,
      stackId,
      workerImage,
      dir: dir.path,
      user: `${process.getuid!()}:${process.getgid!()}`,
      stopGraceSeconds: 1,
      log: () => {},
      ...extra,
    });
    opened.push({ runtime, dir, stackId });
    return runtime;
  };
  const stackId = () => `t${randomBytes(4).toString('hex')}`;

  afterAll(async () => {
    for (const { runtime, dir } of opened) {
      for (const container of await runtime.list()) await runtime.delete(container.name);
      await runtime.close();
      dir.remove();
    }
  });

  containerRuntimeContract('DockerRuntime', async () => {
    const runtime = await open(stackId());
    return {
      runtime,
      spec: echoInImage,
      sampledRunMs: 3000,
      cleanup: async () => {
        for (const container of await runtime.list()) await runtime.delete(container.name);
        await runtime.close();
      },
    };
  });

  it('a new runtime on the same stack adopts a running container, counts it, samples it and sees its end', async () => {
    const id = stackId();
    const dir = tempDir();
    const first = await open(id, { dir: dir.path });
    await first.start(echoInImage('task-adopted', 4000, 4));
    await eventually(async () => ((await first.metrics('task-adopted'))!.memory.length >= 2 ? true : undefined), 10_000, 'two samples');
    // As a spawner that stopped without stopping its containers: the container runs on.
    const second = await open(id, { dir: dir.path });
    expect(second.runningCount()).toBe(1);
    expect(await second.status('task-adopted')).toMatchObject({ state: 'Running', jobId: 'job-of-task-adopted' });
    await eventually(async () => (await second.status('task-adopted'))?.state === 'Failed', 20_000, 'the adopted container to end');
    expect(await second.status('task-adopted')).toMatchObject({ exitCode: 4 });
    // The samples the first runtime took, then the second's own.
    expect((await second.metrics('task-adopted'))!.memory.length).toBeGreaterThan(2);
    dir.remove();
    expect(await second.logs('task-adopted')).toContain('to stderr');
    // Another stack on the same engine sees none of it.
    expect(await (await open(stackId())).list()).toEqual([]);
  }, 60_000);

  it('a container made but never started (the runtime before stopped in between) is started by the next runtime, once', async () => {
    const id = stackId();
    const spec = echoInImage('task-made', 0, 5);
    await engine!.json('POST', '/containers/create', {
      query: { name: nameOnEngine(id, spec.name) },
      body: { Image: workerImage, Cmd: spec.command, Env: Object.entries(spec.env).map(([k, v]) => `${k}=${v}`), Labels: { [LABELS.stack]: id, [LABELS.jobId]: spec.jobId, [LABELS.name]: spec.name } },
    });
    const runtime = await open(id);
    await eventually(async () => (await runtime.status('task-made'))?.state === 'Failed', 20_000, 'the adopted container to run and end');
    expect(await runtime.status('task-made')).toMatchObject({ exitCode: 5, jobId: spec.jobId });
    expect(await runtime.start(spec)).toEqual({ created: false });
    expect((await runtime.logs('task-made'))!.match(/^env /gm)).toHaveLength(1);
    expect(runtime.runningCount()).toBe(0);
  });

  it('gives the container the CPU and memory asked for (CPUs clamped to the host\'s, with a log line) and its bind mounts as the host user', async () => {
    const lines: string[] = [];
    const store = tempDir();
    const runtime = await open(stackId(), { log: (line) => lines.push(line), bindsFor: () => [store.path] });
    const info = await engine!.json<{ NCPU: number }>('GET', '/info');
    const spec = { ...echoInImage('task-limits', 0, 0), cpu: info.body.NCPU + 2, memoryGb: 0.5 };
    await runtime.start(spec);
    const inspected = await engine!.json<{ HostConfig: { NanoCpus: number; Memory: number; Binds: string[] }; Config: { User: string; Labels: Record<string, string> } }>(
      'GET',
      `/containers/${(await dockerNameOf(engine!, 'task-limits'))}/json`,
    );
    expect(inspected.body.HostConfig.NanoCpus).toBe(info.body.NCPU * 1e9);
    expect(inspected.body.HostConfig.Memory).toBe(512 * 1024 * 1024);
    // With a bind mount, the host user: what it writes there is the user's.
    expect(inspected.body.Config.User).toBe(`${process.getuid!()}:${process.getgid!()}`);
    expect(inspected.body.HostConfig.Binds).toEqual([`${store.path}:${store.path}`]);
    store.remove();
    expect(lines.join('\n')).toMatch(new RegExp(`${info.body.NCPU + 2} CPUs asked for, but the engine has ${info.body.NCPU}`));
  });

  it('a container with a bind mount runs as the given user, so what it writes there is that user\'s', async () => {
    const shared = tempDir();
    // Another user than this one (CI runs as root), owning the folder as the host user would.
    chownSync(shared.path, 4321, 4321);
    const runtime = await open(stackId(), { user: '4321:4321', bindsFor: () => [shared.path] });
    const out = join(shared.path, 'written-in-the-container');
    await runtime.start({ ...echoInImage('task-writes', 0, 0), command: ['node', '-e', `require('fs').writeFileSync(${JSON.stringify(out)}, process.getuid() + ':' + process.getgid())`] });
    await eventually(async () => (await runtime.status('task-writes'))?.state === 'Succeeded', 20_000, 'the container to write and end');
    expect(readFileSync(out, 'utf8')).toBe('4321:4321');
    expect(statSync(out)).toMatchObject({ uid: 4321, gid: 4321 });
    shared.remove();
  });

  it('a stop ends a program that sets no signal handler at once, not after the grace', async () => {
    const runtime = await open(stackId(), { stopGraceSeconds: 30 });
    await runtime.start({ ...echoInImage('task-stopped', 0, 0), command: ['node', '-e', 'setInterval(() => {}, 1000)'] });
    await eventually(async () => ((await engine!.json<{ State: { Running: boolean } }>('GET', `/containers/${nameOnEngine(opened.at(-1)!.stackId, 'task-stopped')}/json`)).body.State.Running ? true : undefined));
    const started = Date.now();
    await runtime.stop('task-stopped', 'shutdown');
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(await runtime.status('task-stopped')).toMatchObject({ state: 'Failed', exitCode: 143, signal: null, stoppedFor: 'shutdown' });
  });

  it('an exit code is the program\'s own, 137 included; only the engine\'s OOMKilled is a signal', async () => {
    const runtime = await open(stackId());
    await runtime.start({ ...echoInImage('task-exits-137', 0, 137) });
    // A limit far below what the program takes: the kernel's OOM killer ends it, and the engine says so.
    await runtime.start({ ...echoInImage('task-oom', 0, 0), memoryGb: 0.0625, command: ['node', '-e', 'const a = []; for (;;) a.push(Buffer.alloc(16 << 20, 1))'] });
    await eventually(async () => (await runtime.status('task-exits-137'))?.state === 'Failed', 20_000);
    expect(await runtime.status('task-exits-137')).toMatchObject({ exitCode: 137, signal: null, stoppedFor: null });
    await eventually(async () => (await runtime.status('task-oom'))?.state === 'Failed', 30_000);
    // Where the engine cannot limit memory (no memory cgroup) it warns, and nothing is killed.
    const { MemoryLimit } = (await engine!.json<{ MemoryLimit: boolean }>('GET', '/info')).body;
    expect(await runtime.status('task-oom')).toMatchObject(MemoryLimit ? { exitCode: 137, signal: 9 } : { signal: null });
  });

  it("keeps a program's error output apart from its log: a failure's reason reads it first", async () => {
    const runtime = await open(stackId());
    const script = 'console.log("progress 0.5"); console.error("ValueError: bad"); console.log("on stdout"); process.exit(1)';
    await runtime.start({ ...echoInImage('task-stderr', 0, 0), command: ['node', '-e', script] });
    await eventually(async () => (await runtime.status('task-stderr'))?.state === 'Failed', 20_000);
    expect(await runtime.errorOutput('task-stderr')).toBe('ValueError: bad\n');
    // The log holds both streams; the engine orders lines of two streams only as it read them.
    const logs = (await runtime.logs('task-stderr'))!;
    for (const line of ['progress 0.5', 'ValueError: bad', 'on stdout']) expect(logs).toContain(line);
    expect(logs.indexOf('progress 0.5')).toBeLessThan(logs.indexOf('on stdout'));
    expect(await runtime.errorOutput('task-unknown')).toBeNull();
  });

  it('a container whose program cannot start has failed, and its logs say why', async () => {
    const runtime = await open(stackId());
    await runtime.start({ ...echoInImage('task-no-program', 0, 0), command: ['/no/such/program'] });
    await eventually(async () => (await runtime.status('task-no-program'))?.state === 'Failed', 20_000);
    expect((await runtime.status('task-no-program'))!.exitCode).not.toBe(0);
    // Said by the container's init, which could not run it (or by the engine, without one).
    expect(await runtime.logs('task-no-program')).toMatch(/\/no\/such\/program.*no such file/i);
  });
});

/** The engine's name of a container this suite started, found by its label. */
async function dockerNameOf(engine: DockerEngine, name: string): Promise<string> {
  const filters = JSON.stringify({ label: [`${LABELS.name}=${name}`] });
  const found = await engine.json<{ Names: string[] }[]>('GET', '/containers/json', { query: { all: true, filters } });
  return found.body[0]!.Names[0]!.slice(1);
}
