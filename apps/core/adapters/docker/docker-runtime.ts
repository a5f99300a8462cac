import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import type {
  ContainerEvents,
  ContainerMetrics,
  ContainerRuntime,
  ContainerSpec,
  StopReason,
} from '../../domain/container-runtime.port.js';
import { AppError, errorMessage } from '../../domain/errors.js';
import type { MetricPoint, MetricSeries } from '../../domain/metric-series.js';
import { ContainerSamples, pushSample } from '../container-samples.js';
import { TabledRuntime } from '../container-table.js';
import { logTail } from '../log-tail.js';
import { StopReasons } from '../stop-reasons.js';
import { DockerEngine, DockerEngineError } from './docker-engine.js';
import { demultiplexLogs } from './docker-log-frames.js';
import { millicoresBetween, readUsage, type DockerStats, type UsageReading } from './docker-stats.js';

/** The labels every container of a stack carries: how a restarted stack finds its own. */
export const LABELS = {
  stack: 'event-driven-aci.stack',
  jobId: 'event-driven-aci.job-id',
  name: 'event-driven-aci.container',
} as const;

export interface DockerRuntimeOptions {
  engine: DockerEngine;
  /** This stack's containers carry it as a label; other containers on the engine are left alone. */
  stackId: string;
  /** The image for a spec that names none: the built worker. */
  workerImage: string;
  /** Where each container's samples are kept, so an adopted container keeps its history. */
  dir: string;
  /**
   * `uid:gid` a container with bind mounts runs as: the host user's, so the files it writes
   * there are the user's and SQLite can make its -wal and -shm. Others run as their image says.
   */
  user: string;
  /** Host folders a container gets at the same path (the SQLite store's folder), by spec. */
  bindsFor?: (spec: ContainerSpec) => string[];
  /** Seconds between SIGTERM and SIGKILL on stop. */
  stopGraceSeconds?: number;
  log: (line: string) => void;
}

interface DockerContainer {
  name: string;
  jobId: string | null;
  startedAt: string;
  finishedAt: string | null;
  exitCode: number | null;
  /** 9 when the engine says the kernel's OOM killer ended it; a code alone is the program's exit. */
  signal: number | null;
  stoppedFor: StopReason | null;
  /** Why the engine could not start it (its State.Error), shown after its logs. */
  startError: string | null;
  /** Started by this runtime, so its CPU is counted from its start; otherwise adopted. */
  ownStart: boolean;
  cpu: MetricPoint[];
  memory: MetricPoint[];
  lastReading: UsageReading | null;
}

/** The fields of `GET /containers/{id}/json` used here. */
interface Inspected {
  Created: string;
  Config: { Labels: Record<string, string> | null };
  State: { Status: string; ExitCode: number; Error: string; StartedAt: string; FinishedAt: string; OOMKilled?: boolean };
}

/** The engine's name for a stack's container: names are global on an engine, so the stack's id goes in front. */
export function nameOnEngine(stackId: string, name: string): string {
  return `eda-${stackId}-${name}`;
}

const NO_TIME = '0001-01-01T00:00:00Z';
const RUNNING_STATES = new Set(['running', 'paused', 'restarting']);
const WATCH_RETRY_MS = 1000;
const SIGKILL = 9;

/**
 * Runs each container as a Docker container through the engine's API, as ACI runs a
 * container group: the spec's image (the built worker when it names none), exactly the
 * spec's environment (plus what the image itself sets), CPU and memory limits equal to what
 * ACI would be asked for, and labels that carry the task. A new DockerRuntime on the same
 * stack adopts the containers an earlier one started, as a restarted spawner finds its groups.
 * Containers share the host's network, as the process runtime's do, so a store on localhost
 * is reached as it is named.
 */
export class DockerRuntime extends TabledRuntime<DockerContainer> implements ContainerRuntime, ContainerMetrics, ContainerEvents {
  private readonly samples: ContainerSamples;
  private readonly stopReasons: StopReasons;
  private readonly closing = new AbortController();
  private clampedCpus = new Set<number>();

  private constructor(
    private readonly options: DockerRuntimeOptions,
    private readonly hostCpus: number,
  ) {
    super();
    this.samples = new ContainerSamples(options.dir);
    this.stopReasons = new StopReasons(options.dir);
  }

  /** Checks the engine answers and that the worker image is there, then adopts this stack's containers. */
  static async open(options: DockerRuntimeOptions): Promise<DockerRuntime> {
    await options.engine.ping();
    const info = await options.engine.json<{ NCPU: number }>('GET', '/info');
    await options.engine.json('GET', `/images/${encodeURIComponent(options.workerImage)}/json`);
    const runtime = new DockerRuntime(options, info.body.NCPU);
    await runtime.adopt();
    return runtime;
  }

  async start(spec: ContainerSpec): Promise<{ created: boolean }> {
    if (this.containers.has(spec.name)) return { created: false };
    // Counted as running from now: the consumer takes no more work than it has room for.
    const container = this.track(spec.name, spec.jobId, new Date().toISOString(), true);
    const body = this.createBody(spec);
    try {
      const created = await this.engine.json<{ Warnings?: string[] | null }>('POST', '/containers/create', { query: { name: this.dockerName(spec.name) }, body });
      // A limit the engine cannot apply (no memory cgroup, rootless Docker) is dropped with a warning, not refused.
      for (const warning of created.body.Warnings ?? []) this.options.log(`docker: ${spec.name}: ${warning}`);
    } catch (error) {
      this.containers.delete(spec.name);
      // The name is taken: a start of the same container raced this one, or a runtime before this one made it.
      if (error instanceof DockerEngineError && error.status === 409) {
        await this.adoptOne(spec.name);
        return { created: false };
      }
      if (error instanceof DockerEngineError && error.status === 404) {
        throw new AppError('DOCKER_IMAGE_GONE', `the image ${body.Image} is no longer on the Docker engine (removed since the stack started?): restart the stack to build it again`, { cause: error });
      }
      throw error;
    }
    await this.startMade(container);
    this.watch(container);
    this.sample(container);
    // Its end comes from the engine's wait it already holds (watch), which finishes it in the table.
    if (!container.startError) this.containers.started(container);
    return { created: true };
  }

  async stop(name: string, reason: StopReason): Promise<void> {
    const container = this.containers.get(name);
    if (!container || container.finishedAt) return;
    // Recorded before the stop: the engine's code for it (143, 137) reads as the program's otherwise.
    this.stopReasons.write(name, reason);
    container.stoppedFor = reason;
    try {
      // 304: it had already stopped. The engine sends SIGTERM, then SIGKILL after `t` seconds.
      await this.engine.json('POST', `/containers/${this.dockerName(name)}/stop`, { query: { t: this.options.stopGraceSeconds ?? 5 }, accept: [304] });
    } catch (error) {
      if (!(error instanceof DockerEngineError && error.status === 404)) throw error;
    }
    while (!container.finishedAt) await this.waitForExit(100);
  }

  /** Stops every running container for a shutdown: nothing is left running when the stack stops. */
  async stopAll(): Promise<void> {
    await Promise.all([...this.containers.keys()].map((name) => this.stop(name, 'shutdown')));
  }

  async delete(name: string): Promise<void> {
    if (!this.containers.has(name)) return;
    // The settle loop deletes only what has ended; a running container is gone with its task.
    await this.stop(name, 'cancel');
    await this.engine.json('DELETE', `/containers/${this.dockerName(name)}`, { query: { force: true }, accept: [404] });
    this.containers.delete(name);
    this.samples.removeSamples(name);
    this.stopReasons.remove(name);
  }

  async logs(name: string): Promise<string | null> {
    const container = this.containers.get(name);
    if (!container) return null;
    const reply = await this.engine.bytes('GET', `/containers/${this.dockerName(name)}/logs`, { query: { stdout: true, stderr: true }, accept: [404] });
    const logs = reply.status === 404 ? '' : logTail(demultiplexLogs(reply.body));
    return container.startError ? `${logs}${logs && !logs.endsWith('\n') ? '\n' : ''}the container could not start: ${container.startError}\n` : logs;
  }

  /** Its stderr alone: the engine keeps each frame's stream, so a failure's reason can be the program's error output. */
  async errorOutput(name: string): Promise<string | null> {
    if (!this.containers.has(name)) return null;
    const reply = await this.engine.bytes('GET', `/containers/${this.dockerName(name)}/logs`, { query: { stdout: false, stderr: true }, accept: [404] });
    return reply.status === 404 ? null : logTail(demultiplexLogs(reply.body));
  }

  async metrics(name: string): Promise<MetricSeries | null> {
    const container = this.containers.get(name);
    return container ? { cpu: [...container.cpu], memory: [...container.memory] } : null;
  }

  /** Stops every running container, then lets go of the engine. */
  async close(): Promise<void> {
    try {
      await this.stopAll();
    } finally {
      // Even when the engine is gone: the watches and stats readers stop trying.
      this.closing.abort();
    }
  }

  private get engine(): DockerEngine {
    return this.options.engine;
  }

  private dockerName(name: string): string {
    return nameOnEngine(this.options.stackId, name);
  }

  private createBody(spec: ContainerSpec): { Image: string } & Record<string, unknown> {
    const cpus = Math.min(spec.cpu, this.hostCpus);
    if (cpus < spec.cpu && !this.clampedCpus.has(spec.cpu)) {
      this.clampedCpus.add(spec.cpu);
      this.options.log(`docker: ${spec.cpu} CPUs asked for, but the engine has ${this.hostCpus}: containers that ask for more get ${this.hostCpus}`);
    }
    const memory = Math.round(spec.memoryGb * 1024 ** 3);
    const binds = this.options.bindsFor?.(spec) ?? [];
    return {
      Image: spec.image ?? this.options.workerImage,
      ...(spec.command ? { Cmd: spec.command } : {}),
      Env: Object.entries(spec.env).map(([key, value]) => `${key}=${value}`),
      ...(binds.length > 0 ? { User: this.options.user } : {}),
      Labels: { [LABELS.stack]: this.options.stackId, [LABELS.jobId]: spec.jobId, [LABELS.name]: spec.name },
      HostConfig: {
        NanoCpus: Math.round(cpus * 1e9),
        Memory: memory,
        // No swap beyond the limit: a container gets the memory it asked for, as on ACI.
        MemorySwap: memory,
        Binds: binds.map((folder) => `${folder}:${folder}`),
        NetworkMode: 'host',
        // A small init as PID 1 passes a stop's SIGTERM on: a program that sets no handler of its
        // own (Node's default) then ends at once, as a process does, rather than after the grace.
        Init: true,
      },
    };
  }

  /** Starts a container that exists; one that cannot run (its program is missing, say) has ended, with the engine's reason. */
  private async startMade(container: DockerContainer): Promise<void> {
    try {
      // 304: it was started already.
      await this.engine.json('POST', `/containers/${this.dockerName(container.name)}/start`, { accept: [304] });
      // Its program runs from about now: the time before the create would count the create too.
      if (container.ownStart) container.startedAt = new Date().toISOString();
    } catch (error) {
      container.startError = errorMessage(error);
    }
  }

  private track(name: string, jobId: string | null, startedAt: string, ownStart: boolean): DockerContainer {
    const container: DockerContainer = {
      name,
      jobId,
      startedAt,
      finishedAt: null,
      exitCode: null,
      signal: null,
      stoppedFor: this.stopReasons.read(name),
      startError: null,
      ownStart,
      cpu: [],
      memory: [],
      lastReading: null,
    };
    this.containers.set(name, container);
    return container;
  }

  /** Finds the containers this stack's earlier runtimes started: running ones are watched again. */
  private async adopt(): Promise<void> {
    const filters = JSON.stringify({ label: [`${LABELS.stack}=${this.options.stackId}`] });
    const found = await this.engine.json<{ Labels: Record<string, string> }[]>('GET', '/containers/json', { query: { all: true, filters } });
    for (const summary of found.body) {
      const name = summary.Labels[LABELS.name];
      if (name) await this.adoptOne(name);
    }
  }

  private async adoptOne(name: string): Promise<void> {
    if (this.containers.has(name)) return;
    const inspected = await this.inspect(name);
    if (!inspected) return;
    const container = this.track(name, inspected.Config.Labels?.[LABELS.jobId] ?? null, startedAtOf(inspected), false);
    const saved = this.samples.samples(name);
    container.cpu = saved.cpu;
    container.memory = saved.memory;
    if (inspected.State.Status === 'created') {
      if (inspected.State.Error) container.startError = inspected.State.Error;
      // Made, never started: the runtime before this one stopped between the two. Its start is
      // this one's to make (a redelivered message finds the name taken and starts nothing).
      else await this.startMade(container);
    }
    this.watch(container);
    this.sample(container);
  }

  private async inspect(name: string): Promise<Inspected | null> {
    const reply = await this.engine.json<Inspected>('GET', `/containers/${this.dockerName(name)}/json`, { accept: [404] });
    return reply.status === 404 ? null : reply.body;
  }

  /**
   * Waits on the engine until the container is not running, then records how it ended. A
   * wait cut off (the engine restarted) is made again; a container gone without an end seen
   * was lost, which is the platform's fault, never the task's.
   */
  private watch(container: DockerContainer): void {
    const run = async () => {
      while (!container.finishedAt && !this.closing.signal.aborted) {
        try {
          await this.engine.json('POST', `/containers/${this.dockerName(container.name)}/wait`, {
            query: { condition: 'not-running' },
            signal: this.closing.signal,
          });
          const inspected = await this.inspect(container.name);
          if (!inspected) return this.containers.finish(container, null);
          if (RUNNING_STATES.has(inspected.State.Status)) continue;
          if (inspected.State.Status === 'created' && !container.startError && !inspected.State.Error) {
            // Made, not yet started (a start in flight elsewhere): look again shortly.
            await sleep(WATCH_RETRY_MS, undefined, { signal: this.closing.signal });
            continue;
          }
          const finishedAt = inspected.State.FinishedAt !== NO_TIME ? inspected.State.FinishedAt : new Date().toISOString();
          const exitCode = inspected.State.Status === 'created' ? (inspected.State.ExitCode || 127) : inspected.State.ExitCode;
          // The engine's word that the kernel killed it; any other code is the program's (or its init's) exit.
          container.signal = inspected.State.OOMKilled ? SIGKILL : null;
          return this.containers.finish(container, exitCode, finishedAt);
        } catch (error) {
          if (this.closing.signal.aborted) return;
          if (error instanceof DockerEngineError && error.status === 404) return this.containers.finish(container, null);
          this.options.log(`docker: watching ${container.name}: ${errorMessage(error)}; trying again`);
          await sleep(WATCH_RETRY_MS, undefined, { signal: this.closing.signal }).catch(() => {});
        }
      }
    };
    void run();
  }

  /**
   * CPU and memory from the engine's stats stream, which sends a reading about once a second
   * while the container runs and ends when it stops. A stream cut off early is opened again.
   */
  private sample(container: DockerContainer): void {
    const run = async () => {
      while (!container.finishedAt && !this.closing.signal.aborted) {
        try {
          const response = await this.engine.stream('GET', `/containers/${this.dockerName(container.name)}/stats`, {
            query: { stream: true },
            signal: this.closing.signal,
          });
          for await (const line of createInterface({ input: response, crlfDelay: Infinity })) {
            // The engine goes on sending empty readings for a stopped container until it is removed.
            if (container.finishedAt) break;
            if (line.trim()) this.record(container, JSON.parse(line) as DockerStats);
          }
          response.destroy();
        } catch (error) {
          if (this.closing.signal.aborted || (error instanceof DockerEngineError && error.status === 404)) return;
          if (!container.finishedAt) this.options.log(`docker: reading the stats of ${container.name}: ${errorMessage(error)}`);
        }
        // Ended: the container stopped (its watch records that), or the engine cut the stream.
        if (container.finishedAt) return;
        await sleep(WATCH_RETRY_MS, undefined, { signal: this.closing.signal }).catch(() => {});
      }
    };
    void run();
  }

  private record(container: DockerContainer, stats: DockerStats): void {
    const reading = readUsage(stats);
    if (!reading || container.finishedAt) return;
    // CPU is counted from the container's start for one this runtime started; an adopted
    // one's first reading has no interval to measure over.
    const before = container.lastReading ?? (container.ownStart ? { at: Date.parse(container.startedAt), cpuNanoseconds: 0, memoryBytes: 0 } : null);
    const t = new Date(reading.at).toISOString();
    const cpu = before ? millicoresBetween(before, reading) : 0;
    pushSample(container.cpu, { t, v: cpu });
    pushSample(container.memory, { t, v: reading.memoryBytes });
    this.samples.appendSample(container.name, t, cpu, reading.memoryBytes);
    container.lastReading = reading;
  }
}

function startedAtOf(inspected: Inspected): string {
  return inspected.State.StartedAt && inspected.State.StartedAt !== NO_TIME ? inspected.State.StartedAt : inspected.Created;
}

