import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AciRuntime, toStatus } from '../../apps/core/adapters/azure/aci-runtime.js';
import { RetryLaterError, StartRefusedError } from '../../apps/core/domain/container-runtime.port.js';
import { AzureMonitorMetrics } from '../../apps/core/adapters/azure/azure-monitor-metrics.js';
import type { ContainerSpec } from '../../apps/core/domain/container-runtime.port.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ECHO_WORKER, eventually, ROOT, sleep, tempDir } from '../helpers.js';
import { clientsFor, PULL_IDENTITY, RESOURCE_GROUP, SUBSCRIPTION } from '../fakes/azure-clients.js';
import { containerGroupValidators, describeErrors, readExample } from '../fakes/container-instance-spec.js';
import { FakeArm, type FakeArmOptions } from '../fakes/fake-arm.js';
import { AciUsage } from '../../apps/core/adapters/azure/aci-usage.js';
import { CreateBudgetHeaders } from '../../apps/core/adapters/azure/create-budget.js';
import { QuotaRefusedError } from '../../apps/core/domain/quota.js';
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
});

describe('AciRuntime at ACI’s quotas (the real SDK against the fake’s refusals)', () => {
  for (const status of [409, 400] as const) {
    it(`a refusal at the group quota as ${status} is a retry-later error naming the quota, with its figures`, async () => {
      const subject = await openAci({ quota: { groupLimit: 1, coreLimit: 100, refusalStatus: status } });
      try {
        await subject.runtime.start(echoSpec('task-first', 2000, 0));
        const refused = await subject.runtime.start(echoSpec('task-second', 0, 0)).catch((error: unknown) => error);
        expect(refused).toBeInstanceOf(RetryLaterError);
        expect(refused).toBeInstanceOf(QuotaRefusedError);
        expect((refused as QuotaRefusedError).refusal).toMatchObject({ quota: 'ContainerGroups', kind: 'count', region: 'westeurope', limit: 1, usage: 1, requested: 1, code: 'ContainerGroupQuotaReached' });
        expect((refused as Error).message).toMatch(/quota 'ContainerGroups'/);
        expect(subject.arm.quota!.refusals).toEqual([{ quota: 'ContainerGroups', status }]);
        expect(subject.arm.creates.has('task-second')).toBe(false);
      } finally {
        await subject.cleanup();
      }
    });
  }

  it('a refusal at the cores quota names StandardCores with Limit, Usage and Requested', async () => {
    const subject = await openAci({ quota: { coreLimit: 1.5 } });
    try {
      await subject.runtime.start(echoSpec('task-one-core', 2000, 0));
      const refused = (await subject.runtime.start(echoSpec('task-two-cores', 0, 0)).catch((error: unknown) => error)) as QuotaRefusedError;
      expect(refused.refusal).toMatchObject({ quota: 'StandardCores', limit: 1.5, usage: 1, requested: 1 });
      expect(refused.message).toMatch(/quota 'StandardCores' in region westeurope reached \(limit 1.5, usage 1, requested 1\)/);
    } finally {
      await subject.cleanup();
    }
  });

  it('reads the region’s usage as the spec’s example shapes it, and says so when the read is refused', async () => {
    const example = readExample('2025-09-01/examples/ContainerGroupUsage.json').responses['200']!.body as { value: { name: { value: string } }[] };
    expect(example.value.map((row) => row.name.value)).toEqual(['ContainerGroups']);
    const subject = await openAci({ quota: { groupLimit: 7, otherGroups: 3 } });
    const denied = await openAci({ quota: { usageDenied: true } });
    try {
      await subject.runtime.start(echoSpec('task-usage', 1000, 0));
      expect(await new AciUsage(clientsFor(subject.arm).aci, 'westeurope').read()).toEqual({ rows: [{ name: 'ContainerGroups', used: 4, limit: 7 }] });
      const reading = await new AciUsage(clientsFor(denied.arm).aci, 'westeurope').read();
      expect(reading).toMatchObject({ denied: expect.stringMatching(/authorization/) });
    } finally {
      await subject.cleanup();
      await denied.cleanup();
    }
  });

  it('reads the create budget from the create’s headers, and nothing from other requests', async () => {
    const subject = await openAci({ quota: {} });
    try {
      const budget = new CreateBudgetHeaders();
      const { aci } = clientsFor(subject.arm);
      aci.pipeline.addPolicy(budget.policy());
      const runtime = new AciRuntime(aci, OPTIONS);
      await runtime.status('task-nothing');
      expect(budget.latest()).toBeNull();
      await runtime.start(echoSpec('task-budget-1', 0, 0));
      await runtime.start(echoSpec('task-budget-2', 0, 0));
      expect(budget.latest()).toEqual({ pt5m: 98, pt1h: 298 });
      expect(budget.latest('delete')).toBeNull();
      await runtime.delete('task-budget-1');
      expect(budget.latest('delete')).toEqual({ pt5m: 99, pt1h: 299 });
      expect(budget.latest('create')).toEqual({ pt5m: 98, pt1h: 298 });
    } finally {
      await subject.cleanup();
    }
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

describe('AciRuntime as ACI really behaves (tests/fakes/FAKE-ARM-SOURCES.md)', () => {
  it('returns from start once ARM accepted the create, while provisioning takes 20 s: not started, never dated 1970', async () => {
    const subject = await openAci({ createLatencyMs: () => 20_000 });
    try {
      const began = Date.now();
      await expect(subject.runtime.start(echoSpec('task-slow', 0, 0))).resolves.toEqual({ created: true });
      expect(Date.now() - began).toBeLessThan(5000);
      const status = await subject.runtime.status('task-slow');
      expect(status).toMatchObject({ state: 'NotStarted', startedAt: null, finishedAt: null, exitCode: null });
      expect((await subject.runtime.list()).map((s) => s.state)).toEqual(['NotStarted']);
    } finally {
      await subject.cleanup();
    }
  });

  it('reads a Stopped group, which keeps no container view, as finished at one time on every look', async () => {
    const subject = await openAci();
    try {
      await subject.runtime.start(echoSpec('task-stopped', 60_000, 0));
      await eventually(async () => (await subject.runtime.status('task-stopped'))?.state === 'Running');
      await subject.runtime.stop('task-stopped');
      const raw = (await subject.arm.getJson(`/subscriptions/${SUBSCRIPTION}/resourceGroups/${RESOURCE_GROUP}/providers/Microsoft.ContainerInstance/containerGroups/task-stopped`)) as {
        properties: { instanceView: { state: string }; containers: { properties: Record<string, unknown> }[] };
      };
      expect(raw.properties.instanceView.state).toBe('Stopped');
      expect(raw.properties.containers[0]!.properties.instanceView).toBeUndefined();
      const first = (await subject.runtime.status('task-stopped'))!;
      expect(first).toMatchObject({ state: 'Failed', exitCode: null });
      expect(first.finishedAt).not.toBeNull();
      await sleep(1100);
      expect((await subject.runtime.status('task-stopped'))!.finishedAt).toBe(first.finishedAt);
      expect((await subject.runtime.list())[0]!.finishedAt).toBe(first.finishedAt);
      // A second stop of a stopped group changes nothing.
      await subject.runtime.stop('task-stopped');
      expect((await subject.runtime.status('task-stopped'))!.finishedAt).toBe(first.finishedAt);
    } finally {
      await subject.cleanup();
    }
  });

  it('answers a Stopped group as finished at this look when its tag cannot be written (here a PATCH that hangs)', async () => {
    const subject = await openAci({ hang: (method) => method === 'PATCH' });
    try {
      await subject.runtime.start(echoSpec('task-stopped-untagged', 60_000, 0));
      await eventually(async () => (await subject.runtime.status('task-stopped-untagged'))?.state === 'Running');
      await subject.runtime.stop('task-stopped-untagged');
      const runtime = new AciRuntime(clientsFor(subject.arm).aci, { ...OPTIONS, callTimeoutMs: 1000 });
      const status = await runtime.status('task-stopped-untagged');
      expect(status).toMatchObject({ state: 'Failed', exitCode: null });
      expect(status!.finishedAt).not.toBeNull();
    } finally {
      await subject.cleanup();
    }
  });

  it('aborts an ARM call that hangs within its bound: a start is retry-later, a look an error', async () => {
    const subject = await openAci({ hang: (method) => method === 'GET' });
    try {
      const runtime = new AciRuntime(clientsFor(subject.arm).aci, { ...OPTIONS, callTimeoutMs: 300 });
      let began = Date.now();
      const refusal = await runtime.start(echoSpec('task-hang', 0, 0)).catch((error: unknown) => error);
      expect(refusal).toBeInstanceOf(RetryLaterError);
      expect(String((refusal as Error).message)).toMatch(/abort/i);
      expect(Date.now() - began).toBeLessThan(3000);
      began = Date.now();
      await expect(runtime.status('task-hang')).rejects.toThrow();
      expect(Date.now() - began).toBeLessThan(3000);
    } finally {
      await subject.cleanup();
    }
  });

  it('classifies create refusals: capacity (ServiceUnavailable) is retry-later, a bad request the kind’s own (a 503 is in the Function tests)', async () => {
    const subject = await openAci({
      createError: (name) =>
        name === 'task-capacity'
          ? { status: 409, code: 'ServiceUnavailable', message: "The requested resource with 'cpu: 1' is not available in the location 'westeurope' at this moment." }
          : name === 'task-bad'
            ? { status: 400, code: 'InvalidImage', message: 'The image is not valid' }
            : null,
    });
    try {
      await expect(subject.runtime.start(echoSpec('task-capacity', 0, 0))).rejects.toBeInstanceOf(RetryLaterError);
      const bad = await subject.runtime.start(echoSpec('task-bad', 0, 0)).catch((error: unknown) => error);
      expect(bad).toBeInstanceOf(StartRefusedError);
      expect((bad as Error).message).toMatch(/InvalidImage: The image is not valid/);
    } finally {
      await subject.cleanup();
    }
  }, 60_000);

  it('reads a provisioning failure: a refused pull is the platform’s, a bad command the kind’s own, and nothing ran', async () => {
    const subject = await openAci({
      provisioningFailure: (name) =>
        name === 'task-pull'
          ? { name: 'Failed', message: 'Failed to pull image "acredadev.azurecr.io/worker:1": unauthorized: authentication required' }
          : { name: 'Failed', message: 'Error: failed to start container "worker": exec: "nope": executable file not found in $PATH' },
    });
    try {
      await subject.runtime.start(echoSpec('task-pull', 0, 0));
      await subject.runtime.start(echoSpec('task-cmd', 0, 0));
      const pull = await eventually(async () => {
        const status = await subject.runtime.status('task-pull');
        return status?.state === 'Failed' ? status : undefined;
      });
      expect(pull).toMatchObject({ startedAt: null, exitCode: null, startFailure: { code: 'InaccessibleImage', platform: true } });
      const cmd = await eventually(async () => {
        const status = await subject.runtime.status('task-cmd');
        return status?.state === 'Failed' ? status : undefined;
      });
      expect(cmd).toMatchObject({ startedAt: null, exitCode: null, startFailure: { platform: false } });
      expect(cmd!.startFailure!.message).toMatch(/executable file not found/);
    } finally {
      await subject.cleanup();
    }
  });
});

describe('AciRuntime when the poll after an accepted create fails or hangs', () => {
  // beginCreateOrUpdate polls the operation once after the PUT (the generated client's
  // `await poller.poll()`); core-lro throws a plain Error when that poll reads Failed.
  it('returns created, not an error, when provisioning already failed at the first poll; the watch reads the failure', async () => {
    const subject = await openAci({
      createLatencyMs: () => 0,
      provisioningFailure: () => ({ name: 'Failed', message: 'Failed to pull image "acredadev.azurecr.io/worker:1": unauthorized: authentication required' }),
    });
    try {
      const operationPolls = () => subject.arm.requests.filter((r) => r.method === 'GET' && /\/operations\//.test(r.path)).length;
      await expect(subject.runtime.start(echoSpec('task-fast-fail', 0, 0))).resolves.toEqual({ created: true });
      expect(operationPolls()).toBe(1);
      const status = await subject.runtime.status('task-fast-fail');
      expect(status).toMatchObject({ state: 'Failed', startedAt: null, startFailure: { platform: true } });
      expect(subject.arm.creates.get('task-fast-fail')).toBe(1);
    } finally {
      await subject.cleanup();
    }
  });

  it('returns created when the poll after an accepted PUT hangs, within the call bound', async () => {
    const subject = await openAci({ hang: (method, path) => method === 'GET' && /\/operations\//.test(path) });
    try {
      const runtime = new AciRuntime(clientsFor(subject.arm).aci, { ...OPTIONS, callTimeoutMs: 300 });
      const began = Date.now();
      await expect(runtime.start(echoSpec('task-poll-hang', 0, 0))).resolves.toEqual({ created: true });
      expect(Date.now() - began).toBeLessThan(3000);
      expect(subject.arm.creates.get('task-poll-hang')).toBe(1);
    } finally {
      await subject.cleanup();
    }
  });
});

describe('AciRuntime against the Azure SDK’s recorded traffic (tests/fixtures/azure-sdk-for-js)', () => {
  const recording = (file: string) =>
    (JSON.parse(readFileSync(join(ROOT, 'tests/fixtures/azure-sdk-for-js/containerinstance', file), 'utf8')) as {
      Entries: { RequestMethod: string; StatusCode: number; ResponseBody: Record<string, unknown> }[];
    }).Entries;

  it('answers a create as the recording does: 201, Pending, no container view; the operation Pending', async () => {
    const [put, operation] = recording('recording_containergroups_create_test.excerpt.json');
    const subject = await openAci({ createLatencyMs: () => 10_000 });
    try {
      await subject.runtime.start(echoSpec('task-recorded', 0, 0));
      const created = subject.arm.requests.find((r) => r.method === 'PUT')!;
      expect(created.status).toBe(put!.StatusCode);
      const recorded = put!.ResponseBody.properties as { provisioningState: string; instanceView: unknown; containers: { properties: Record<string, unknown> }[] };
      const ours = (await subject.arm.getJson(created.path)) as { properties: typeof recorded };
      expect(ours.properties.provisioningState).toBe(recorded.provisioningState);
      expect(ours.properties.instanceView).toEqual(recorded.instanceView);
      expect(recorded.containers[0]!.properties.instanceView).toBeUndefined();
      expect(ours.properties.containers[0]!.properties.instanceView).toBeUndefined();
      const polled = subject.arm.requests.find((r) => r.path.includes('/operations/'))!;
      expect(((await subject.arm.getJson(polled.path)) as { status: string }).status).toBe((operation!.ResponseBody as { status: string }).status);
    } finally {
      await subject.cleanup();
    }
  });

  it('reads the recorded running group through the real SDK: Running, from its container’s real start', async () => {
    const [get] = recording('recording_containergroups_get_test.json');
    const subject = await openAci({ replay: (method, path) => (method === 'GET' && path.endsWith('/mycontainerGroupxxx') ? { status: get!.StatusCode, body: get!.ResponseBody } : null) });
    try {
      expect(await subject.runtime.status('mycontainerGroupxxx')).toMatchObject({ state: 'Running', startedAt: '2023-01-13T06:23:12.169Z', finishedAt: null, exitCode: null });
    } finally {
      await subject.cleanup();
    }
  });
});
