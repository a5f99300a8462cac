// npm run bench: this project beside the floor of this machine, one run, every ratio measured
// side by side (the machine is shared and noisy: compare ratios, not single timings). Prints a
// table and writes bench/results.json. `-- --only cold,dispatch` runs some sections;
// `-- --quick` runs each smaller (a smoke test of the benchmark itself, not a measurement).
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { azurePath } from './azure-path.js';
import { ROOT } from './build.js';
import { coldStart } from './cold-start.js';
import { dashboardScaling } from './dashboard.js';
import { dispatchOneAtATime } from './dispatch.js';
import { events } from './events.js';
import { memory } from './memory.js';
import { readers } from './readers.js';
import { stopStacks } from './processes.js';
import { supervisorCost } from './supervisor.js';
import { printTable, writeResults, type Row } from './report.js';
import { throughput } from './throughput.js';

const { values } = parseArgs({ options: { only: { type: 'string' }, quick: { type: 'boolean', default: false } } });
const quick = values.quick;
const sections: Record<string, () => Promise<Row[]>> = {
  cold: () => coldStart(quick ? 5 : 40),
  dispatch: () => dispatchOneAtATime(quick ? 5 : 40),
  throughput: () => throughput(quick ? 20 : 500),
  dashboard: () =>
    dashboardScaling(quick ? { sizes: [100, 1000], loadSeconds: 2, mongoSizes: [50, 100] } : { sizes: [1000, 10_000, 100_000], loadSeconds: 5, mongoSizes: [100, 400] }),
  azure: () => azurePath(quick ? { paced: 4, burst: 12 } : { paced: 20, burst: 60 }),
  memory: () => memory(quick ? 10 : 100),
  supervisor: () => supervisorCost(quick ? 100 : 1000),
  events: () => events(12, quick ? 15 : 120),
  readers: () =>
    readers(quick ? { stored: 1000, pollers: 50, listers: 5, loadSeconds: 5, tasks: 3 } : { stored: 10_000, pollers: 200, listers: 20, loadSeconds: 30, tasks: 10 }),
};
const chosen = values.only ? values.only.split(',') : Object.keys(sections);
for (const name of chosen) if (!sections[name]) throw new Error(`no section "${name}": one of ${Object.keys(sections).join(', ')}`);

const started = Date.now();
const rows: Row[] = [];
const onSignal = () => {
  stopStacks();
  process.exit(130);
};
process.once('SIGINT', onSignal);
try {
  for (const name of chosen) {
    const sectionStarted = Date.now();
    console.error(`${name}… (load average ${loadavg()[0]!.toFixed(2)})`);
    rows.push(...(await sections[name]!()));
    console.error(`${name}: ${((Date.now() - sectionStarted) / 1000).toFixed(0)} s`);
  }
} finally {
  stopStacks();
}
const context = {
  when: new Date().toISOString(),
  node: process.version,
  cores: availableParallelism(),
  loadAverageAtEnd: loadavg()[0],
  seconds: Math.round((Date.now() - started) / 1000),
  quick,
};
console.log(`\nnpm run bench: node ${context.node}, ${context.cores} cores, load average ${context.loadAverageAtEnd!.toFixed(2)}, ${context.seconds} s\n`);
printTable(rows);
const path = join(ROOT, 'bench/results.json');
writeResults(path, rows, context);
console.log(`\nwritten: ${path}`);
