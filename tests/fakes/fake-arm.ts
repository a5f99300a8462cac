import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Agent, createServer, get as httpsGet, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TokenCredential } from '@azure/core-auth';
import type { PipelinePolicy } from '@azure/core-rest-pipeline';
import { generate } from 'selfsigned';
import { ProcessRuntime } from '../../apps/core/adapters/process/runtime.js';
import type { MetricPoint } from '../../apps/core/domain/metric-series.js';
import { containerGroupValidators, describeErrors } from './container-instance-spec.js';
import { FakeQuota, USAGES, type FakeQuotaOptions, type HeldGroup } from './fake-arm-quota.js';
import { TokenBucket, type TokenBucketOptions } from './token-bucket.js';

const TOKEN = 'fake-arm-token';
const WRITE_METHODS = new Set(['PUT', 'PATCH', 'POST']);
const GROUPS = /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/Microsoft\.ContainerInstance\/containerGroups$/i;
const GROUP = /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/Microsoft\.ContainerInstance\/containerGroups\/([^/]+)(\/.*)?$/i;
const OPERATION = /^\/subscriptions\/[^/]+\/providers\/Microsoft\.ContainerInstance\/locations\/[^/]+\/operations\/([^/]+)$/i;

export interface FakeArmOptions {
  /** The program each "container" runs (a ProcessRuntime underneath plays ACI's hosts). */
  workerEntry: string;
  /** Other images, each played by a local command (the stack's worker image runs workerEntry). */
  images?: Record<string, string[]>;
  logDir: string;
  /** How long ACI takes to deploy a group, per create. */
  createLatencyMs?: () => number;
  /** Answer this request with 429 and this Retry-After (seconds), or not (null). */
  throttle?: (method: string, path: string) => number | null;
  /**
   * ARM's throttling of writes (PUT, PATCH, POST): a token bucket per subscription and region,
   * 200 deep and refilled at 10 a second (https://learn.microsoft.com/azure/azure-resource-manager/management/request-limits-and-throttling,
   * "Regional throttling and token bucket algorithm"). A write that finds it empty is answered 429
   * with Retry-After, the seconds until the next token. Deletes have a bucket of their own there;
   * they are not limited here.
   */
  writeBucket?: TokenBucketOptions;
  /**
   * Azure Monitor's behaviour: samples averaged per grain (60 s there), and a grain reported
   * only this long after it closed (minutes there). Default: every sample at once, as taken.
   */
  metricsGrainMs?: number;
  metricsDelayMs?: number;
  /**
   * A create ARM refuses at once: the status and the ARM error body `{ error: { code, message } }`
   * (the spec's CloudError). Null: accepted.
   */
  createError?: (name: string, image: string) => { status: number; code: string; message: string } | null;
  /**
   * A group whose provisioning fails after ARM accepted it, at the end of its create latency:
   * the event ACI records (name and message). No source shows such a group's body; the form
   * is the spec's ContainerGroupsGet_Failed example's, with the failure as a Warning event.
   */
  provisioningFailure?: (name: string, image: string) => { name: string; message: string } | null;
  /** Requests this fake never answers (a hung ARM call), by method and path. */
  hang?: (method: string, path: string) => boolean;
  /** Answers a request with a recorded response instead (an SDK recording's entry), or not (null). */
  replay?: (method: string, path: string) => { status: number; body: unknown } | null;
  /** ACI's quotas in the region (fake-arm-quota.ts); none are enforced without this. */
  quota?: FakeQuotaOptions;
}

interface FakeGroup {
  name: string;
  body: Record<string, unknown>;
  provisioningState: 'Pending' | 'Succeeded' | 'Failed';
  startedAt: string | null;
  /** Set by a stop of a running group: its containers are recycled, their view gone. */
  stoppedAt: string | null;
  /** The logs ACI keeps of a stopped group: the last 16 KB or 1,000 lines. */
  stoppedLogs: string | null;
  failure: { name: string; message: string; at: string } | null;
}

// What a stopped group keeps of its log (the citation of Learn: container-instances-resource-and-quota-limits).
const STOPPED_LOG_BYTES = 16 * 1024;
const STOPPED_LOG_LINES = 1000;

/**
 * A local HTTPS fake of the ARM endpoints the adapters use: container groups (PUT as a
 * long-running operation with Azure-AsyncOperation, GET, list, DELETE, stop, logs) and Azure
 * Monitor metrics. Every PUT body is validated against Azure's published spec; an invalid one
 * is refused with 400 as ARM would, and recorded. Each group's container really runs.
 */
export class FakeArm {
  readonly requests: { method: string; path: string; status: number }[] = [];
  readonly invalidBodies: string[] = [];
  readonly putBodies: Record<string, unknown>[] = [];
  /** How many times each group was created: exactly once per task is the point. */
  readonly creates = new Map<string, number>();
  /** When each group's container started (ms since the epoch): its create latency after the PUT. */
  readonly deployedAt = new Map<string, number>();
  /** When each write the bucket let through arrived (ms since the epoch), and how many it refused. */
  readonly acceptedWrites: number[] = [];
  throttledWrites = 0;
  private readonly writeBucket: TokenBucket | null;
  /** The region's quotas (groups, cores, usage read, create budget headers), when the test asks for them. */
  readonly quota: FakeQuota | null;
  readonly engine: ProcessRuntime;
  private readonly groups = new Map<string, FakeGroup>();
  private readonly operations = new Map<string, { group: string; readyAt: number }>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly hung = new Set<ServerResponse>();
  private server!: Server;
  private ca!: string;
  endpoint = '';

  constructor(private readonly options: FakeArmOptions) {
    this.engine = new ProcessRuntime({ workerEntry: options.workerEntry, dir: options.logDir, metricsIntervalMs: 100 });
    this.writeBucket = options.writeBucket ? new TokenBucket(options.writeBucket) : null;
    this.quota = options.quota ? new FakeQuota(options.quota) : null;
  }

  /** The most groups that existed at once (each counted from its PUT to its DELETE). */
  peakGroups = 0;

  /** The most writes let through in any one second. */
  peakWritesPerSecond(): number {
    let peak = 0;
    for (let first = 0, last = 0; last < this.acceptedWrites.length; last++) {
      while (this.acceptedWrites[last]! - this.acceptedWrites[first]! >= 1000) first++;
      peak = Math.max(peak, last - first + 1);
    }
    return peak;
  }

  async start(): Promise<void> {
    const pems = await generate([{ name: 'commonName', value: '127.0.0.1' }], {
      keySize: 2048,
      extensions: [{ name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }] }],
    });
    this.ca = pems.cert;
    this.server = createServer({ key: pems.private, cert: pems.cert }, (req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.endpoint = `https://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer);
    for (const res of this.hung) res.destroy();
    await this.engine.close();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** A credential the SDKs accept (any TokenCredential works with ARM's bearer policy). */
  credential(): TokenCredential {
    return { getToken: async () => ({ token: TOKEN, expiresOnTimestamp: Date.now() + 3600_000 }) };
  }

  /** Makes an SDK client trust this fake's self-signed certificate, and nothing else changes. */
  trustPolicy(): PipelinePolicy {
    const agent = new Agent({ ca: this.ca, keepAlive: true });
    return {
      name: 'trustFakeArm',
      sendRequest: (request, next) => {
        request.agent = agent;
        return next(request);
      },
    };
  }

  /** GETs a path from this fake as a client would (for checking its answers). */
  async getJson(path: string): Promise<unknown> {
    const agent = new Agent({ ca: this.ca });
    return new Promise((resolve, reject) => {
      const request = httpsGet(`${this.endpoint}${path}`, { agent, headers: { authorization: `Bearer ${TOKEN}` } }, (res) => {
        let text = '';
        res.on('data', (chunk) => (text += chunk));
        res.on('end', () => resolve(JSON.parse(text)));
      });
      request.on('error', reject);
    });
  }

  groupNames(): string[] {
    return [...this.groups.keys()];
  }

  /** Every group that exists, with the cores it asked for: what ACI's quotas count. */
  private heldGroups(): HeldGroup[] {
    return [...this.groups.values()].map((g) => ({ cpu: containersOf(g.body).reduce((sum, c) => sum + c.properties.resources.requests.cpu, 0) }));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // Joined, not resolved: a path that starts with // must stay a path (and find no route).
    const url = new URL(`${this.endpoint}${req.url ?? '/'}`);
    const send = (status: number, body?: unknown, headers: Record<string, string> = {}) => {
      this.requests.push({ method: req.method ?? '', path: url.pathname, status });
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(body === undefined ? undefined : JSON.stringify(body));
    };
    const error = (status: number, code: string, message: string, headers: Record<string, string> = {}) =>
      send(status, { error: { code, message } }, headers);
    try {
      if (req.headers.authorization !== `Bearer ${TOKEN}`) return error(401, 'AuthenticationFailed', 'no valid bearer token');
      const replayed = this.options.replay?.(req.method ?? '', url.pathname);
      if (replayed) return send(replayed.status, replayed.body);
      if (this.options.hang?.(req.method ?? '', url.pathname)) {
        this.requests.push({ method: req.method ?? '', path: url.pathname, status: 0 });
        this.hung.add(res);
        return;
      }
      const retryAfter = this.options.throttle?.(req.method ?? '', url.pathname) ?? null;
      if (retryAfter !== null) {
        return error(429, 'TooManyRequests', 'throttled by the fake', { 'retry-after': String(retryAfter) });
      }
      if (this.writeBucket && WRITE_METHODS.has(req.method ?? '')) {
        const waitMs = this.writeBucket.take();
        if (waitMs > 0) {
          this.throttledWrites++;
          return error(429, 'TooManyRequests', 'the subscription write bucket is empty', { 'retry-after': String(Math.ceil(waitMs / 1000)) });
        }
        this.acceptedWrites.push(Date.now());
      }
      const body = await readBody(req);

      const operation = OPERATION.exec(url.pathname);
      if (operation && req.method === 'GET') {
        const op = this.operations.get(operation[1]!);
        if (!op) return error(404, 'NotFound', 'no such operation');
        // As the create recording's operation GETs: { id, status: "Pending", startTime, properties }.
        const group = this.groups.get(op.group);
        const done = Date.now() >= op.readyAt;
        const status = !done ? 'Pending' : group?.provisioningState === 'Failed' ? 'Failed' : 'Succeeded';
        return send(200, {
          id: url.pathname,
          status,
          startTime: new Date(op.readyAt).toISOString(),
          properties: { events: [] },
          ...(status === 'Failed' ? { error: { code: 'ContainerGroupProvisioningFailed', message: group?.failure?.message ?? '' } } : {}),
        });
      }
      // Quota: the region's usage read (fake-arm-quota.ts).
      if (this.quota && USAGES.test(url.pathname) && req.method === 'GET') {
        const answer = this.quota.usages(this.heldGroups());
        return send(answer.status, answer.body);
      }
      const list = GROUPS.exec(url.pathname);
      if (list && req.method === 'GET') {
        return send(200, { value: [...this.groups.values()].map((g) => this.listView(g)) });
      }
      const match = GROUP.exec(url.pathname);
      if (!match) return error(404, 'NotFound', `no route ${req.method} ${url.pathname}`);
      const [, subscription, resourceGroup, name, rest = ''] = match;
      const group = this.groups.get(name!);

      if (rest.toLowerCase() === '/providers/microsoft.insights/metrics' && req.method === 'GET') {
        if (!group) return error(404, 'ResourceNotFound', `container group ${name} not found`);
        return send(200, await this.metricsView(name!, url));
      }
      if (rest === '' && req.method === 'PUT') {
        const validators = containerGroupValidators();
        this.putBodies.push(body);
        if (!validators.request(body)) {
          const reason = describeErrors(validators.request);
          this.invalidBodies.push(reason);
          return error(400, 'InvalidRequestContent', reason);
        }
        // Quota: a create past the region's groups or cores is refused (fake-arm-quota.ts).
        const location = (body.location as string) ?? 'westus';
        if (this.quota && !group) {
          const refusal = this.quota.refuseCreate(location, containersOf(body).reduce((sum, c) => sum + c.properties.resources.requests.cpu, 0), this.heldGroups());
          if (refusal) return send(refusal.status, refusal.body);
        }
        const refused = this.options.createError?.(name!, imageOf(body));
        if (refused) return error(refused.status, refused.code, refused.message);
        this.creates.set(name!, (this.creates.get(name!) ?? 0) + 1);
        const created: FakeGroup = { name: name!, body, provisioningState: 'Pending', startedAt: null, stoppedAt: null, stoppedLogs: null, failure: null };
        this.groups.set(name!, created);
        const opId = randomUUID();
        const readyAt = Date.now() + (this.options.createLatencyMs?.() ?? 0);
        this.operations.set(opId, { group: name!, readyAt });
        const timer = setTimeout(() => {
          this.timers.delete(timer);
          void this.deploy(created);
        }, Math.max(0, readyAt - Date.now()));
        this.timers.add(timer);
        const asyncOperation = `${this.endpoint}/subscriptions/${subscription}/providers/Microsoft.ContainerInstance/locations/${location}/operations/${opId}?api-version=2023-05-01`;
        this.peakGroups = Math.max(this.peakGroups, this.groups.size);
        return send(201, await this.groupView(created, resourceGroup!, subscription!), { 'azure-asyncoperation': asyncOperation, ...this.quota?.createHeaders() });
      }
      if (!group) return error(404, 'ResourceNotFound', `container group ${name} not found`);
      if (rest === '' && req.method === 'GET') return send(200, await this.groupView(group, resourceGroup!, subscription!));
      if (rest === '' && req.method === 'DELETE') {
        const view = await this.groupView(group, resourceGroup!, subscription!);
        this.groups.delete(name!);
        await this.engine.delete(name!);
        return send(200, view, { ...this.quota?.deleteHeaders() });
      }
      if (rest === '' && req.method === 'PATCH') {
        // ContainerGroups_Update: tags only.
        if (body.tags !== undefined) group.body = { ...group.body, tags: body.tags };
        return send(200, await this.groupView(group, resourceGroup!, subscription!));
      }
      if (rest === '/stop' && req.method === 'POST') {
        // A stop recycles a running (or provisioning) group's containers and keeps no container
        // state; it does nothing to a group that already ran to its end (Learn: container-instances-stop-start).
        const status = await this.engine.status(name!);
        if (!group.stoppedAt && (!status || status.state === 'Running') && group.provisioningState !== 'Failed') {
          group.stoppedLogs = keepOfStoppedLog((await this.engine.logs(name!)) ?? '');
          await this.engine.stop(name!, 'timeout');
          group.stoppedAt = new Date().toISOString();
        }
        return send(204);
      }
      const logs = /^\/containers\/([^/]+)\/logs$/.exec(rest);
      if (logs && req.method === 'GET') return send(200, { content: group.stoppedLogs ?? (await this.engine.logs(name!)) ?? '' });
      return error(404, 'NotFound', `no route ${req.method} ${url.pathname}`);
    } catch (cause) {
      return error(500, 'InternalError', String(cause));
    }
  }

  /** ACI has pulled the image: the container starts with the environment the PUT gave it. */
  private async deploy(group: FakeGroup): Promise<void> {
    if (this.groups.get(group.name) !== group || group.stoppedAt) return;
    const failure = this.options.provisioningFailure?.(group.name, imageOf(group.body));
    if (failure) {
      group.failure = { ...failure, at: new Date().toISOString() };
      group.provisioningState = 'Failed';
      return;
    }
    const container = containersOf(group.body)[0]!;
    const env: Record<string, string> = {};
    for (const variable of container.properties.environmentVariables ?? []) {
      env[variable.name] = variable.value ?? variable.secureValue ?? '';
    }
    const requests = container.properties.resources.requests;
    const image = (container.properties as { image?: string }).image ?? '';
    await this.engine.start({
      name: group.name,
      jobId: String((group.body.tags as Record<string, string> | undefined)?.['job-id'] ?? ''),
      env,
      secureEnv: [],
      cpu: requests.cpu,
      memoryGb: requests.memoryInGB,
      image: null,
      registry: null,
      command: this.options.images?.[image] ?? null,
    });
    group.startedAt = new Date().toISOString();
    group.provisioningState = 'Succeeded';
    this.deployedAt.set(group.name, Date.now());
  }

  private listView(group: FakeGroup): Record<string, unknown> {
    const { properties, ...rest } = group.body as { properties: Record<string, unknown> };
    return { ...rest, name: group.name, type: 'Microsoft.ContainerInstance/containerGroups', properties: { ...properties, provisioningState: group.provisioningState } };
  }

  /**
   * A GET response shaped as the SDK recordings and the spec's ContainerGroupsGet examples,
   * secure values withheld. Provisioning: `Pending`, no container view (the create
   * recording's 201 body). Running or ended: the container's currentState. Stopped: the
   * group's state `Stopped` and no container view (Learn: a stop recycles the containers and
   * keeps no state). Provisioning failed: `Failed`, a Waiting container with the failure as an
   * event (no source: the ContainerGroupsGet_Failed example's form).
   */
  private async groupView(group: FakeGroup, resourceGroup: string, subscription: string): Promise<Record<string, unknown>> {
    const status = group.provisioningState === 'Succeeded' && !group.stoppedAt ? await this.engine.status(group.name) : null;
    const body = group.body as { properties: Record<string, unknown> } & Record<string, unknown>;
    const instanceViewOf = (): Record<string, unknown> | undefined => {
      if (group.failure) {
        const event = { count: 1, firstTimestamp: group.failure.at, lastTimestamp: group.failure.at, name: group.failure.name, message: group.failure.message, type: 'Warning' };
        return { restartCount: 0, currentState: { state: 'Waiting', detailStatus: group.failure.name }, events: [event] };
      }
      if (!status) return undefined;
      return {
        restartCount: 0,
        currentState:
          status.state === 'Running'
            ? { state: 'Running', startTime: status.startedAt, detailStatus: '' }
            : { state: 'Terminated', startTime: status.startedAt, finishTime: status.finishedAt, exitCode: status.exitCode, detailStatus: 'Completed' },
        events: [],
      };
    };
    const containers = containersOf(group.body).map((c) => {
      const instanceView = instanceViewOf();
      return {
        name: c.name,
        properties: {
          ...c.properties,
          environmentVariables: (c.properties.environmentVariables ?? []).map(({ name, value }) => (value === undefined ? { name } : { name, value })),
          ...(instanceView ? { instanceView } : {}),
        },
      };
    });
    const groupState = group.stoppedAt
      ? 'Stopped'
      : group.provisioningState !== 'Succeeded' || !status
        ? 'Pending'
        : status.state === 'Running'
          ? 'Running'
          : status.state;
    return {
      ...body,
      id: `/subscriptions/${subscription}/resourceGroups/${resourceGroup}/providers/Microsoft.ContainerInstance/containerGroups/${group.name}`,
      name: group.name,
      type: 'Microsoft.ContainerInstance/containerGroups',
      properties: {
        ...body.properties,
        containers,
        provisioningState: group.provisioningState,
        instanceView: { events: [], state: groupState },
      },
    };
  }

  private async metricsView(name: string, url: URL): Promise<Record<string, unknown>> {
    const status = await this.engine.status(name);
    const samples = this.asMonitorReports((await this.engine.metrics(name)) ?? { cpu: [], memory: [] }, status?.finishedAt ?? null);
    const wanted = (url.searchParams.get('metricnames') ?? '').split(',');
    const metric = (metricName: string, unit: string, points: { t: string; v: number }[]) => ({
      id: `${url.pathname}/${metricName}`,
      type: 'Microsoft.Insights/metrics',
      name: { value: metricName, localizedValue: metricName },
      unit,
      timeseries: [{ metadatavalues: [], data: points.map((p) => ({ timeStamp: p.t, average: p.v })) }],
    });
    return {
      cost: 0,
      timespan: url.searchParams.get('timespan') ?? '',
      interval: url.searchParams.get('interval') ?? 'PT1M',
      value: [
        ...(wanted.includes('CpuUsage') ? [metric('CpuUsage', 'Count', samples.cpu)] : []),
        ...(wanted.includes('MemoryUsage') ? [metric('MemoryUsage', 'Bytes', samples.memory)] : []),
      ],
    };
  }

  /**
   * As Azure Monitor reports a container: one average per grain for every grain it ran in (the
   * last sample carried into a grain that had none), each grain visible only once it closed
   * and the delay passed.
   */
  private asMonitorReports(series: { cpu: MetricPoint[]; memory: MetricPoint[] }, finishedAt: string | null) {
    const grain = this.options.metricsGrainMs;
    if (!grain) return series;
    const delay = this.options.metricsDelayMs ?? 0;
    const now = Date.now();
    const end = finishedAt ? Date.parse(finishedAt) : now;
    const perGrain = (points: MetricPoint[]): MetricPoint[] => {
      if (points.length === 0) return [];
      const reported: MetricPoint[] = [];
      let last = points[0]!.v;
      for (let start = Math.floor(Date.parse(points[0]!.t) / grain) * grain; start <= end; start += grain) {
        if (start + grain + delay > now) break;
        const inGrain = points.filter((p) => Date.parse(p.t) >= start && Date.parse(p.t) < start + grain).map((p) => p.v);
        if (inGrain.length > 0) last = inGrain.reduce((a, b) => a + b, 0) / inGrain.length;
        reported.push({ t: new Date(start).toISOString(), v: last });
      }
      return reported;
    };
    return { cpu: perGrain(series.cpu), memory: perGrain(series.memory) };
  }
}

interface WireContainer {
  name: string;
  properties: {
    resources: { requests: { cpu: number; memoryInGB: number } };
    environmentVariables?: { name: string; value?: string; secureValue?: string }[];
  } & Record<string, unknown>;
}

function imageOf(body: Record<string, unknown>): string {
  return String((containersOf(body)[0]?.properties as { image?: string } | undefined)?.image ?? '');
}

/** The end of a log as a stopped group keeps it: at most 1,000 lines and 16 KB. */
function keepOfStoppedLog(log: string): string {
  const lines = log.split('\n');
  const kept = lines.slice(-STOPPED_LOG_LINES - (log.endsWith('\n') ? 1 : 0)).join('\n');
  return kept.length > STOPPED_LOG_BYTES ? kept.slice(-STOPPED_LOG_BYTES) : kept;
}

function containersOf(body: Record<string, unknown>): WireContainer[] {
  return ((body.properties as { containers?: WireContainer[] } | undefined)?.containers ?? []) as WireContainer[];
}

async function readBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  return text ? (JSON.parse(text) as Record<string, unknown>) : {};
}
