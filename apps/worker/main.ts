import { openJobStore } from '../core/adapters/open-job-store.js';
import { maskedWorkerStore } from '../core/masked-worker-store.js';
import { errorMessage, SettingsError } from '../core/domain/errors.js';
import { defaultTask } from './default-task.js';
import { runWorker } from './run-worker.js';
import { parseWorkerEnv, type WorkerEnv } from '../core/domain/worker-contract.js';
import { writeLine } from './write-line.js';

// Exit codes: 0 Done (or nothing left to do), 1 the work or the store failed, 2 bad environment.
const log = (line: string) => writeLine(`${new Date().toISOString()} ${line}`);

// A function rather than top-level await: the local stack runs this as a CommonJS bundle
// (scripts/bundle.mjs, worker-local), whose start is the shortest Node has.
async function main(): Promise<void> {
  let env: WorkerEnv;
  try {
    env = parseWorkerEnv(process.env);
  } catch (error) {
    console.error(`worker: ${errorMessage(error)}`);
    process.exit(2);
  }

  try {
    // One container per task: the dashboard checks the indexes, not every worker (each check costs RUs).
    const store = await openJobStore(env.databaseUri, { verifyIndexes: false });
    const storeOpenMs = performance.now();
    try {
      const outcome = await runWorker({
        containerName: env.containerName,
        message: env.message,
        // What it stores is masked with the secrets it was given.
        store: maskedWorkerStore(store, process.env),
        task: (message, onProgress) => defaultTask(message, env.workSeconds, onProgress),
        log,
        storeOpenMs,
      });
      process.exitCode = outcome === 'Failed' ? 1 : 0;
    } finally {
      await store.close();
    }
  } catch (error) {
    console.error(`worker ${env.containerName}: ${errorMessage(error)}`);
    // A setting the runtime got wrong (such as a store this build cannot open) is exit 2, as above.
    process.exitCode = error instanceof SettingsError ? 2 : 1;
  }
}

void main();
