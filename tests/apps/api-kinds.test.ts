import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_RETRY_POLICY } from '../../apps/core/domain/retry-policy.js';
import type { TaskKind } from '../../apps/core/domain/task-kind.js';
import { testKinds } from '../helpers.js';
import { buildTestApp, type DashboardUnderTest } from './test-app.js';

const SECRET = 'planted-secret-value-7f3a9c';
const ENV_VALUE = 'planted-env-value-41b2';
const REGISTRY_PASSWORD = 'planted-registry-password-e8d1';

const thumbnail: TaskKind = {
  name: 'thumbnail',
  command: null,
  image: 'example.azurecr.io/thumbnail@sha256:' + 'a'.repeat(64),
  registry: { server: 'example.azurecr.io', username: 'puller', password: REGISTRY_PASSWORD },
  cpu: 2,
  memoryGb: 4,
  timeoutSeconds: 900,
  retry: { maxAttempts: 5, retryOnExitCodes: ['75', '1*'] },
  env: { MODE: ENV_VALUE },
  secretEnv: { API_KEY: SECRET },
  store: false,
};

describe('GET /api/kinds', () => {
  let dash: DashboardUnderTest;
  afterEach(() => dash.close());

  it('lists each kind with what runs, its resources, timeout and retry policy, the built-in first', async () => {
    dash = await buildTestApp({ deps: { kinds: await testKinds({ timeoutSeconds: 120 }, [thumbnail]) } });
    const response = await dash.app.inject('/api/kinds');
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({
      kinds: [
        { name: 'default', image: null, command: null, cpu: 1, memoryGb: 1.5, timeoutSeconds: 120, retry: DEFAULT_RETRY_POLICY },
        {
          name: 'thumbnail',
          image: thumbnail.image,
          command: null,
          cpu: 2,
          memoryGb: 4,
          timeoutSeconds: 900,
          retry: { maxAttempts: 5, retryOnExitCodes: ['75', '1*'] },
        },
      ],
    });
  });

  it('never shows a kind’s env values, its secrets or its registry’s credentials', async () => {
    dash = await buildTestApp({ deps: { kinds: await testKinds({}, [thumbnail]) } });
    const body = (await dash.app.inject('/api/kinds')).body;
    expect(body).toContain('thumbnail');
    for (const planted of [SECRET, ENV_VALUE, REGISTRY_PASSWORD, 'API_KEY', 'puller', 'WORK_SECONDS']) expect(body).not.toContain(planted);
  });
});
