import { writeFileSync } from 'node:fs';

/**
 * One line of the benchmark: what this project does beside what the machine cannot go below.
 * `ratio` is ours / floor; `met` is null where no target was set.
 */
export interface Row {
  key: string;
  measure: string;
  unit: string;
  floor: number | null;
  ours: number;
  ratio: number | null;
  target: string | null;
  met: boolean | null;
  /** Whatever explains the number: percentiles, a breakdown, counts. */
  detail?: Record<string, unknown>;
}

export type Target = { max: number } | { min: number } | null;

export function row(key: string, measure: string, unit: string, floor: number | null, ours: number, target: Target, on: 'ratio' | 'ours', detail?: Record<string, unknown>): Row {
  const ratio = floor === null || floor === 0 ? null : ours / floor;
  const value = on === 'ratio' ? ratio : ours;
  const met = target === null || value === null ? null : 'max' in target ? value <= target.max : value >= target.min;
  const bound = target === null ? null : 'max' in target ? `≤ ${target.max}` : `≥ ${target.min}`;
  const label = bound === null ? null : on === 'ratio' ? `${bound}×` : `${bound} ${unit}`;
  return { key, measure, unit, floor, ours, ratio, target: label, met, ...(detail ? { detail } : {}) };
}

function format(value: number | null, unit = ''): string {
  if (value === null || Number.isNaN(value)) return '—';
  const digits = Math.abs(value) >= 100 ? 0 : Math.abs(value) >= 10 ? 1 : 2;
  return `${value.toFixed(digits)}${unit ? ` ${unit}` : ''}`;
}

export function printTable(rows: readonly Row[]): void {
  const lines = rows.map((r) => [
    r.measure,
    format(r.floor, r.unit),
    format(r.ours, r.unit),
    r.ratio === null ? '—' : `${r.ratio.toFixed(2)}×`,
    r.target ?? '—',
    r.met === null ? '' : r.met ? 'met' : 'MISSED',
  ]);
  const header = ['measure', 'floor', 'ours', 'ratio', 'target', ''];
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const render = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  console.log(render(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const line of lines) console.log(render(line));
}

/** bench/results.json: one key per row, and `run` for when and where. */
export function writeResults(path: string, rows: readonly Row[], run: Record<string, unknown>): void {
  const results = Object.fromEntries(rows.map(({ key, ...rest }) => [key, rest]));
  writeFileSync(path, `${JSON.stringify({ run, ...results }, null, 2)}\n`);
}
