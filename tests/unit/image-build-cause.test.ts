import { describe, expect, it } from 'vitest';
import { ImageBuildError, likelyCause } from '../../apps/core/adapters/docker/image-build.js';

describe("a failed image build's likely cause", () => {
  const npmCi = 'Step 7/12 : RUN npm ci';

  it('names the registry for a downloading step whose output says the network failed', () => {
    // npm's words when its requests never finish (the newcomer), and when DNS fails.
    for (const said of ['npm error Exit handler never called!', 'npm error code EAI_AGAIN', 'npm ERR! network request to https://registry.npmjs.org/x failed, reason: getaddrinfo ENOTFOUND registry.npmjs.org']) {
      expect(likelyCause(npmCi, "The command '/bin/sh -c npm ci' returned a non-zero code: 1", [said])).toMatch(/^the step downloads \(npm's registry, say\) and could not reach it: .*the build uses the host's network, as task containers do$/);
    }
  });

  it('names a missing base, a file missing from the context, or nothing when nothing is plain', () => {
    expect(likelyCause('Step 1/3 : FROM nosuch:1', 'pull access denied for nosuch, repository does not exist', [])).toMatch(/base image is neither on the engine nor to be pulled/);
    expect(likelyCause('Step 2/3 : COPY app.js /app/', 'COPY failed: file not found in build context', [])).toMatch(/a file it copies is not in the build context/);
    expect(likelyCause('Step 3/3 : RUN make', "The command '/bin/sh -c make' returned a non-zero code: 2", ['make: *** [all] Error 1'])).toBeNull();
  });

  it('gives the error a one-line summary with the step and the cause; its message adds the step output', () => {
    const error = new ImageBuildError('/repo/apps/worker/Dockerfile', npmCi, "The command '/bin/sh -c npm ci' returned a non-zero code: 1", ['npm error Exit handler never called!']);
    expect(error.summary).toMatch(/^building \/repo\/apps\/worker\/Dockerfile failed at Step 7\/12 : RUN npm ci: The command .* returned a non-zero code: 1; likely cause: the step downloads/);
    expect(error.summary).not.toContain('\n');
    expect(error.message).toBe(`${error.summary}\n  npm error Exit handler never called!`);
  });
});
