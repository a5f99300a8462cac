import { knownSecretsOfWorker } from './domain/known-secrets.js';
import type { WorkerStore } from './domain/job-store.port.js';
import { SecretMasker } from './domain/secret-masker.js';

/**
 * The store as a kind that writes its own states uses it, masking its output and failure reason
 * with the secrets its container was given (SECRET_VARIABLES, and DATABASE_URI's password)
 * before they are written: the same rule the stack applies to what it reads from logs.
 */
export function maskedWorkerStore(store: WorkerStore, env: Record<string, string | undefined>): WorkerStore {
  const masker = new SecretMasker(knownSecretsOfWorker(env));
  if (masker.secrets.length === 0) return store;
  return {
    getByContainerName: (name) => store.getByContainerName(name),
    markStarted: (name, at) => store.markStarted(name, at),
    reportProgress: (name, fraction) => store.reportProgress(name, fraction),
    markDone: (name, at, output) => store.markDone(name, at, masker.mask(output)),
    markFailed: (name, at, reason) => store.markFailed(name, at, masker.mask(reason)),
  };
}
