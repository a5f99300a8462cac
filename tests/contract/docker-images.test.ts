import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { DockerEngine } from '../../apps/core/adapters/docker/docker-engine.js';
import { ImageBuildError, imageExists } from '../../apps/core/adapters/docker/image-build.js';
import { ensureKindImage, ensureWorkerImage, KIND_REPOSITORY_PREFIX } from '../../apps/core/adapters/docker/local-images.js';
import { dockerEngineOrSkip } from '../docker-engine.js';
import { ROOT, tempDir } from '../helpers.js';

// Images built through the Engine API on the engine itself: the worker's real Dockerfile, a
// tag reused without a build, older tags removed unless a container uses them, and a failing
// step reported. The bases are the real ones where the engine can have them, else the stand-in.
const engine = await dockerEngineOrSkip('building images through the Docker Engine API');
// Names of this run's own, so that nothing another run or the local stack uses is removed.
const RUN = randomBytes(4).toString('hex');
const WORKER_REPOSITORY = `event-driven-aci-test/worker-${RUN}`;
const BUILD_TIMEOUT_MS = 600_000;

const made = { images: new Set<string>(), containers: new Set<string>(), dirs: [] as (() => void)[] };
afterAll(async () => {
  if (!engine) return;
  for (const id of made.containers) await engine.json('DELETE', `/containers/${id}`, { query: { force: true }, accept: [404] });
  for (const image of made.images) await engine.json('DELETE', `/images/${image}`, { accept: [404, 409] });
  made.dirs.forEach((remove) => remove());
});

function recorder(): { log: (line: string) => void; lines: string[] } {
  const lines: string[] = [];
  return { log: (line) => lines.push(line), lines };
}

function context(files: Record<string, string>): string {
  const dir = tempDir('eda-image-');
  made.dirs.push(dir.remove);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir.path, name), text);
  return dir.path;
}

/** Runs an image's command to its end with no network; its exit code and its output. */
async function runToExit(docker: DockerEngine, image: string, cmd?: string[]): Promise<{ code: number; output: string }> {
  const created = await docker.json<{ Id: string }>('POST', '/containers/create', { body: { Image: image, Cmd: cmd, HostConfig: { NetworkMode: 'none' } } });
  const id = created.body.Id;
  made.containers.add(id);
  await docker.json('POST', `/containers/${id}/start`);
  const waited = await docker.json<{ StatusCode: number }>('POST', `/containers/${id}/wait`);
  const logs = await docker.stream('GET', `/containers/${id}/logs`, { query: { stdout: true, stderr: true } });
  const chunks: Buffer[] = [];
  for await (const chunk of logs) chunks.push(chunk as Buffer);
  return { code: waited.body.StatusCode, output: demultiplex(Buffer.concat(chunks)) };
}

/** A container's log without a TTY: frames of an 8-byte header (stream, 3 zeros, size) and data. */
function demultiplex(data: Buffer): string {
  let text = '';
  for (let at = 0; at + 8 <= data.length; at += 8 + data.readUInt32BE(at + 4)) text += data.subarray(at + 8, at + 8 + data.readUInt32BE(at + 4)).toString('utf8');
  return text;
}

describe.skipIf(!engine)('images built through the Docker Engine API', () => {
  const docker = engine!;
  let workerImage = '';

  it(
    'builds the worker from apps/worker/Dockerfile, says which bases it used, and the image runs the worker as user node',
    async () => {
      const { log, lines } = recorder();
      workerImage = await ensureWorkerImage(docker, ROOT, log, WORKER_REPOSITORY);
      made.images.add(workerImage);
      expect(workerImage).toMatch(new RegExp(`^${WORKER_REPOSITORY}:[0-9a-f]{16}$`));
      expect(lines.filter((line) => line.startsWith('bases: '))).toHaveLength(1);
      expect(lines).toContain(`building ${workerImage} from apps/worker/Dockerfile in ${ROOT}`);

      const { body: inspected } = await docker.json<{ Config: { User: string; Cmd: string[] } }>('GET', `/images/${workerImage}/json`);
      expect(inspected.Config.User).toBe('node');
      expect(inspected.Config.Cmd).toEqual(['node', '--enable-source-maps', 'worker.mjs']);
      // With none of its environment the worker says what is missing and exits 2 (docs/design.md).
      const worker = await runToExit(docker, workerImage);
      expect(worker).toEqual({ code: 2, output: expect.stringContaining('MESSAGE is not set') });
      const node = await runToExit(docker, workerImage, ['node', '-e', 'console.log(process.versions.node.split(".")[0], require("os").userInfo().username)']);
      expect(node).toEqual({ code: 0, output: '22 node\n' });
    },
    BUILD_TIMEOUT_MS,
  );

  it('reuses the tag the second time: nothing is built, and it takes well under a second', async () => {
    expect(workerImage).not.toBe('');
    const { log, lines } = recorder();
    const started = performance.now();
    const again = await ensureWorkerImage(docker, ROOT, log, WORKER_REPOSITORY);
    const elapsed = performance.now() - started;
    expect(again).toBe(workerImage);
    expect(lines.filter((line) => !line.startsWith('bases: '))).toEqual([]);
    expect(elapsed).toBeLessThan(1000);
  });

  it(
    'a changed context makes a new tag and removes the older one, unless a container still uses it',
    async () => {
      const kind = { name: `test-${RUN}`, context: context({ Dockerfile: 'ARG BASE_IMAGE=busybox:1.36\nFROM ${BASE_IMAGE}\nCOPY a.txt /a.txt\n', 'a.txt': 'one' }) };
      const first = await ensureKindImage(docker, ROOT, kind, () => {});
      made.images.add(first);
      expect(first.startsWith(`${KIND_REPOSITORY_PREFIX}${kind.name}:`)).toBe(true);

      writeFileSync(join(kind.context, 'a.txt'), 'two');
      const { log, lines } = recorder();
      const second = await ensureKindImage(docker, ROOT, kind, log);
      made.images.add(second);
      expect(second).not.toBe(first);
      expect(lines).toContain(`removed the older image ${first}`);
      expect(await imageExists(docker, first)).toBe(false);

      // A container made from the second keeps it: the engine refuses (409), and that is no failure.
      const created = await docker.json<{ Id: string }>('POST', '/containers/create', { body: { Image: second } });
      made.containers.add(created.body.Id);
      writeFileSync(join(kind.context, 'a.txt'), 'three');
      const third = await ensureKindImage(docker, ROOT, kind, () => {});
      made.images.add(third);
      expect(third).not.toBe(second);
      expect(await imageExists(docker, second)).toBe(true);
    },
    BUILD_TIMEOUT_MS,
  );

  it(
    'a failing RUN fails with an error naming the Dockerfile, the step and what it said',
    async () => {
      const kind = {
        name: `test-failing-${RUN}`,
        context: context({ 'Failing.Dockerfile': `ARG BASE_IMAGE=busybox:1.36\nFROM \${BASE_IMAGE}\nRUN echo "about to fail ${RUN}" && exit 3\n` }),
      };
      const failure = await ensureKindImage(docker, ROOT, { ...kind, dockerfile: join(kind.context, 'Failing.Dockerfile') }, () => {}).catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(ImageBuildError);
      const message = (failure as Error).message;
      const step = `RUN echo "about to fail ${RUN}" && exit 3`;
      // The step count includes the builder's own LABEL steps for the image's labels.
      const [first, ...output] = message.split('\n');
      expect(first).toBe(
        `building ${join(kind.context, 'Failing.Dockerfile')} failed at Step 3/${/Step 3\/(\d+)/.exec(first!)?.[1]} : ${step}: The command '/bin/sh -c echo "about to fail ${RUN}" && exit 3' returned a non-zero code: 3`,
      );
      expect(output).toEqual([`  about to fail ${RUN}`]);
    },
    BUILD_TIMEOUT_MS,
  );
});
