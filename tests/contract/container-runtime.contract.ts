import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type {
  ContainerMetrics,
  ContainerRuntime,
  ContainerSpec,
} from '../../apps/core/domain/container-runtime.port.js';
import { eventually } from '../helpers.js';

export interface RuntimeUnderTest {
  runtime: ContainerRuntime & ContainerMetrics;
  /**
   * A spec whose container prints its environment as `env {json}` and a line to stderr,
   * runs for `runMs` and exits with `exitCode`.
   */
  spec: (name: string, runMs: number, exitCode: number) => ContainerSpec;
  /** How long a container must run to be sampled at least twice (Docker's stats come once a second). */
  sampledRunMs?: number;
  cleanup: () => Promise<void>;
}

/**
 * A spec for tests/fixtures/echo-worker.mjs: it prints its environment as `env {json}` and a
 * line to stderr, works for `runMs`, and exits with `exitCode`.
 */
export function echoSpec(name: string, runMs: number, exitCode: number, databaseUri = 'sqlite:/nowhere'): ContainerSpec {
  return {
    name,
    jobId: `job-of-${name}`,
    env: { CONTAINER_NAME: name, MESSAGE: 'hi', DATABASE_URI: databaseUri, SLEEP_MS: String(runMs), EXIT_CODE: String(exitCode) },
    secureEnv: ['DATABASE_URI'],
    cpu: 1,
    memoryGb: 1.5,
    image: null,
    registry: null,
    command: null,
  };
}

/** What every ContainerRuntime adapter must do. */
export function containerRuntimeContract(name: string, open: () => Promise<RuntimeUnderTest>): void {
  describe(`ContainerRuntime contract: ${name}`, () => {
    let subject: RuntimeUnderTest;
    beforeEach(async () => {
      subject = await open();
    });
    afterEach(async () => {
      await subject.cleanup();
    });

    // `start` returns once the runtime accepted the container (ACI: provisioning follows), so a
    // status may be NotStarted before Running; the local runtimes are Running at once.
    const finished = (name: string) =>
      eventually(async () => {
        const status = await subject.runtime.status(name);
        return status && status.state !== 'Running' && status.state !== 'NotStarted' ? status : undefined;
      }, 20_000, `${name} to finish`);

    it('starts a container that runs, then succeeds with exit code 0', async () => {
      const { runtime } = subject;
      expect(await runtime.start(subject.spec('task-ok', 1000, 0))).toEqual({ created: true });
      const first = (await runtime.status('task-ok'))!;
      expect(['NotStarted', 'Running']).toContain(first.state);
      // Not started: no start time at all, never one invented.
      if (first.state === 'NotStarted') expect(first).toMatchObject({ startedAt: null, finishedAt: null, exitCode: null });
      const running = await eventually(async () => {
        const status = await runtime.status('task-ok');
        return status?.state === 'NotStarted' ? undefined : status;
      }, 20_000, 'task-ok to start');
      expect(running).toMatchObject({ name: 'task-ok', state: 'Running', exitCode: null });
      expect(Date.parse(running!.startedAt!)).toBeGreaterThan(Date.parse('2020-01-01'));
      expect(await finished('task-ok')).toMatchObject({ state: 'Succeeded', exitCode: 0 });
      expect((await runtime.list()).map((c) => c.name)).toEqual(['task-ok']);
    });

    it('reports the exit code of a failed container', async () => {
      await subject.runtime.start(subject.spec('task-bad', 0, 3));
      expect(await finished('task-bad')).toMatchObject({ state: 'Failed', exitCode: 3 });
    });

    it('starts nothing for a name that exists, running or finished', async () => {
      const { runtime } = subject;
      await runtime.start(subject.spec('task-once', 200, 0));
      expect(await runtime.start(subject.spec('task-once', 200, 0))).toEqual({ created: false });
      await finished('task-once');
      expect(await runtime.start(subject.spec('task-once', 200, 0))).toEqual({ created: false });
      const logs = (await runtime.logs('task-once'))!;
      expect(logs.match(/^env /gm)).toHaveLength(1);
    });

    it('gives the container exactly the environment in the spec', async () => {
      const spec = subject.spec('task-env', 0, 0);
      await subject.runtime.start(spec);
      await finished('task-env');
      const logs = (await subject.runtime.logs('task-env'))!;
      const env = JSON.parse(/^env (.*)$/m.exec(logs)![1]!) as Record<string, string>;
      for (const [key, value] of Object.entries(spec.env)) expect(env[key]).toBe(value);
      // Nothing leaks in from the process that runs the runtime (CI sets CONTAINER_NAME too).
      expect(env.VITEST).toBeUndefined();
      expect(env.CONTAINER_NAME).toBe(spec.env.CONTAINER_NAME);
    });

    it('keeps stdout and stderr as the logs', async () => {
      await subject.runtime.start(subject.spec('task-logs', 0, 0));
      await finished('task-logs');
      const logs = (await subject.runtime.logs('task-logs'))!;
      expect(logs).toContain('env {');
      expect(logs).toContain('to stderr');
      expect(await subject.runtime.logs('task-unknown')).toBeNull();
    });

    it('samples CPU and memory while the container runs', async () => {
      await subject.runtime.start(subject.spec('task-metrics', subject.sampledRunMs ?? 1000, 0));
      await finished('task-metrics');
      const metrics = (await subject.runtime.metrics('task-metrics'))!;
      expect(metrics.cpu.length).toBeGreaterThanOrEqual(2);
      expect(metrics.memory.length).toBe(metrics.cpu.length);
      expect(Math.max(...metrics.memory.map((p) => p.v))).toBeGreaterThan(1024 * 1024);
      expect(Math.max(...metrics.cpu.map((p) => p.v))).toBeGreaterThan(0);
      for (const point of [...metrics.cpu, ...metrics.memory]) expect(Date.parse(point.t)).not.toBeNaN();
      expect(await subject.runtime.metrics('task-unknown')).toBeNull();
    });

    it('stops a running container and deletes it', async () => {
      const { runtime } = subject;
      await runtime.start(subject.spec('task-stop', 60_000, 0));
      await runtime.stop('task-stop', 'timeout');
      const status = await runtime.status('task-stop');
      expect(status).toMatchObject({ state: 'Failed' });
      expect(status!.exitCode).not.toBe(0);
      await runtime.delete('task-stop');
      expect(await runtime.status('task-stop')).toBeNull();
      expect(await runtime.list()).toEqual([]);
      expect(await runtime.logs('task-stop')).toBeNull();
    });
  });
}
