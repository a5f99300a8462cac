import { spawn } from 'node:child_process';
import { appendFileSync, closeSync, existsSync, openSync, statSync, watch, type FSWatcher } from 'node:fs';
import { open } from 'node:fs/promises';
import type {
  ContainerEvents,
  ContainerMetrics,
  ContainerRuntime,
  ContainerSpec,
  StopReason,
  FollowableLogs,
  LogChunk,
} from '../../domain/container-runtime.port.js';
import { AppError } from '../../domain/errors.js';
import type { MetricPoint, MetricSeries } from '../../domain/metric-series.js';
import { pushSample } from '../container-samples.js';
import { TabledRuntime } from '../container-table.js';
import { logTail, MAX_LOG_BYTES } from '../log-tail.js';
import { ContainerFiles } from './container-files.js';
import { exitedWith, killedBy, statusOfExitEvent, supervised, type ExitStatus } from './supervisor.js';
import { StopReasons } from '../stop-reasons.js';
import { readLogFrom } from './log-from.js';
import { CLOCK_TICKS_PER_SECOND, findProcessWithArgument, isSameProcessAlive, processStartTicks, treeUsage } from './proc-usage.js';

export interface ProcessRuntimeOptions {
  /** The built worker (JavaScript), run by this Node.js for a spec with no command of its own. */
  workerEntry: string;
  /** Where a kind's command runs from (its paths are relative to it): the folder `npm start` runs in. */
  cwd?: string;
  /** Where each container's record, output, exit status and samples are kept. */
  dir: string;
  /** How often CPU and memory are sampled, and adopted containers looked at, while they run. */
  metricsIntervalMs: number;
  /** Milliseconds between SIGTERM and SIGKILL on stop. */
  stopGraceMs?: number;
  /**
   * The compiled supervisor (`npm run build` makes dist/supervisor/eda-supervise), which records
   * an exit code and a signal apart. Null or absent: a shell, which cannot (process/supervisor.ts).
   */
  supervisor?: string | null;
  /** Where a fault seen outside any call (a status file that cannot be read) is told. */
  log?: (line: string) => void;
}

class WorkerNotBuiltError extends AppError {
  constructor(path: string) {
    super('WORKER_NOT_BUILT', `the worker is not built: ${path} is missing (run "npm run build")`);
  }
}

interface ProcessContainer {
  name: string;
  jobId: string | null;
  pid: number | null;
  startTicks: number | null;
  startedAt: string;
  finishedAt: string | null;
  /** Null while running, and for a container that was lost (its end never observed). */
  exitCode: number | null;
  signal: number | null;
  stoppedFor: StopReason | null;
  lost: boolean;
  /** This process started it (its exit is an event); otherwise it was adopted after a restart. */
  ownChild: boolean;
  cpu: MetricPoint[];
  memory: MetricPoint[];
  lastCpuTicks: number | null;
  lastSampleAt: number;
}

const SIGKILL = 9;
// What the shell reports of a program it could not start.
const NOT_STARTED = 127;

/**
 * Runs each container as a process of its own session, under a supervisor (process/supervisor.c:
 * it waits for the program and writes its exit code or the signal that ended it to a file, since
 * a process that is not this one's child cannot be waited for), with
 * exactly the environment the spec gives (nothing inherited). It outlives this process, as an
 * ACI container group outlives the spawner: every container is recorded in `dir` (pid, start
 * time from /proc, exit status, output, samples), and a new ProcessRuntime on the same `dir`
 * adopts the ones still running, counts them, samples them and sees them end. Linux only:
 * it reads /proc.
 */
export class ProcessRuntime extends TabledRuntime<ProcessContainer> implements ContainerRuntime, ContainerMetrics, ContainerEvents, FollowableLogs {
  private readonly files: ContainerFiles;
  private readonly stopReasons: StopReasons;
  private sampler: NodeJS.Timeout | null = null;
  /** Ends known here whose status file could not be written yet, by container name. */
  private readonly unwrittenExits = new Map<string, ExitStatus>();
  private folderWatch: FSWatcher | null = null;

  constructor(private readonly options: ProcessRuntimeOptions) {
    super();
    if (!existsSync(options.workerEntry)) throw new WorkerNotBuiltError(options.workerEntry);
    this.files = new ContainerFiles(options.dir);
    this.stopReasons = new StopReasons(options.dir);
    this.adopt();
    this.watchFolder();
  }

  async start(spec: ContainerSpec): Promise<{ created: boolean }> {
    if (this.containers.has(spec.name)) return { created: false };
    const startedAt = new Date().toISOString();
    // Recorded before the spawn: after a crash in between, the record leads to the process.
    this.files.writeRecord({ name: spec.name, jobId: spec.jobId, pid: null, startTicks: null, startedAt });
    const fd = openSync(this.files.log(spec.name), 'a');
    let child;
    try {
      const command = spec.command ?? [process.execPath, this.options.workerEntry];
      const { file, args } = supervised(this.options.supervisor ?? null, this.files.exit(spec.name), Object.hasOwn(spec.env, 'PWD'), command);
      child = spawn(file, args, {
        env: spec.env,
        cwd: this.options.cwd ?? process.cwd(),
        stdio: ['ignore', fd, fd],
        // Its own session and process group: a stop reaches the whole container, and the
        // signals that stop this process (Ctrl-C, a kill of its group) do not.
        detached: true,
      });
    } finally {
      closeSync(fd);
    }
    child.unref();
    const pid = child.pid ?? null;
    const container: ProcessContainer = {
      name: spec.name,
      jobId: spec.jobId,
      pid,
      startTicks: pid === null ? null : startTicksIfReadable(pid),
      // The container's own start: its process exists once spawn returns (the record before it
      // only marks that a start was under way).
      startedAt: pid === null ? startedAt : new Date().toISOString(),
      finishedAt: null,
      exitCode: null,
      signal: null,
      stoppedFor: null,
      lost: false,
      ownChild: true,
      cpu: [],
      memory: [],
      lastCpuTicks: null,
      lastSampleAt: Date.now(),
    };
    this.containers.set(spec.name, container);
    if (pid !== null) {
      try {
        this.files.writeRecord({ name: spec.name, jobId: spec.jobId, pid, startTicks: container.startTicks, startedAt: container.startedAt });
      } catch {
        // The container runs: the first record (no pid) still leads a restart to it by its status file's path.
      }
    }
    child.once('exit', (code, signal) => {
      // The supervisor's own end stands for the program's only where it wrote none (killed with
      // it). A status file that can't be read (EMFILE) or written (ENOSPC, EACCES) just now
      // doesn't escape: the end is kept in memory and written when the disk takes it.
      const written = this.readExitIfPossible(spec.name);
      if (written) return this.end(container, written);
      const status = statusOfExitEvent(code, signal);
      this.keepExit(spec.name, status);
      this.end(container, status);
    });
    // Only when the supervisor could not be started at all; its reason goes to the log.
    child.once('error', (error) => {
      if (container.finishedAt) return;
      try {
        appendFileSync(this.files.log(spec.name), `could not start the container's process: ${error.message}\n`);
      } catch {
        // The log can't be written now: the exit status still says it never ran (127).
      }
      this.keepExit(spec.name, exitedWith(NOT_STARTED));
      this.end(container, exitedWith(NOT_STARTED));
    });
    this.sample(container);
    this.ensureSampler();
    this.containers.started(container);
    return { created: true };
  }

  async stop(name: string, reason: StopReason): Promise<void> {
    const container = this.containers.get(name);
    if (!container || container.finishedAt || container.pid === null) return;
    // Recorded before the signal: the end that follows is this stop's, whoever sees it.
    this.stopReasons.write(name, reason);
    container.stoppedFor = reason;
    const group = -container.pid;
    signal(group, 'SIGTERM');
    const killer = setTimeout(() => signal(group, 'SIGKILL'), this.options.stopGraceMs ?? 5000);
    while (!container.finishedAt) {
      await this.waitForExit(50);
      if (!container.finishedAt && !container.ownChild) {
        try {
          this.look(container, true);
        } catch {
          // Its status can't be read now: looked at again on the next turn.
        }
      }
    }
    clearTimeout(killer);
  }

  /** Stops every running container for a shutdown: nothing is left behind when the stack stops. */
  async stopAll(): Promise<void> {
    await Promise.all([...this.containers.keys()].map((name) => this.stop(name, 'shutdown')));
  }

  async delete(name: string): Promise<void> {
    if (!this.containers.has(name)) return;
    // The settle loop deletes only what has ended; a running container is gone with its task.
    await this.stop(name, 'cancel');
    this.containers.delete(name);
    this.files.remove(name);
  }

  async logs(name: string): Promise<string | null> {
    if (!this.containers.has(name)) return null;
    return readTail(this.files.log(name));
  }

  async logsFrom(name: string, from: number): Promise<LogChunk | null> {
    if (!this.containers.has(name)) return null;
    return readLogFrom(this.files.log(name), from);
  }

  async metrics(name: string): Promise<MetricSeries | null> {
    const container = this.containers.get(name);
    return container ? { cpu: [...container.cpu], memory: [...container.memory] } : null;
  }

  async close(): Promise<void> {
    await this.stopAll();
    if (this.sampler) clearInterval(this.sampler);
    this.sampler = null;
    this.folderWatch?.close();
    this.folderWatch = null;
  }

  /**
   * Word from the containers' folder as files change (inotify: nothing runs while nothing
   * changes): a status file written is an adopted container's end, a log that grew is output.
   * Its own children's ends come from their exit. Where the folder cannot be watched, the
   * sampler's look at each adopted container every `metricsIntervalMs` still sees its end.
   */
  private watchFolder(): void {
    try {
      this.folderWatch = watch(this.options.dir, { persistent: false }, (_type, file) => {
        if (file) this.onFileChanged(file.toString());
      });
      this.folderWatch.on('error', () => {
        this.folderWatch?.close();
        this.folderWatch = null;
      });
    } catch {
      this.folderWatch = null;
    }
  }

  private onFileChanged(file: string): void {
    const dot = file.lastIndexOf('.');
    const container = this.containers.get(file.slice(0, dot));
    if (!container || container.finishedAt) return;
    const suffix = file.slice(dot);
    try {
      if (suffix === '.exit' && !container.ownChild) this.look(container, false);
      else if (suffix === '.log') this.containers.output(container);
    } catch (error) {
      // A disk error reading the status: never thrown out of the watch (it would end the
      // process); the sampler looks at every adopted container again at its next tick.
      this.options.log?.(`process runtime: ${container.name}: ${error instanceof Error ? error.message : String(error)}; looking again at the next sample`);
    }
  }

  /** Finds the containers an earlier process started: running ones are watched again. */
  private adopt(): void {
    for (const record of this.files.records()) {
      let pid = record.pid;
      let startTicks = record.startTicks;
      if (pid === null) {
        // The process died between the record and the spawn's pid: find the spawn, if any.
        pid = findProcessWithArgument(this.files.exit(record.name));
        startTicks = pid === null ? null : processStartTicks(pid);
      }
      const samples = this.files.samples(record.name);
      const container: ProcessContainer = {
        name: record.name,
        jobId: record.jobId ?? null,
        pid,
        startTicks,
        startedAt: record.startedAt,
        finishedAt: null,
        exitCode: null,
        signal: null,
        stoppedFor: this.stopReasons.read(record.name),
        lost: false,
        ownChild: false,
        cpu: samples.cpu,
        memory: samples.memory,
        lastCpuTicks: null,
        lastSampleAt: Date.now(),
      };
      this.containers.set(record.name, container);
      this.look(container, false);
    }
    if (this.runningCount() > 0) this.ensureSampler();
  }

  /** For a container that is not this process's child: has it ended, and how? */
  private look(container: ProcessContainer, stopping: boolean): void {
    // A status that can't be read now is not an end: throw, and the next look tries again.
    const written = this.files.readExit(container.name);
    if (written) return this.end(container, written, written.at);
    if (container.pid !== null && isSameProcessAlive(container.pid, container.startTicks)) return;
    // Gone without a status: the status may land just after the process ends, so look once more.
    const late = this.files.readExit(container.name);
    if (late) return this.end(container, late, late.at);
    if (stopping) {
      // This runtime killed it (SIGKILL reaches the supervisor too): its end is known.
      this.keepExit(container.name, killedBy(SIGKILL));
      return this.end(container, killedBy(SIGKILL));
    }
    container.lost = true;
    this.containers.finish(container, null);
  }

  /**
   * The exit status, or null while none is written or the file can't be read now (EMFILE):
   * an own child's end is known from Node anyway, an adopted one's is looked at again.
   */
  private readExitIfPossible(name: string): ReturnType<ContainerFiles['readExit']> {
    try {
      return this.files.readExit(name);
    } catch {
      return null;
    }
  }

  /**
   * Writes an end the supervisor did not; when the disk refuses (ENOSPC, EACCES, EMFILE) it is
   * kept in memory and written by the sampler when it can. After a crash in between, the
   * container is found without a status: lost, then retried, as any end not written.
   */
  private keepExit(name: string, status: ExitStatus): void {
    try {
      this.files.writeExit(name, status);
      this.unwrittenExits.delete(name);
    } catch {
      this.unwrittenExits.set(name, status);
      this.ensureSampler();
    }
  }

  private writeKeptExits(): void {
    for (const [name, status] of this.unwrittenExits) {
      if (!this.containers.has(name)) this.unwrittenExits.delete(name);
      else this.keepExit(name, status);
    }
  }

  /** Records how the program ended: its code, and the signal where one ended it. */
  private end(container: ProcessContainer, status: ExitStatus, at?: string): void {
    if (container.finishedAt) return;
    container.signal = status.signal;
    this.containers.finish(container, status.exitCode, at);
  }

  private ensureSampler(): void {
    if (this.sampler) return;
    this.sampler = setInterval(() => {
      this.writeKeptExits();
      let running = 0;
      for (const container of this.containers.values()) {
        if (container.finishedAt) continue;
        try {
          if (!container.ownChild) this.look(container, false);
          if (container.finishedAt) continue;
          this.sample(container);
        } catch (error) {
          // A disk error never leaves a timer's callback: this container is looked at again next tick.
          this.options.log?.(`process runtime: ${container.name}: ${error instanceof Error ? error.message : String(error)}`);
        }
        running++;
      }
      if (running === 0 && this.unwrittenExits.size === 0 && this.sampler) {
        clearInterval(this.sampler);
        this.sampler = null;
      }
    }, this.options.metricsIntervalMs);
    this.sampler.unref();
  }

  private sample(container: ProcessContainer): void {
    if (container.pid === null) return;
    let usage;
    try {
      usage = treeUsage(container.pid);
    } catch {
      return; // /proc can't be read now (EMFILE): no sample this turn
    }
    if (!usage) return;
    const now = Date.now();
    const t = new Date(now).toISOString();
    // The first sample after an adoption has no interval to measure CPU over.
    const cpu =
      container.lastCpuTicks === null && !container.ownChild
        ? 0
        : Math.round(((usage.cpuTicks - (container.lastCpuTicks ?? 0)) / CLOCK_TICKS_PER_SECOND / Math.max((now - container.lastSampleAt) / 1000, 0.001)) * 1000);
    pushSample(container.cpu, { t, v: cpu });
    pushSample(container.memory, { t, v: usage.rssBytes });
    try {
      this.files.appendSample(container.name, t, cpu, usage.rssBytes);
    } catch {
      // Kept in memory only: a sample lost to a full disk costs a point on a chart after a restart.
    }
    container.lastCpuTicks = usage.cpuTicks;
    container.lastSampleAt = now;
  }
}

function signal(target: number, name: NodeJS.Signals): void {
  try {
    process.kill(target, name);
  } catch {
    // already gone
  }
}

/** The file's last MAX_LOG_BYTES and one byte more, so that logTail sees whether anything came before. */
async function readTail(file: string): Promise<string> {
  if (!existsSync(file)) return '';
  const size = statSync(file).size;
  const start = Math.max(0, size - MAX_LOG_BYTES - 1);
  const handle = await open(file, 'r');
  try {
    const buffer = Buffer.alloc(size - start);
    await handle.read(buffer, 0, buffer.length, start);
    return logTail(buffer);
  } finally {
    await handle.close();
  }
}

/**
 * A just-spawned process's start time, or null when /proc can't be read now (EMFILE): it is
 * then known by its pid alone, as a container whose record was cut short is.
 */
function startTicksIfReadable(pid: number): number | null {
  try {
    return processStartTicks(pid);
  } catch {
    return null;
  }
}
