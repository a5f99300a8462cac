import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { dockerEngineOrSkip } from '../docker-engine.js';
import { tempDir } from '../helpers.js';
import { runStackUntilExit } from '../local-stack-process.js';

// The kinds' images are checked before the worker's is built, so these need no worker image.
const engine = await dockerEngineOrSkip('the CONTAINERS=docker start-up faults');

describe.runIf(engine)('CONTAINERS=docker: a kind whose image neither exists nor builds stops npm start with one line', () => {
  const dir = tempDir();
  afterAll(() => dir.remove());

  const startWith = async (kinds: unknown) => {
    const file = join(dir.path, 'kinds.json');
    writeFileSync(file, JSON.stringify(kinds));
    const result = await runStackUntilExit({ DATA_DIR: join(dir.path, 'data'), CONTAINERS: 'docker', KINDS_FILE: file }, { timeoutMs: 300_000 });
    expect(result.timedOut, 'the start hung').toBe(false);
    expect(result.code, result.stderr).toBe(2);
    const lines = result.stderr.split('\n').filter((line) => line.trim() !== '');
    expect(lines, result.stderr).toHaveLength(1);
    expect(lines[0]).not.toMatch(/eda-container|event-driven-aci\/kind-/);
    return { file, line: lines[0]! };
  };

  it('an image the engine lacks and cannot pull', async () => {
    const { file, line } = await startWith({ packaged: { image: 'eda-no-such-owner/no-such-image:1' } });
    expect(line).toMatch(new RegExp(`^${file}: kind "packaged": the Docker engine has no image eda-no-such-owner/no-such-image:1, and could not pull it \\(.+\\): pull or build it first, or give the kind a "build" folder$`));
  }, 310_000);

  it('a build folder whose RUN step fails for want of the registry: the kind, the step and the likely cause', async () => {
    const context = join(dir.path, 'broken');
    mkdirSync(context);
    // As `npm ci` ends on an engine whose build cannot reach the registry (the newcomer).
    writeFileSync(join(context, 'Dockerfile'), 'ARG BASE_IMAGE=busybox:1.36\nFROM ${BASE_IMAGE}\nRUN echo "npm error Exit handler never called!" >&2 && exit 1\n');
    const { file, line } = await startWith({ broken: { build: context } });
    expect(line).toMatch(
      new RegExp(
        `^${file}: kind "broken": its image did not build: building ${context}/Dockerfile failed at Step 3/\\d+ : RUN echo .*: The command .* returned a non-zero code: 1; likely cause: the step downloads \\(npm's registry, say\\) and could not reach it`,
      ),
    );
  }, 310_000);
});
