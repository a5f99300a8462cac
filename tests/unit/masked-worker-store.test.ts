import { describe, expect, it } from 'vitest';
import type { WorkerStore } from '../../apps/core/domain/job-store.port.js';
import { knownSecrets, passwordOf } from '../../apps/core/domain/known-secrets.js';
import { DEFAULT_KIND, KindCatalog } from '../../apps/core/domain/task-kind.js';
import { workerEnvironment } from '../../apps/core/domain/worker-contract.js';
import { maskedWorkerStore } from '../../apps/core/masked-worker-store.js';
import { runWorker } from '../../apps/worker/run-worker.js';

/** A WorkerStore that records what it was asked to write. */
function recordingStore(): WorkerStore & { written: string[] } {
  const written: string[] = [];
  return {
    written,
    getByContainerName: async () => ({ id: 'job-1', state: 'Pending' }) as never,
    markStarted: async () => true,
    reportProgress: async () => true,
    markDone: async (_name, _at, output) => (written.push(`Done: ${output}`), true),
    markFailed: async (_name, _at, reason) => (written.push(`Failed: ${reason}`), true),
  };
}

describe('a kind that writes its own states masks them with the secrets it was given', () => {
  const env = workerEnvironment(
    { message: 'm', containerName: 'c-1' },
    { API_KEY: 'key-0123456789', VISIBLE: 'shown-value' },
    'mongodb://eda:p%40ss-w0rd@db.example:27017/jobs',
    ['API_KEY'],
  );

  it('is told the secrets’ names in SECRET_VARIABLES, never their values', () => {
    expect(env.SECRET_VARIABLES).toBe('API_KEY,DATABASE_URI');
    expect(passwordOf(env.DATABASE_URI!)).toBe('p%40ss-w0rd');
  });

  it('stores its output and failure reason masked: secretEnv values and the store password, as written or decoded', async () => {
    for (const [task, expected] of [
      [async () => 'result with key-0123456789 and shown-value', 'Done: result with *** and shown-value'],
      [async () => { throw new Error('cannot log in as eda:p@ss-w0rd (p%40ss-w0rd)'); }, 'Failed: cannot log in as eda:*** (***)'],
    ] as const) {
      const store = recordingStore();
      await runWorker({ containerName: 'c-1', message: 'm', store: maskedWorkerStore(store, env), task, log: () => {} });
      expect(store.written).toEqual([expected]);
    }
  });

  it('knows every kind’s secretEnv and the store’s password on the stack’s side too', () => {
    const builtIn = { name: DEFAULT_KIND, command: null, image: null, registry: null, cpu: 1, memoryGb: 1, timeoutSeconds: 60, retry: { maxAttempts: 1, retryOnExitCodes: [] }, env: {}, secretEnv: {}, store: true };
    const kinds = new KindCatalog(builtIn as never, [{ ...builtIn, name: 'k', secretEnv: { TOKEN: 'tok-123456' } } as never]);
    expect(knownSecrets(kinds, 'mongodb://u:pw%21x@h/db').map((s) => s.value)).toEqual(['tok-123456', 'pw%21x', 'pw!x']);
  });
});
