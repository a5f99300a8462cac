import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MetricPoint, MetricSeries } from '../domain/metric-series.js';

/** What is known of a container from the moment it is started: enough to find it again after a restart. */
export interface ContainerRecord {
  name: string;
  jobId: string;
  /** The supervisor's pid; null in the instant between the record and the spawn. */
  pid: number | null;
  /** The supervisor's start in clock ticks after boot (/proc): with the pid, it names one process. */
  startTicks: number | null;
  startedAt: string;
}

// Enough for a long task sampled every second for an hour; older samples are dropped first.
export const MAX_SAMPLES = 3600;

/**
 * A container's files in the runtime's folder: its record (`.json`), its output (`.log`), the
 * exit status its supervisor writes (`.exit`) and its samples (`.metrics`, a JSON line each).
 * Everything a restart needs is here, so a container outlives the process that started it.
 */
export class ContainerFiles {
  constructor(readonly dir: string) {
    mkdirSync(dir, { recursive: true });
  }

  log(name: string): string {
    return join(this.dir, `${name}.log`);
  }

  exit(name: string): string {
    return join(this.dir, `${name}.exit`);
  }

  writeRecord(record: ContainerRecord): void {
    const path = join(this.dir, `${record.name}.json`);
    writeFileSync(`${path}.tmp`, JSON.stringify(record));
    renameSync(`${path}.tmp`, path);
  }

  records(): ContainerRecord[] {
    return readdirSync(this.dir)
      .filter((file) => file.endsWith('.json'))
      .flatMap((file) => {
        try {
          return [JSON.parse(readFileSync(join(this.dir, file), 'utf8')) as ContainerRecord];
        } catch {
          return []; // a record cut short by a crash mid-write: its container never started
        }
      });
  }

  /**
   * The exit status the supervisor wrote, and when; null while none is written. The status is
   * written in place, its newline last: a file without it (just made, or cut short by a kill)
   * holds no status yet.
   */
  readExit(name: string): { code: number; at: string } | null {
    const path = this.exit(name);
    if (!existsSync(path)) return null;
    const line = /^(\d+)\n$/.exec(readFileSync(path, 'utf8'));
    return line ? { code: Number(line[1]), at: statSync(path).mtime.toISOString() } : null;
  }

  /** For an end the supervisor could not write itself (it was killed with its container). */
  writeExit(name: string, code: number): void {
    writeFileSync(`${this.exit(name)}.tmp`, `${code}\n`);
    renameSync(`${this.exit(name)}.tmp`, this.exit(name));
  }

  appendSample(name: string, t: string, cpu: number, memory: number): void {
    appendFileSync(join(this.dir, `${name}.metrics`), `${JSON.stringify({ t, cpu, memory })}\n`);
  }

  samples(name: string): MetricSeries {
    const path = join(this.dir, `${name}.metrics`);
    const series: MetricSeries = { cpu: [], memory: [] };
    if (!existsSync(path)) return series;
    for (const line of readFileSync(path, 'utf8').split('\n')) {
      if (!line) continue;
      try {
        const { t, cpu, memory } = JSON.parse(line) as { t: string; cpu: number; memory: number };
        series.cpu.push({ t, v: cpu } satisfies MetricPoint);
        series.memory.push({ t, v: memory });
      } catch {
        // a line cut short by a crash
      }
    }
    return { cpu: series.cpu.slice(-MAX_SAMPLES), memory: series.memory.slice(-MAX_SAMPLES) };
  }

  remove(name: string): void {
    for (const suffix of ['.json', '.log', '.exit', '.metrics']) rmSync(join(this.dir, `${name}${suffix}`), { force: true });
  }
}
