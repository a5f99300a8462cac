import type { ContainerGroup, ContainerInstanceManagementClient, Event as AciEvent } from '@azure/arm-containerinstance';
import { SettingsError } from '../../domain/errors.js';
import type { AciLaunch } from './options.js';
import { asQuotaRetryLater } from './quota-refusal.js';
import {
  RetryLaterError,
  StartRefusedError,
  type ContainerRuntime,
  type ContainerSpec,
  type ContainerStatus,
} from '../../domain/container-runtime.port.js';
import { classifyArmError, classifyProvisioningFailure } from './arm-errors.js';

export interface AciRuntimeOptions {
  resourceGroup: string;
  launch?: AciLaunch;
  /** How often a delete is polled until ARM has removed the group. */
  pollIntervalMs?: number;
  /**
   * Each ARM call is aborted after this long (default 60 s): well under the Function's
   * `functionTimeout` (10 minutes), at which the host restarts the worker and every invocation
   * in flight on it dies (azure-functions-host #8720).
   */
  callTimeoutMs?: number;
  /** The least wait before a start refused for a transient ARM error is tried again (default 0: the caller's backoff decides; a Retry-After header raises it). */
  retryAfterMs?: number;
  /**
   * How long a start waits after ACI refused it for a count quota (groups, cores), which frees up
   * only as groups end. The create rates are counted in the store, not here (apps/spawner/quota-guard.ts).
   */
  quotaBackoffMs?: number;
  now?: () => number;
}

const DEFAULT_QUOTA_BACKOFF_MS = 15_000;
/** The container inside each group: one per task. */
const WORKER_CONTAINER = 'worker';
/** Groups this system made carry this tag, so the reaper never touches anything else. */
const MANAGED_BY_TAG = { 'managed-by': 'event-driven-aci' };
/** And the job each runs an attempt of: found again from the group alone. */
const JOB_ID_TAG = 'job-id';
/**
 * When a look first saw the group Stopped with no time of its own (ACI keeps no container
 * view of a stopped group): written once, so every later look answers the same finish time.
 */
const STOPPED_SEEN_TAG = 'stopped-seen-at';
const DEFAULT_CALL_TIMEOUT_MS = 60_000;
const DEFAULT_RETRY_AFTER_MS = 0;


/** The Retry-After (seconds) of a refused ARM call's response, in ms; 0 without one. */
function retryAfterHeaderMs(error: unknown): number {
  const headers = (error as { response?: { headers?: { get?: (name: string) => string | undefined } } } | null)?.response?.headers;
  const seconds = Number(headers?.get?.('retry-after'));
  return Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : 0;
}

function isNotFound(error: unknown): boolean {
  return (error as { statusCode?: number } | null)?.statusCode === 404;
}

/**
 * One Azure Container Instance group per task, through the ARM SDK (its pipeline retries 429
 * with Retry-After; nothing here defeats that). `restartPolicy: Never`, no public IP, the
 * worker image pulled with a user-assigned identity, DATABASE_URI as a secure value.
 */
export class AciRuntime implements ContainerRuntime {
  private readonly now: () => number;

  constructor(
    private readonly client: ContainerInstanceManagementClient,
    private readonly options: AciRuntimeOptions,
  ) {
    this.now = options.now ?? Date.now;
  }

  /**
   * Returns once ARM has accepted the create (`201`, `provisioningState: Pending`: the
   * SDK recording recording_containergroups_create_test.json); the pull and boot are followed
   * by the watch, never waited for here. A transient or capacity refusal is a RetryLaterError,
   * one that is the kind's own a StartRefusedError; anything else is thrown as it came.
   */
  async start(spec: ContainerSpec): Promise<{ created: boolean }> {
    const group = this.groupFor(spec);
    let accepted = false;
    try {
      // A group that exists (provisioning, running or finished) is this task's: a redelivery starts nothing.
      if (await this.get(spec.name)) return { created: false };
      // The first poll of the operation comes with it (core-lro); its result is not waited for.
      await this.client.containerGroups.beginCreateOrUpdate(this.options.resourceGroup, spec.name, group, {
        abortSignal: this.signal(),
        updateIntervalInMs: this.options.pollIntervalMs ?? 2000,
        // ARM accepted the group once its PUT was answered 200 or 201 (the SDK calls this for
        // the PUT and for the poll after it).
        onResponse: (response) => {
          if (response.request.method === 'PUT' && (response.status === 200 || response.status === 201)) accepted = true;
        },
      });
    } catch (error) {
      // beginCreateOrUpdate also polls the operation once (`await poller.poll()` in the
      // generated client). That poll throws a plain Error ("The long-running operation has
      // failed…", no code, no status) when provisioning already failed, or an AbortError when it
      // hangs. Both come after ARM accepted the group: it exists, and the watch judges it (by
      // its provisioning failure's cause); thrown on, the message would be abandoned or put off.
      if (accepted) return { created: true };
      throw this.asStartError(error);
    }
    return { created: true };
  }

  async status(name: string): Promise<ContainerStatus | null> {
    const group = await this.get(name);
    if (!group) return null;
    const status = toStatus(group);
    if (status.finishedAt === null && group.instanceView?.state === 'Stopped') return this.firstSeenStopped(group, status);
    return status;
  }

  async list(): Promise<ContainerStatus[]> {
    // The pager sends every page's request with the options it was given, so one signal bounds
    // the whole listing: its pages are read first, and each group's own read (below) gets a
    // signal of its own, rather than spending the listing's while later pages wait.
    const names: string[] = [];
    for await (const listed of this.client.containerGroups.listByResourceGroup(this.options.resourceGroup, { abortSignal: this.signal() })) {
      if (listed.tags?.['managed-by'] === MANAGED_BY_TAG['managed-by'] && listed.name) names.push(listed.name);
    }
    const statuses: ContainerStatus[] = [];
    for (const name of names) {
      // The list leaves out each group's instance view (exit codes): read each one.
      const status = await this.status(name);
      if (status) statuses.push(status);
    }
    return statuses;
  }

  async stop(name: string): Promise<void> {
    try {
      await this.client.containerGroups.stop(this.options.resourceGroup, name, { abortSignal: this.signal() });
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
  }

  async delete(name: string): Promise<void> {
    try {
      await this.client.containerGroups.beginDeleteAndWait(this.options.resourceGroup, name, {
        updateIntervalInMs: this.options.pollIntervalMs ?? 2000,
        abortSignal: this.signal(),
      });
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
  }

  async logs(name: string): Promise<string | null> {
    try {
      const logs = await this.client.containers.listLogs(this.options.resourceGroup, name, WORKER_CONTAINER, { abortSignal: this.signal() });
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
      return await this.client.containerGroups.get(this.options.resourceGroup, name, { abortSignal: this.signal() });
    } catch (error) {
      if (isNotFound(error)) return null;
      throw error;
    }
  }

  /** A fresh timeout per call: one hung call cannot hold the invocation to its functionTimeout. */
  private signal(): AbortSignal {
    return AbortSignal.timeout(this.options.callTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS);
  }

  private asStartError(error: unknown): unknown {
    if (error instanceof RetryLaterError) return error;
    // A quota refusal (any status: 409, 400, 503) is retry-later naming the quota (quota-refusal.ts),
    // read before the classification below, which would take a 400 for the kind's own.
    const quota = asQuotaRetryLater(error, this.options.quotaBackoffMs ?? DEFAULT_QUOTA_BACKOFF_MS);
    if (quota !== error) return quota;
    const classified = classifyArmError(error);
    if (classified.class === 'retry-later') {
      const asked = retryAfterHeaderMs(error);
      return new RetryLaterError(Math.max(asked, this.options.retryAfterMs ?? DEFAULT_RETRY_AFTER_MS), `ACI: ${classified.code}: ${classified.message}`);
    }
    if (classified.class === 'kind') return new StartRefusedError(`ACI refused the group: ${classified.code}: ${classified.message}`);
    return error;
  }

  /**
   * A Stopped group with no finish time of its own: the time a look first saw it so, kept
   * as a tag on the group. Where the tag cannot be written, this look's time is answered.
   */
  private async firstSeenStopped(group: ContainerGroup, status: ContainerStatus): Promise<ContainerStatus> {
    const seen = group.tags?.[STOPPED_SEEN_TAG];
    if (seen && !Number.isNaN(Date.parse(seen))) return { ...status, finishedAt: new Date(seen).toISOString() };
    const now = new Date(this.now()).toISOString();
    try {
      await this.client.containerGroups.update(this.options.resourceGroup, status.name, { tags: { ...group.tags, [STOPPED_SEEN_TAG]: now } }, { abortSignal: this.signal() });
    } catch {
      // Gone, refused or aborted: the group is finished either way, and a failed tag write must
      // not fail the look that would save and delete it (a later look writes the tag again).
    }
    return { ...status, finishedAt: now };
  }
}

/** The latest timestamp of an event whose name says the group stopped. */
function stoppedEventTime(events: AciEvent[] | undefined): string | null {
  const times = (events ?? [])
    .filter((e) => /stop/i.test(e.name ?? ''))
    .map((e) => e.lastTimestamp ?? e.firstTimestamp)
    .filter((t): t is Date => t instanceof Date && !Number.isNaN(t.getTime()));
  return times.length ? new Date(Math.max(...times.map((t) => t.getTime()))).toISOString() : null;
}

/**
 * The group's state, from its worker container's instance view where ACI gives one
 * (tests/fakes/FAKE-ARM-SOURCES.md names the source of each case):
 * - provisioning (`Pending`, `Creating`, no container `startTime`): NotStarted, no start time;
 * - provisioning `Failed` with no container run: Failed with a start failure (its cause);
 * - a container `Terminated`: Succeeded or Failed by its exit code;
 * - the group `Stopped`: finished, at the container's `finishTime`, else the Stopped event's
 *   time, else (filled in by `status`) the time a look first saw it Stopped; an exit code only
 *   where ACI kept one, else null (a stopped group's containers are recycled);
 * - else Running, from the container's `startTime`.
 */
export function toStatus(group: ContainerGroup): ContainerStatus {
  const container = group.containers.find((c) => c.name === WORKER_CONTAINER) ?? group.containers[0];
  const view = container?.instanceView;
  const current = view?.currentState;
  const name = group.name ?? '';
  const jobId = group.tags?.[JOB_ID_TAG] ?? null;
  // A state's startTime is when that state began: a program's start only for Running or
  // Terminated (the spec's ContainerGroupsGet_Failed example has a Waiting state with one).
  const ran = [current, view?.previousState].find((state) => state?.state === 'Running' || state?.state === 'Terminated');
  const started = ran?.startTime;
  const startedAt = started instanceof Date && !Number.isNaN(started.getTime()) ? started.toISOString() : null;
  const base = { name, jobId, startedAt };
  // With no source for a kill on ACI, a code is the program's exit (attempt-end.ts); no code: lost.
  const ended = (exitCode: number | null, finishedAt: string | null): ContainerStatus => ({
    ...base,
    state: exitCode === 0 ? 'Succeeded' : 'Failed',
    exitCode,
    finishedAt,
    end: exitCode === null ? { kind: 'lost' } : { kind: 'exit', exitCode },
  });
  const finishTime = current?.finishTime ?? view?.previousState?.finishTime;
  const finishedAt = finishTime instanceof Date ? finishTime.toISOString() : stoppedEventTime(group.instanceView?.events);
  if (current?.state === 'Terminated') return ended(current.exitCode ?? null, finishedAt ?? startedAt);
  if (group.instanceView?.state === 'Stopped') return ended(current?.exitCode ?? null, finishedAt);
  if (group.provisioningState === 'Failed') {
    if (startedAt) return ended(current?.exitCode ?? null, finishedAt ?? startedAt);
    // No source shows a failed group's body: its warnings first, else every event, else the state's detail.
    const events = [...(group.instanceView?.events ?? []), ...(view?.events ?? [])];
    const failures = events.filter((e) => /fail|error|backoff|kill/i.test(e.name ?? ''));
    const warnings = events.filter((e) => e.type === 'Warning');
    const texts = (failures.length ? failures : warnings.length ? warnings : events).map((e) => ({ code: e.name ?? null, message: e.message ?? '' }));
    if (current?.detailStatus) texts.push({ code: null, message: current.detailStatus });
    const failedAt = events
      .map((e) => e.lastTimestamp ?? e.firstTimestamp)
      .filter((t): t is Date => t instanceof Date)
      .map((t) => t.getTime());
    return {
      ...base,
      state: 'Failed',
      exitCode: null,
      finishedAt: failedAt.length ? new Date(Math.max(...failedAt)).toISOString() : null,
      startFailure: classifyProvisioningFailure(texts),
    };
  }
  if (!startedAt) return { ...base, state: 'NotStarted', exitCode: null, finishedAt: null };
  return { ...base, state: 'Running', exitCode: null, finishedAt: null };
}
