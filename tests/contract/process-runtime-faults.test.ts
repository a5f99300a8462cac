import { afterEach, describe, expect, it } from 'vitest';
import { ProcessRuntime } from '../../apps/core/adapters/process/runtime.js';
import type { ContainerFiles } from '../../apps/core/adapters/process/container-files.js';
import { ECHO_WORKER, eventually, tempDir } from '../helpers.js';
import { echoSpec } from './container-runtime.contract.js';

// The faults a machine's environment raises in the process runtime's disk paths: out of
// descriptors (EMFILE), a full disk (ENOSPC), a folder made read-only (EACCES). Injected into
// the files the exit handler, the sampler and a stop read and write. None escapes; an end that
// can't be written is kept in memory and written once the disk takes it.

function errnoError(code: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: injected`), { code });
}

describe.each(['EMFILE', 'ENOSPC', 'EACCES'])('the process runtime under %s', (code) => {
  const dir = tempDir();
  const runtime = new ProcessRuntime({ workerEntry: ECHO_WORKER, dir: dir.path, metricsIntervalMs: 50 });
  afterEach(async () => {
    await runtime.close();
    dir.remove();
  });

  it('finishes a container with its exit code, and writes its end once the disk takes it', async () => {
    const files = (runtime as unknown as { files: ContainerFiles }).files;
    let faulty = true;
    const written: [string, number][] = [];
    const failWhileFaulty = <A extends unknown[], R>(original: (...args: A) => R) => (...args: A): R => {
      if (faulty) throw errnoError(code);
      return original(...args);
    };
    files.readExit = failWhileFaulty(files.readExit.bind(files));
    files.appendSample = failWhileFaulty(files.appendSample.bind(files));
    const writeExit = files.writeExit.bind(files);
    files.writeExit = failWhileFaulty((name: string, status: Parameters<ContainerFiles['writeExit']>[1]) => {
      writeExit(name, status);
      written.push([name, status.exitCode]);
    });

    // The first sample is taken inside start(): its failed write does not fail the start.
    await expect(runtime.start(echoSpec('task-faulty', 300, 3))).resolves.toEqual({ created: true });
    const status = await eventually(async () => {
      const s = await runtime.status('task-faulty');
      return s?.state === 'Running' ? undefined : s;
    }, 10_000, 'the container ended');
    expect(status).toMatchObject({ state: 'Failed', exitCode: 3 });
    expect(written).toEqual([]);

    // The disk takes writes again: the end kept in memory is written by the next sampler turn.
    faulty = false;
    await eventually(() => written.length > 0, 5_000, 'the kept end written');
    expect(written).toEqual([['task-faulty', 3]]);
  });
});
