import type { ContainerRuntime } from '../core/domain/container-runtime.port.js';
import type { JobStore } from '../core/domain/job-store.port.js';

/**
 * Live logs on Azure for every kind but those with secretEnv. The dashboard holds no secret: it
 * is the one part on the internet, and giving it every kind's secret values to mask with would
 * put them all one dashboard compromise away. A kind with secretEnv is served only its logs as
 * the spawner stored them, masked (the spawner has the values, and masks before it writes);
 * until its container is settled, its logs are empty. A container whose task cannot be found
 * (an earlier attempt's) is treated the same way, since its kind is not known.
 */
export function withheldLiveLogs(
  runtime: Pick<ContainerRuntime, 'logs'>,
  store: Pick<JobStore, 'getByContainerName'>,
  kindsWithSecrets: readonly string[],
): Pick<ContainerRuntime, 'logs'> {
  if (kindsWithSecrets.length === 0) return runtime;
  const withheld = new Set(kindsWithSecrets);
  return {
    async logs(name) {
      const job = await store.getByContainerName(name);
      if (!job || withheld.has(job.kind)) return null;
      return runtime.logs(name);
    },
  };
}
