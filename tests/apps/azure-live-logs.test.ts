import { afterEach, describe, expect, it } from 'vitest';
import { knownSecrets } from '../../apps/core/domain/known-secrets.js';
import { SecretMasker } from '../../apps/core/domain/secret-masker.js';
import { DEFAULT_KIND, KindCatalog, type TaskKind } from '../../apps/core/domain/task-kind.js';
import { withMaskedLogs } from '../../apps/core/masked-logs.js';
import { submitWork } from '../../apps/dashboard/submit-work.js';
import { withheldLiveLogs } from '../../apps/dashboard/withheld-live-logs.js';
import { buildTestApp, type DashboardUnderTest } from './test-app.js';

const SECRET = 'api-key-0123456789abcdef';

describe('on Azure the dashboard holds no secret: a kind with secretEnv is served only its stored, masked logs', () => {
  let dash: DashboardUnderTest;
  afterEach(async () => dash?.close());

  it('serves live logs of a kind without secrets, and for one with secrets only what the spawner stored, masked', async () => {
    // ACI's logs as they are: the program printed its secret.
    const aci = { logs: async (name: string) => `${name} says ${SECRET}\n` };
    let deps: { runtime: { logs(name: string): Promise<string | null> } } = { runtime: aci };
    dash = await buildTestApp({ deps: { runtime: { logs: (name) => deps.runtime.logs(name) } } });
    deps = { runtime: withheldLiveLogs(aci, dash.store, ['wordcount']) };
    const plain = await submitWork({ message: 'a', kind: DEFAULT_KIND }, dash.deps);
    const secretive = await submitWork({ message: 'b', kind: 'wordcount' }, dash.deps);
    const logsOf = async (name: string) => (await dash.app.inject(`/api/containers/${name}/logs`)).body;

    expect(await logsOf(plain.containerName)).toBe(`${plain.containerName} says ${SECRET}\n`);
    // Running: nothing live for it, and no secret.
    expect(await logsOf(secretive.containerName)).toBe('');

    // The spawner (which has the values) masks what it stores, then the dashboard serves that.
    const builtIn = { name: DEFAULT_KIND, command: null, image: 'w', registry: null, cpu: 1, memoryGb: 1, timeoutSeconds: 60, retry: { maxAttempts: 1, retryOnExitCodes: [] }, env: {}, secretEnv: {}, store: true } as unknown as TaskKind;
    const spawnerKinds = new KindCatalog(builtIn, [{ ...builtIn, name: 'wordcount', store: false, secretEnv: { API_KEY: SECRET } } as TaskKind]);
    const spawnerRuntime = withMaskedLogs(aci, new SecretMasker(knownSecrets(spawnerKinds, null)), { live: false });
    await dash.store.saveArtifacts(secretive.containerName, { logs: (await spawnerRuntime.logs(secretive.containerName))!, metrics: { cpu: [], memory: [] } });
    expect(await logsOf(secretive.containerName)).toBe(`${secretive.containerName} says ***\n`);
    const details = await dash.app.inject({ url: `/ui/containers/${secretive.containerName}/details`, headers: { 'hx-request': 'true' } });
    expect(details.body).not.toContain(SECRET);
  });
});
