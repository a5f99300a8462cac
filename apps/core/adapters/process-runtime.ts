import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { appendFileSync, closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { constants } from 'node:os';
import { join } from 'node:path';
import type {
  ContainerMetrics,
  ContainerRuntime,
  ContainerSpec,
  ContainerStatus,
} from '../domain/container-runtime.port.js';
import type { MetricPoint, MetricSeries } from '../domain/job-store.port.js';
import { waitForEvent } from '../wait-for-event.js';

export interface ProcessRuntimeOptions {
  /** The built worker (JavaScript): a task starts without compiling anything. */
  workerEntry: string;
  /** Where each container's stdout and stderr are kept, one file per container. */
  logDir: string;
  /** How often CPU and memory are sampled while a container runs. */
  metricsIntervalMs: number;
  /** Milliseconds between SIGTERM and SIGKILL on stop. */
  stopGraceMs?: number;
}

interface ProcessContainer {
  child: ChildProcess;
  logFile: string;
  startedAt: string;
  finishedAt: string | null;
  exitCode: number | null;
  exited: Promise<void>;
  cpu: MetricPoint[];
  memory: MetricPoint[];
  lastCpuTicks: number;
  lastSampleAt: number;
}

// Enough for a long task sampled every second for an hour; older samples are dropped first.
const MAX_SAMPLES = 3600;
// Logs are served from the tail: the same idea as ACI, which keeps the end of the output.
const MAX_LOG_BYTES = 256 * 1024;
const CLOCK_TICKS_PER_SECOND = 100; // USER_HZ on Linux, fixed by the kernel ABI
const SIGNAL_EXIT_BASE = 128;

/**
 * Runs each container as one child process of this Node.js, with exactly the environment
 * the spec gives (nothing inherited), output appended to a file, and CPU and memory sampled
 * from /proc while it runs. Containers are forgotten when this process exits; the reaper
 * copies logs and metrics to the store before it deletes them.
 */
export class ProcessRuntime implements ContainerRuntime, ContainerMetrics {
  private readonly containers = new Map<string, ProcessContainer>();
  private readonly exits = new EventEmitter();
  private sampler: NodeJS.Timeout | null = null;

  constructor(private readonly options: ProcessRuntimeOptions) {
    if (!existsSync(options.workerEntry)) {
      throw new Error(`the worker is not built: ${options.workerEntry} is missing (run "npm run build")`);
    }
    mkdirSync(options.logDir, { recursive: true });
    this.exits.setMaxListeners(0);
  }

  async start(spec: ContainerSpec): Promise<{ created: boolean }> {
    if (this.containers.has(spec.name)) return { created: false };
    const logFile = join(this.options.logDir, `${spec.name}.log`);
    const fd = openSync(logFile, 'a');
    let child: ChildProcess;
    try {
      child = spawn(process.execPath, [this.options.workerEntry], {
        env: spec.env,
        stdio: ['ignore', fd, fd],
      });
    } finally {
      closeSync(fd);
    }
    const container: ProcessContainer = {
      child,
      logFile,
      startedAt: new Date().toISOString(),
      finishedAt: null,
      exitCode: null,
      exited: new Promise<void>((resolve) => {
        child.once('exit', (code, signal) => {
          container.exitCode = code ?? SIGNAL_EXIT_BASE + signalNumber(signal);
          container.finishedAt = new Date().toISOString();
          resolve();
          this.exits.emit('exit', spec.name);
        });
        // Only when the process could not be started at all; its reason goes to the log.
        child.once('error', (error) => {
          if (container.exitCode !== null) return;
          appendFileSync(logFile, `could not start the worker process: ${error.message}\n`);
          container.exitCode = 127;
          container.finishedAt = new Date().toISOString();
          resolve();
          this.exits.emit('exit', spec.name);
        });
      }),
      cpu: [],
      memory: [],
      lastCpuTicks: 0,
      lastSampleAt: Date.now(),
    };
    this.containers.set(spec.name, container);
    this.sample(container);
    this.ensureSampler();
    return { created: true };
  }

  async status(name: string): Promise<ContainerStatus | null> {
    const container = this.containers.get(name);
    return container ? toStatus(name, container) : null;
  }

  async list(): Promise<ContainerStatus[]> {
    return [...this.containers].map(([name, container]) => toStatus(name, container));
  }

  runningCount(): number {
    let running = 0;
    for (const container of this.containers.values()) if (container.exitCode === null) running++;
    return running;
  }

  /** Resolves when any container exits, or after `timeoutMs`. */
  waitForExit(timeoutMs: number): Promise<void> {
    return waitForEvent(this.exits, 'exit', timeoutMs);
  }

  async stop(name: string): Promise<void> {
    const container = this.containers.get(name);
    if (!container || container.exitCode !== null) return;
    container.child.kill('SIGTERM');
    const killer = setTimeout(() => container.child.kill('SIGKILL'), this.options.stopGraceMs ?? 5000);
    await container.exited;
    clearTimeout(killer);
  }

  /** Stops every running container: nothing is left behind when the stack stops. */
  async stopAll(): Promise<void> {
    await Promise.all([...this.containers.keys()].map((name) => this.stop(name)));
  }

  async delete(name: string): Promise<void> {
    const container = this.containers.get(name);
    if (!container) return;
    await this.stop(name);
    this.containers.delete(name);
    rmSync(container.logFile, { force: true });
  }

  async logs(name: string): Promise<string | null> {
    const container = this.containers.get(name);
    if (!container) return null;
    return readTail(container.logFile, MAX_LOG_BYTES);
  }

  async metrics(name: string): Promise<MetricSeries | null> {
    const container = this.containers.get(name);
    return container ? { cpu: [...container.cpu], memory: [...container.memory] } : null;
  }

  async close(): Promise<void> {
    await this.stopAll();
    if (this.sampler) clearInterval(this.sampler);
    this.sampler = null;
  }

  private ensureSampler(): void {
    if (this.sampler) return;
    this.sampler = setInterval(() => {
      let running = 0;
      for (const container of this.containers.values()) {
        if (container.exitCode !== null) continue;
        running++;
        this.sample(container);
      }
      if (running === 0 && this.sampler) {
        clearInterval(this.sampler);
        this.sampler = null;
      }
    }, this.options.metricsIntervalMs);
    this.sampler.unref();
  }

  private sample(container: ProcessContainer): void {
    const pid = container.child.pid;
    if (pid === undefined) return;
    const usage = readProcUsage(pid);
    if (!usage) return;
    const now = Date.now();
    const t = new Date(now).toISOString();
    const elapsedSeconds = Math.max((now - container.lastSampleAt) / 1000, 0.001);
    const cpuSeconds = (usage.cpuTicks - container.lastCpuTicks) / CLOCK_TICKS_PER_SECOND;
    push(container.cpu, { t, v: Math.round((cpuSeconds / elapsedSeconds) * 1000) });
    push(container.memory, { t, v: usage.rssBytes });
    container.lastCpuTicks = usage.cpuTicks;
    container.lastSampleAt = now;
  }
}

function toStatus(name: string, container: ProcessContainer): ContainerStatus {
  const state = container.exitCode === null ? 'Running' : container.exitCode === 0 ? 'Succeeded' : 'Failed';
  return {
    name,
    state,
    exitCode: container.exitCode,
    startedAt: container.startedAt,
    finishedAt: container.finishedAt,
  };
}

function push(series: MetricPoint[], point: MetricPoint): void {
  series.push(point);
  if (series.length > MAX_SAMPLES) series.shift();
}

/** CPU time and resident memory of a process, from Linux's /proc; null elsewhere or once gone. */
function readProcUsage(pid: number): { cpuTicks: number; rssBytes: number } | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces; fields after its closing paren are fixed.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const cpuTicks = Number(fields[11]) + Number(fields[12]); // utime + stime
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
    return { cpuTicks, rssBytes: rssKb * 1024 };
  } catch {
    return null;
  }
}

async function readTail(file: string, maxBytes: number): Promise<string> {
  if (!existsSync(file)) return '';
  const size = statSync(file).size;
  const start = Math.max(0, size - maxBytes);
  const handle = await open(file, 'r');
  try {
    const buffer = Buffer.alloc(size - start);
    await handle.read(buffer, 0, buffer.length, start);
    const text = buffer.toString('utf8');
    return start > 0 ? `[earlier output truncated]\n${text}` : text;
  } finally {
    await handle.close();
  }
}

function signalNumber(signal: NodeJS.Signals | null): number {
  return signal ? (constants.signals[signal] ?? 0) : 0;
}
