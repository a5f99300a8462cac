import { ProcessRuntime } from '../../apps/core/adapters/process-runtime.js';
import { ECHO_WORKER, tempDir } from '../helpers.js';
import { containerRuntimeContract } from './container-runtime.contract.js';

containerRuntimeContract('ProcessRuntime', async () => {
  const dir = tempDir();
  const runtime = new ProcessRuntime({ workerEntry: ECHO_WORKER, logDir: dir.path, metricsIntervalMs: 100 });
  return {
    runtime,
    spec: (name, runMs, exitCode) => ({
      name,
      env: { CONTAINER_NAME: name, MESSAGE: 'hi', DATABASE_URI: 'sqlite:/nowhere', SLEEP_MS: String(runMs), EXIT_CODE: String(exitCode) },
      secureEnv: ['DATABASE_URI'],
      cpu: 1,
      memoryGb: 1,
    }),
    cleanup: async () => {
      await runtime.close();
      dir.remove();
    },
  };
});
