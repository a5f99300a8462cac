import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { supervised } from '../apps/core/adapters/process/supervisor.js';
import { ROOT } from './build.js';
import { scratchDir } from './fixtures.js';
import { launchAll } from './processes.js';
import { row, type Row } from './report.js';
import { percentile } from './stats.js';

const SUPERVISOR = join(ROOT, 'dist/supervisor/eda-supervise');
// A program that does nothing: what is left is the supervisor's own cost (its exec, its spawn of
// the program, its wait and its status write), the part each task pays beside its program.
const PROGRAM = ['/bin/true'];

/**
 * 7. The supervisor alone (`--only supervisor`): `runs` starts of /bin/true, one at a time from
 * the launcher, with no supervisor, under the compiled one (what `npm run build` makes) and
 * under the shell (the fallback without a C compiler, and what ran before), in alternating
 * rounds. CPU is every process's, from /proc (the launcher's ended children), per start.
 */
export async function supervisorCost(runs: number): Promise<Row[]> {
  if (!existsSync(SUPERVISOR)) throw new Error(`${SUPERVISOR} is missing: "npm run build" compiles it (it needs cc)`);
  const dir = scratchDir('supervisor');
  const env = { PATH: '/usr/bin:/bin' };
  const variants = {
    none: () => ({ file: PROGRAM[0]!, args: PROGRAM.slice(1) }),
    compiled: (i: number) => supervised(SUPERVISOR, join(dir.path, `c${i}.exit`), false, PROGRAM),
    shell: (i: number) => supervised(null, join(dir.path, `s${i}.exit`), false, PROGRAM),
  };
  const rounds = 10;
  const perRound = Math.max(1, Math.round(runs / rounds));
  const cpu: Record<keyof typeof variants, number[]> = { none: [], compiled: [], shell: [] };
  const wall: Record<keyof typeof variants, number[]> = { none: [], compiled: [], shell: [] };
  try {
    for (let r = 0; r < rounds; r++) {
      for (const [name, command] of Object.entries(variants) as [keyof typeof variants, (i: number) => { file: string; args: string[] }][]) {
        const launches = Array.from({ length: perRound }, (_, i) => ({ ...command(i), env }));
        const batch = await launchAll(launches);
        cpu[name].push(batch.childrenCpuMs / perRound);
        wall[name].push(percentile(batch.results.map((exit) => exit.ms), 50));
      }
    }
  } finally {
    dir.remove();
  }
  const median = (values: number[]) => percentile(values, 50);
  const own = (name: 'compiled' | 'shell', of: typeof cpu) => median(of[name]) - median(of.none);
  return [
    row('supervisorCpu', 'CPU per task of the supervisor itself (above /bin/true alone): compiled vs the shell (before)', 'ms', own('shell', cpu), own('compiled', cpu), null, 'ratio', {
      rounds,
      perRound,
      cpuPerStartMs: { none: median(cpu.none), compiled: median(cpu.compiled), shell: median(cpu.shell) },
    }),
    row('supervisorWall', 'spawn → exit of /bin/true under the supervisor, p50: compiled vs the shell (before)', 'ms', median(wall.shell), median(wall.compiled), null, 'ratio', {
      wallP50Ms: { none: median(wall.none), compiled: median(wall.compiled), shell: median(wall.shell) },
    }),
  ];
}
