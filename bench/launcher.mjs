// Starts processes and times each from its spawn to its exit, in a process that does nothing
// else: so that no work of the benchmark's own (its heap, its event loop) is in a floor.
// Reads {"runs": [{"file"?: "...", "args": [...], "env": {...}, "cwd"?: "..."}], "concurrency": n}
// on stdin (`file` defaults to this Node: the built worker; an own kind's command names its
// program); writes a JSON array of {"ms", "code", "stdout"} on stdout, in the order of the runs.
// The stack starts each task the same way (child_process.spawn, exactly the spec's environment),
// so this is the floor: the same program, the same environment, nothing around it.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** CPU (ms) of this process's children that have ended and been waited for: /proc's cutime + cstime, in 1/100 s. */
function childrenCpuMs() {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[13]) + Number(fields[14])) * 10;
}

let input = '';
for await (const chunk of process.stdin) input += chunk;
const { runs, concurrency } = JSON.parse(input);

function run({ file, args, env, cwd }) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(file ?? process.execPath, args, { env, cwd, stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.once('error', reject);
    child.once('exit', (code) => resolve({ ms: performance.now() - started, code, stdout }));
  });
}

const results = new Array(runs.length);
let next = 0;
const cpuBefore = childrenCpuMs();
const started = performance.now();
await Promise.all(
  Array.from({ length: concurrency }, async () => {
    while (next < runs.length) {
      const i = next++;
      results[i] = await run(runs[i]);
    }
  }),
);
process.stdout.write(JSON.stringify({ results, ms: performance.now() - started, childrenCpuMs: childrenCpuMs() - cpuBefore }));
