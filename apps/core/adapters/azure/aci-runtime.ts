import type { ContainerGroup, ContainerInstanceManagementClient } from '@azure/arm-containerinstance';
import { SettingsError } from '../../domain/errors.js';
import type { AciLaunch } from '../../settings/azure.js';
import { asQuotaRetryLater } from './quota-refusal.js';
import {
  type ContainerRuntime,
  type ContainerSpec,
  type ContainerStatus,
} from '../../domain/container-runtime.port.js';

export interface AciRuntimeOptions {
  resourceGroup: string;
  launch?: AciLaunch;
  /** How often a create is polled until ACI has deployed the group. */
  pollIntervalMs?: number;
  /**
   * How long a start waits after ACI refused it for a count quota (groups, cores), which frees up
   * only as groups end. The create rates are counted in the store, not here (apps/spawner/quota-guard.ts).
   */
  quotaBackoffMs?: number;
}

const DEFAULT_QUOTA_BACKOFF_MS = 15_000;
/** The container inside each group: one per task. */
const WORKER_CONTAINER = 'worker';
/** Groups this system made carry this tag, so the reaper never touches anything else. */
const MANAGED_BY_TAG = { 'managed-by': 'event-driven-aci' };
/** And the job each runs an attempt of: found again from the group alone. */
const JOB_ID_TAG = 'job-id';

function isNotFound(error: unknown): boolean {
  return (error as { statusCode?: number } | null)?.statusCode === 404;
}

/**
 * One Azure Container Instance group per task, through the ARM SDK (its pipeline retries 429
 * with Retry-After; nothing here defeats that). `restartPolicy: Never`, no public IP, the
 * worker image pulled with a user-assigned identity, DATABASE_URI as a secure value.
 */
export class AciRuntime implements ContainerRuntime {
  constructor(
    private readonly client: ContainerInstanceManagementClient,
    private readonly options: AciRuntimeOptions,
  ) {}

  async start(spec: ContainerSpec): Promise<{ created: boolean }> {
    // A group that exists (running or finished) is this task's: a redelivery starts nothing.
    if (await this.get(spec.name)) return { created: false };
    const group = this.groupFor(spec);
    try {
      await this.client.containerGroups.beginCreateOrUpdateAndWait(
        this.options.resourceGroup,
        spec.name,
        group,
        { updateIntervalInMs: this.options.pollIntervalMs ?? 2000 },
      );
    } catch (error) {
      // A quota refusal (any status) is retry-later, naming the quota: quota-refusal.ts.
      throw asQuotaRetryLater(error, this.options.quotaBackoffMs ?? DEFAULT_QUOTA_BACKOFF_MS);
    }
    return { created: true };
  }

  async status(name: string): Promise<ContainerStatus | null> {
    const group = await this.get(name);
    return group ? toStatus(group) : null;
  }

  async list(): Promise<ContainerStatus[]> {
    const statuses: ContainerStatus[] = [];
    for await (const listed of this.client.containerGroups.listByResourceGroup(this.options.resourceGroup)) {
      if (listed.tags?.['managed-by'] !== MANAGED_BY_TAG['managed-by'] || !listed.name) continue;
      // The list leaves out each group's instance view (exit codes): read each one.
      const group = await this.get(listed.name);
      if (group) statuses.push(toStatus(group));
    }
    return statuses;
  }

  async stop(name: string): Promise<void> {
    try {
      await this.client.containerGroups.stop(this.options.resourceGroup, name);
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
  }

  async delete(name: string): Promise<void> {
    try {
      await this.client.containerGroups.beginDeleteAndWait(this.options.resourceGroup, name, {
        updateIntervalInMs: this.options.pollIntervalMs ?? 2000,
      });
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
  }

  async logs(name: string): Promise<string | null> {
    try {
      const logs = await this.client.containers.listLogs(this.options.resourceGroup, name, WORKER_CONTAINER);
      return logs.content ?? '';
    } catch (error) {
      if (isNotFound(error)) return null;
      throw error;
    }
  }

  /** The request body: what ACI is asked to run for one task. */
  groupFor(spec: ContainerSpec): ContainerGroup {
    if (!this.options.launch) throw new SettingsError('this AciRuntime has no launch settings: it can read containers, not create them');
    const { pullIdentityId, registryServer, workerImage, location } = this.options.launch;
    return {
      location,
      tags: { ...MANAGED_BY_TAG, [JOB_ID_TAG]: spec.jobId },
      identity: { type: 'UserAssigned', userAssignedIdentities: { [pullIdentityId]: {} } },
      osType: 'Linux',
      restartPolicy: 'Never',
      // The stack's registry by the pull identity; another private registry by the kind's credentials.
      imageRegistryCredentials: [
        { server: registryServer, identity: pullIdentityId },
        ...(spec.registry ? [{ server: spec.registry.server, username: spec.registry.username, password: spec.registry.password }] : []),
      ],
      containers: [
        {
          name: WORKER_CONTAINER,
          image: spec.image ?? workerImage,
          resources: { requests: { cpu: spec.cpu, memoryInGB: spec.memoryGb } },
          environmentVariables: Object.entries(spec.env).map(([name, value]) =>
            spec.secureEnv.includes(name) ? { name, secureValue: value } : { name, value },
          ),
        },
      ],
    };
  }

  private async get(name: string): Promise<ContainerGroup | null> {
    try {
      return await this.client.containerGroups.get(this.options.resourceGroup, name);
    } catch (error) {
      if (isNotFound(error)) return null;
      throw error;
    }
  }

}

/** The group's state from its worker container's instance view (exit code included). */
export function toStatus(group: ContainerGroup): ContainerStatus {
  const container = group.containers.find((c) => c.name === WORKER_CONTAINER) ?? group.containers[0];
  const current = container?.instanceView?.currentState;
  const name = group.name ?? '';
  const jobId = group.tags?.[JOB_ID_TAG] ?? null;
  const startedAt = current?.startTime?.toISOString() ?? new Date(0).toISOString();
  if (group.provisioningState === 'Failed') {
    return { name, jobId, state: 'Failed', exitCode: current?.exitCode ?? -1, startedAt, finishedAt: current?.finishTime?.toISOString() ?? startedAt };
  }
  if (current?.state === 'Terminated') {
    const exitCode = current.exitCode ?? -1;
    return {
      name,
      jobId,
      state: exitCode === 0 ? 'Succeeded' : 'Failed',
      exitCode,
      startedAt,
      finishedAt: current.finishTime?.toISOString() ?? startedAt,
    };
  }
  return { name, jobId, state: 'Running', exitCode: null, startedAt, finishedAt: null };
}
