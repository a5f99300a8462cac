// Starts processes and times each from its spawn to its exit, in a process that does nothing
// else: so that no work of the benchmark's own (its heap, its event loop) is in a floor.
// Reads {"runs": [{"args": [...], "env": {...}}], "concurrency": n} on stdin; writes a JSON
// array of {"ms", "code", "stdout"} on stdout, in the order of the runs.
import { spawn } from 'node:child_process';

let input = '';
for await (const chunk of process.stdin) input += chunk;
const { runs, concurrency } = JSON.parse(input);

function run({ args, env }) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.once('error', reject);
    child.once('exit', (code) => resolve({ ms: performance.now() - started, code, stdout }));
  });
}

const results = new Array(runs.length);
let next = 0;
const started = performance.now();
await Promise.all(
  Array.from({ length: concurrency }, async () => {
    while (next < runs.length) {
      const i = next++;
      results[i] = await run(runs[i]);
    }
  }),
);
process.stdout.write(JSON.stringify({ results, ms: performance.now() - started }));
