import * as pulumi from '@pulumi/pulumi';
import { join } from 'node:path';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { SettingsError } from '../../apps/core/domain/errors.js';
import { readAzureStackConfig } from '../../stacks/azure/config.js';
import { isImageReference, registryOf, serverServesImage } from '../../stacks/azure/image-reference.js';
import { ROOT } from '../helpers.js';
import { isSecret, valueOf } from './pulumi-mocks.js';

const KINDS = 'event-driven-aci:kinds';
const DIGEST = `sha256:${'0123456789abcdef'.repeat(4)}`;

describe('the stack config `kinds`', () => {
  beforeAll(async () => {
    // Config is read under the project's name, which the mocks set.
    await pulumi.runtime.setMocks({ newResource: (a) => ({ id: a.name, state: a.inputs }), call: () => ({}) }, 'event-driven-aci', 'dev');
  });
  const base = { 'azure-native:location': 'westeurope', 'event-driven-aci:dashboardToken': 't'.repeat(32) };
  /**
   * Config as the Pulumi CLI hands it to the program: a structured value is one JSON string, its
   * secure leaves decrypted inside it, and the whole key is listed as secret.
   */
  const withKinds = (kinds: unknown, extra: Record<string, string> = {}) => {
    pulumi.runtime.setAllConfig({ ...base, ...extra, [KINDS]: JSON.stringify(kinds) }, ['event-driven-aci:dashboardToken', KINDS]);
    return () => readAzureStackConfig();
  };

  it('is optional: no kinds, and maxAttempts defaults to 3', () => {
    pulumi.runtime.setAllConfig(base, ['event-driven-aci:dashboardToken']);
    expect(readAzureStackConfig()).toMatchObject({ kinds: [], maxAttempts: 3 });
  });

  it('reads each kind, its build folder resolved from the project, every value defaulted from the stack', () => {
    const config = withKinds(
      {
        wordcount: { build: 'examples/wordcount', cpu: 0.5, memoryGb: 0.5, retryExitCodes: [75, '10*'], env: { STEP_SECONDS: '0.5' } },
        counted: { build: { context: 'examples', dockerfile: 'examples/wordcount/Dockerfile' }, store: true },
        hello: { image: `docker.io/library/busybox@${DIGEST}`, timeoutSeconds: 30, maxAttempts: 1 },
      },
      { 'event-driven-aci:workerCpu': '2', 'event-driven-aci:workerMemoryGb': '4', 'event-driven-aci:taskTimeoutSeconds': '900', 'event-driven-aci:maxAttempts': '4' },
    )();
    expect(config.maxAttempts).toBe(4);
    const byName = Object.fromEntries(config.kinds.map((kind) => [kind.name, kind]));
    expect(Object.keys(byName)).toEqual(['wordcount', 'counted', 'hello']);
    expect(byName.wordcount).toMatchObject({
      build: { context: join(ROOT, 'examples/wordcount'), dockerfile: join(ROOT, 'examples/wordcount/Dockerfile') },
      image: null,
      registry: null,
      cpu: 0.5,
      memoryGb: 0.5,
      timeoutSeconds: 900,
      retry: { maxAttempts: 4, retryOnExitCodes: ['75', '10*'] },
      env: { STEP_SECONDS: '0.5' },
      secretEnv: {},
      store: false,
    });
    expect(byName.counted).toMatchObject({ build: { context: join(ROOT, 'examples'), dockerfile: join(ROOT, 'examples/wordcount/Dockerfile') }, cpu: 2, memoryGb: 4, store: true });
    expect(byName.hello).toMatchObject({ build: null, image: `docker.io/library/busybox@${DIGEST}`, timeoutSeconds: 30, retry: { maxAttempts: 1, retryOnExitCodes: [] } });
  });

  it('keeps secretEnv values and registry passwords as Pulumi secrets, and env in plain text', async () => {
    const [kind] = withKinds({
      private: {
        image: `ghcr.io/acme/private-task@${DIGEST}`,
        registry: { server: 'ghcr.io', username: 'acme-bot', password: 'ghp_registry-password' },
        env: { MODE: 'fast' },
        secretEnv: { API_KEY: 'api-key-value' },
      },
    })().kinds;
    expect(kind!.registry).toMatchObject({ server: 'ghcr.io', username: 'acme-bot' });
    expect(await isSecret(kind!.registry!.password)).toBe(true);
    expect(await valueOf(kind!.registry!.password)).toBe('ghp_registry-password');
    expect(await isSecret(kind!.secretEnv.API_KEY!)).toBe(true);
    expect(await valueOf(kind!.secretEnv.API_KEY!)).toBe('api-key-value');
    expect(kind!.env).toEqual({ MODE: 'fast' });
  });

  it('fails on a misspelt key, naming the kind and the key', () => {
    expect(withKinds({ wordcount: { build: 'examples/wordcount', CPU: 2 } })).toThrow(
      'config event-driven-aci:kinds: kind "wordcount": unknown key "CPU" (did you mean "cpu"?)',
    );
    expect(withKinds({ hello: { imgae: 'busybox' } })).toThrow(/kind "hello": unknown key "imgae" \(known: .*image.*\)/);
  });

  it('names every problem at once, each with its kind and key, as one SettingsError', () => {
    let thrown: unknown;
    try {
      withKinds({
        WordCount: { build: 'examples/wordcount' },
        default: { image: 'busybox' },
        slow: { image: 'busybox', cpu: 8, timeoutSeconds: 0, retryExitCodes: [3, 256, '3.5'] },
        both: { image: 'busybox', build: 'examples/wordcount' },
        neither: { env: { MESSAGE: 'x' } },
      })();
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(SettingsError);
    expect((thrown as SettingsError).code).toBe('INVALID_SETTING');
    const lines = (thrown as Error).message.split('\n');
    for (const expected of [
      /^config event-driven-aci:kinds: kind "WordCount": a kind's name is a lowercase letter/,
      /kind "default": "default" is the built-in worker's kind and cannot be declared/,
      /kind "slow": cpu must be a number from 0.1 to 4 \(got 8\)/,
      /kind "slow": timeoutSeconds must be a number from 1 to 86400 \(got 0\)/,
      /kind "slow": retryExitCodes must be an array of exit codes, numbers or strings, such as 3 or "10\*" for 10 to 109 \(got \[3,256,"3.5"\]\)/,
      /kind "both": image or build is required, one of the two/,
      /kind "neither": image or build is required/,
      /kind "neither": env may not set MESSAGE: the platform sets it/,
    ]) {
      expect(lines.some((line) => expected.test(line)), String(expected)).toBe(true);
    }
    expect(lines).toHaveLength(8);
  });

  it('checks what a deployment needs: the folder and its Dockerfile, the image reference, the registry', () => {
    const problem = (kind: Record<string, unknown>) => withKinds({ task: kind });
    expect(problem({ build: 'examples/nowhere' })).toThrow(
      `config event-driven-aci:kinds: kind "task": build "examples/nowhere" is not a folder (build paths are relative to the Pulumi project, ${ROOT})`,
    );
    expect(problem({ build: 'examples' })).toThrow(`kind "task": build has no Dockerfile at ${join(ROOT, 'examples/Dockerfile')}`);
    expect(problem({ build: { context: 'examples/wordcount', dockerfile: 'Dockerfile.missing' } })).toThrow(`kind "task": build has no Dockerfile at ${join(ROOT, 'Dockerfile.missing')}`);
    expect(problem({ build: 'examples/wordcount', registry: { server: 'ghcr.io', username: 'u', password: 'p' } })).toThrow(
      /kind "task": registry is for an image on another private registry; a built image is pushed to the stack's own registry/,
    );
    expect(problem({ image: 'ghcr.io/Acme/Task:1' })).toThrow(/kind "task": image "ghcr.io\/Acme\/Task:1" is not an image reference/);
    expect(problem({ image: 'ghcr.io/acme/task:1', registry: { server: 'https://ghcr.io', username: 'u', password: 'p' } })).toThrow(
      'kind "task": registry.server is a host name such as ghcr.io, without a scheme (got "https://ghcr.io")',
    );
    expect(problem({ image: 'ghcr.io/acme/task:1', registry: { server: 'quay.io', username: 'u', password: 'p' } })).toThrow(
      'kind "task": registry.server "quay.io" is not the registry of image "ghcr.io/acme/task:1" (ghcr.io)',
    );
    expect(problem({ image: 'ghcr.io/acme/task:1', registry: { server: 'ghcr.io', username: 'u' } })).toThrow(
      'kind "task": registry must be { "server", "username", "password" }, each a non-empty string',
    );
    // A private Docker Hub image: any of Docker Hub's names serves it.
    expect(problem({ image: 'acme/task:1', registry: { server: 'index.docker.io', username: 'u', password: 'p' } })().kinds).toHaveLength(1);
  });

  it('warns at `pulumi up` of an image named by a tag, which its registry may move', () => {
    const warn = vi.spyOn(pulumi.log, 'warn').mockImplementation(async () => undefined);
    try {
      withKinds({ pinned: { image: `busybox@${DIGEST}` }, tagged: { image: 'ghcr.io/acme/task:1.2' } })();
      expect(warn.mock.calls.map(([message]) => message)).toEqual([
        'config event-driven-aci:kinds: kind "tagged": image ghcr.io/acme/task:1.2 names a tag, which its registry may move to another image; name it by digest (@sha256:…) to run the same image every time',
      ]);
    } finally {
      warn.mockRestore();
    }
  });

  it('checks maxAttempts as the apps do', () => {
    pulumi.runtime.setAllConfig({ ...base, 'event-driven-aci:maxAttempts': '0' }, ['event-driven-aci:dashboardToken']);
    expect(() => readAzureStackConfig()).toThrow('config event-driven-aci:maxAttempts must be a whole number from 1 to 20 (got "0")');
  });

  it('says so when kinds is not an object of kinds', () => {
    expect(withKinds(['wordcount'])).toThrow('config event-driven-aci:kinds must be an object of kinds, { "<name>": { ... } }');
  });
});

describe('image references', () => {
  it('accepts what registries accept, and refuses the rest', () => {
    for (const image of [
      'busybox',
      'busybox:1.36',
      'library/busybox',
      `busybox@${DIGEST}`,
      `ghcr.io/acme/task:v1.2@${DIGEST}`,
      'localhost:5000/task',
      'myregistry.azurecr.io/team/sub_group/task-name:2024.01',
      '[::1]:5000/task:latest',
    ]) {
      expect(isImageReference(image), image).toBe(true);
    }
    for (const image of ['', 'Busybox', 'ghcr.io/acme/Task', 'busybox:', 'busybox@sha256:short', 'task-', 'a//b', 'https://ghcr.io/acme/task', 'busybox latest']) {
      expect(isImageReference(image), image).toBe(false);
    }
  });

  it('finds the registry an image is pulled from, Docker Hub when it names none', () => {
    expect(registryOf('busybox')).toBe('docker.io');
    expect(registryOf('acme/task:1')).toBe('docker.io');
    expect(registryOf('ghcr.io/acme/task')).toBe('ghcr.io');
    expect(registryOf('localhost:5000/task')).toBe('localhost:5000');
    expect(registryOf('localhost/task')).toBe('localhost');
    expect(serverServesImage('GHCR.io', 'ghcr.io/acme/task')).toBe(true);
    expect(serverServesImage('docker.io', 'ghcr.io/acme/task')).toBe(false);
    expect(serverServesImage('registry-1.docker.io', 'busybox')).toBe(true);
  });
});
