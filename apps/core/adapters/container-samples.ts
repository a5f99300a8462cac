import { appendFileSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { MetricPoint, MetricSeries } from '../domain/metric-series.js';

// Enough for a long task sampled every second for an hour; older samples are dropped first.
export const MAX_SAMPLES = 3600;

/** Adds a sample to a series kept in memory, dropping the oldest beyond MAX_SAMPLES. */
export function pushSample(series: MetricPoint[], point: MetricPoint): void {
  series.push(point);
  if (series.length > MAX_SAMPLES) series.shift();
}

/**
 * The CPU and memory samples of the containers a local runtime runs, a file each (`.metrics`,
 * a JSON line per sample), so that a container adopted after a restart keeps its history.
 */
export class ContainerSamples {
  constructor(readonly dir: string) {
    mkdirSync(dir, { recursive: true });
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

  removeSamples(name: string): void {
    rmSync(join(this.dir, `${name}.metrics`), { force: true });
  }
}
