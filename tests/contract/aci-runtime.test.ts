import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AciRuntime, toStatus } from '../../apps/core/adapters/azure/aci-runtime.js';
import { RetryLaterError } from '../../apps/core/domain/container-runtime.port.js';
import { AzureMonitorMetrics } from '../../apps/core/adapters/azure/azure-monitor-metrics.js';
import type { ContainerSpec } from '../../apps/core/domain/container-runtime.port.js';
import { ECHO_WORKER, eventually, tempDir } from '../helpers.js';
import { clientsFor, PULL_IDENTITY, RESOURCE_GROUP, SUBSCRIPTION } from '../fakes/azure-clients.js';
import { containerGroupValidators, describeErrors, readExample } from '../fakes/container-instance-spec.js';
import { FakeArm, type FakeArmOptions } from '../fakes/fake-arm.js';
import { echoSpec as echoSpecFor, containerRuntimeContract } from './container-runtime.contract.js';
import type { ContainerGroup } from '@azure/arm-containerinstance';

const OPTIONS = {
  resourceGroup: RESOURCE_GROUP,
  launch: {
    location: 'westeurope',
    workerImage: 'acredadev.azurecr.io/worker:1',
    registryServer: 'acredadev.azurecr.io',
    pullIdentityId: PULL_IDENTITY,
  },
  pollIntervalMs: 50,
};

async function openAci(fakeOptions: Partial<FakeArmOptions> = {}) {
  const dir = tempDir();
  const arm = new FakeArm({ workerEntry: ECHO_WORKER, logDir: dir.path, createLatencyMs: () => 150, ...fakeOptions });
  await arm.start();
  const { aci, monitor } = clientsFor(arm);
  const runtime = new AciRuntime(aci, OPTIONS);
  const metrics = new AzureMonitorMetrics(monitor, { subscriptionId: SUBSCRIPTION, resourceGroup: RESOURCE_GROUP });
  return {
    arm,
    runtime,
    metrics,
    cleanup: async () => {
      expect(arm.invalidBodies).toEqual([]);
      await arm.close();
      dir.remove();
    },
  };
}

const echoSpec = (name: string, runMs: number, exitCode: number): ContainerSpec => echoSpecFor(name, runMs, exitCode, 'mongodb://secret@db');

containerRuntimeContract('AciRuntime (real SDK against the ARM fake)', async () => {
  const subject = await openAci();
  // One object for the contract: runtime calls go to ACI, metrics to Azure Monitor.
  const runtime = Object.assign(Object.create(subject.runtime) as AciRuntime, {
    metrics: (name: string) => subject.metrics.metrics(name),
  });
  return { runtime, spec: echoSpec, cleanup: subject.cleanup };
});

describe('AciRuntime against Azure’s published spec', () => {
  let subject: Awaited<ReturnType<typeof openAci>>;
  beforeEach(async () => {
    subject = await openAci();
  });
  afterEach(async () => {
    await subject.cleanup();
  });

  it('sends a create body that the spec accepts: Never restart, no public IP, identity pull, secure DATABASE_URI', async () => {
    await subject.runtime.start(echoSpec('task-body', 0, 0));
    const [body] = subject.arm.putBodies as { identity: unknown; properties: Record<string, unknown>; location: string }[];
    const validators = containerGroupValidators();
    expect(validators.request(body), describeErrors(validators.request)).toBe(true);
    expect(body!.location).toBe('westeurope');
    expect(body!.identity).toEqual({ type: 'UserAssigned', userAssignedIdentities: { [PULL_IDENTITY]: {} } });
    expect(body!.properties.restartPolicy).toBe('Never');
    expect(body!.properties.osType).toBe('Linux');
    expect(body!.properties.ipAddress).toBeUndefined();
    expect(body!.properties.imageRegistryCredentials).toEqual([{ server: 'acredadev.azurecr.io', identity: PULL_IDENTITY }]);
    const [container] = body!.properties.containers as { name: string; properties: { image: string; resources: unknown; environmentVariables: unknown[] } }[];
    expect(container!.properties.image).toBe('acredadev.azurecr.io/worker:1');
    expect(container!.properties.resources).toEqual({ requests: { cpu: 1, memoryInGB: 1.5 } });
    expect(container!.properties.environmentVariables).toContainEqual({ name: 'DATABASE_URI', secureValue: 'mongodb://secret@db' });
    expect(container!.properties.environmentVariables).toContainEqual({ name: 'MESSAGE', value: 'hi' });
    expect(JSON.stringify(body)).not.toMatch(/password|username/);
  });

  it('has a validator that refuses what Azure would refuse', () => {
    const validators = containerGroupValidators();
    const body = { location: 'westeurope', properties: { osType: 'Linux', containers: [{ name: 'w', properties: { image: 'i', resources: { requests: { cpu: 1, memoryInGb: 1 } } } }] } };
    expect(validators.request(body)).toBe(false);
    expect(describeErrors(validators.request)).toMatch(/memoryInGB/);
    expect(validators.request({ location: 'x', properties: { osType: 'Linux', restartPolicy: 'Sometimes', containers: [] } })).toBe(false);
  });

  it('reads the spec’s own examples: Failed provisioning is Failed and never started, a group with no container view is not started', () => {
    const failed = readExample('2025-09-01/examples/ContainerGroupsGet_Failed.json').responses['200']!.body as Record<string, unknown>;
    const succeeded = readExample('2025-09-01/examples/ContainerGroupsGet_Succeeded.json').responses['200']!.body as Record<string, unknown>;
    const validators = containerGroupValidators();
    expect(validators.response(failed)).toBe(true);
    // The SDK flattens `properties`; this is what its deserializer hands the adapter.
    const flat = (b: Record<string, unknown>) => ({ ...b, ...(b.properties as object) }) as unknown as ContainerGroup;
    // Its container is Waiting (with that state's own startTime): nothing ran. The cause is the
    // FailedMount event, the platform's.
    expect(toStatus(flat(failed))).toMatchObject({ state: 'Failed', name: 'demo1', startedAt: null, exitCode: null });
    expect(toStatus(flat(failed)).startFailure).toMatchObject({ platform: true, message: 'Output: mount error(2): Permission denied' });
    // No container start time anywhere: not started, and never dated 1970.
    expect(toStatus(flat(succeeded))).toMatchObject({ state: 'NotStarted', exitCode: null, startedAt: null, finishedAt: null });
  });

  it('answers GET with bodies the spec accepts', async () => {
    await subject.runtime.start(echoSpec('task-get', 0, 0));
    await eventually(async () => (await subject.runtime.status('task-get'))?.state === 'Succeeded');
    const response = await subject.arm.getJson(`/subscriptions/${SUBSCRIPTION}/resourceGroups/${RESOURCE_GROUP}/providers/Microsoft.ContainerInstance/containerGroups/task-get?api-version=2023-05-01`);
    const validators = containerGroupValidators();
    expect(validators.response(response), describeErrors(validators.response)).toBe(true);
    expect(JSON.stringify(response)).not.toContain('mongodb://secret');
  });

  it('reads CpuUsage and MemoryUsage from Azure Monitor for the group', async () => {
    await subject.runtime.start(echoSpec('task-metrics', 600, 0));
    await eventually(async () => (await subject.runtime.status('task-metrics'))?.state === 'Succeeded');
    const metrics = (await subject.metrics.metrics('task-metrics'))!;
    expect(metrics.memory.length).toBeGreaterThan(0);
    expect(metrics.memory.every((p) => p.v > 0 && !Number.isNaN(Date.parse(p.t)))).toBe(true);
    const asked = subject.arm.requests.find((r) => r.path.endsWith('/providers/Microsoft.Insights/metrics'));
    expect(asked?.path).toBe(`${subject.metrics.resourceUri('task-metrics')}/providers/Microsoft.Insights/metrics`);
    expect(await subject.metrics.metrics('task-nobody')).toBeNull();
  });

  it('lists only the groups it made', async () => {
    await subject.runtime.start(echoSpec('task-one', 0, 0));
    await subject.runtime.start(echoSpec('task-two', 0, 0));
    expect((await subject.runtime.list()).map((c) => c.name).sort()).toEqual(['task-one', 'task-two']);
  });

  it('refuses creates past ACI’s quota, before calling Azure', async () => {
    let now = 0;
    const runtime = new AciRuntime(clientsFor(subject.arm).aci, { ...OPTIONS, createQuota: { max: 2, windowMs: 1000 }, now: () => now });
    await runtime.start(echoSpec('task-q1', 0, 0));
    await runtime.start(echoSpec('task-q2', 0, 0));
    await expect(runtime.start(echoSpec('task-q3', 0, 0))).rejects.toBeInstanceOf(RetryLaterError);
    expect(subject.arm.creates.has('task-q3')).toBe(false);
    now = 1001;
    await expect(runtime.start(echoSpec('task-q3', 0, 0))).resolves.toEqual({ created: true });
  });
});

describe('AciRuntime under throttling', () => {
  it('waits out a 429 as Retry-After asks, through the SDK’s own retry', async () => {
    let throttled = 0;
    const subject = await openAci({
      throttle: (method) => (method === 'PUT' && throttled++ === 0 ? 1 : null),
    });
    const started = Date.now();
    await expect(subject.runtime.start(echoSpec('task-429', 0, 0))).resolves.toEqual({ created: true });
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    expect(subject.arm.requests.filter((r) => r.method === 'PUT').map((r) => r.status)).toEqual([429, 201]);
    expect(subject.arm.creates.get('task-429')).toBe(1);
    await subject.cleanup();
  });
});
