// npm run test:faults: the local stack as `npm start` runs it, with faults injected while it
// works. The stack is SIGKILLed (its whole process group, or its main process alone) and
// restarted on the same DATA_DIR, and workers are SIGKILLed at random. Every task must end
// Done (in Docker, a task whose worker was SIGKILLed may instead fail once with its code 137:
// the engine reports no signal), none lost, none run twice, no process left behind, every container's logs kept.
// Ends with one line: faults: in=… done=… failed=… lost=… duplicated=… kills=…
//   npm run test:faults [-- --tasks 300 --stack-kills 4 --worker-kills 10 --containers docker]
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { BUILT_LOCAL_STACK, FIXTURE_KINDS, ROOT, tempDir } from '../helpers.js';
import { getJob, postJob, workerProcesses } from '../local-stack-process.js';
import { DockerEngine } from '../../apps/core/adapters/docker/docker-engine.js';
import { LABELS } from '../../apps/core/adapters/docker/docker-runtime.js';
import { ensureWorkerImage } from '../../apps/core/adapters/docker/local-images.js';
import { stackIdOf } from '../../stacks/local/local-runtime.js';

const { values } = parseArgs({
  options: {
    tasks: { type: 'string', default: '300' },
    'stack-kills': { type: 'string', default: '4' },
    'worker-kills': { type: 'string', default: '10' },
    'max-concurrent': { type: 'string', default: '4' },
    seed: { type: 'string', default: String(Date.now()) },
    // How tasks run (CONTAINERS): a process each, or a Docker container each on the local engine.
    containers: { type: 'string', default: 'process' },
  },
});
const CONTAINERS = values.containers;
if (CONTAINERS !== 'process' && CONTAINERS !== 'docker') throw new Error(`--containers is process or docker (got ${CONTAINERS})`);
const TASKS = Number(values.tasks);
const STACK_KILLS = Number(values['stack-kills']);
const WORKER_KILLS = Number(values['worker-kills']);
const MAX_CONCURRENT = Number(values['max-concurrent']);

// A small seeded generator, so a failing run can be run again as it was (--seed).
let state = Number(values.seed) % 2147483647 || 1;
const random = () => (state = (state * 48271) % 2147483647) / 2147483647;

interface Job {
  id: string;
  state: string;
  containerName: string;
  attempts: number;
  startedAt: string | null;
  dispatchedAt: string | null;
  finishedAt: string | null;
  error: string | null;
  priorAttempts: { containerName: string; dispatchedAt: string | null; finishedAt: string }[];
}

const engine = new DockerEngine(DockerEngine.socketFromDockerHost(process.env.DOCKER_HOST));
const dir = tempDir('eda-faults-');
const dataDir = join(dir.path, 'data');
const log = (line: string) => console.log(`[faults] ${line}`);

type StackProcess = { child: ChildProcess; url: string; output: () => string };
// Set by startStack; the cast keeps TypeScript from narrowing it to null at the top level.
let stack = null as StackProcess | null;

/** The built stack, in a process group of its own, so that the group can be killed whole. */
async function startStack(): Promise<void> {
  const child = spawn(process.execPath, [BUILT_LOCAL_STACK], {
    cwd: ROOT,
    detached: true,
    env: {
      PATH: process.env.PATH ?? '',
      DATA_DIR: dataDir,
      PORT: '0',
      LOG_LEVEL: 'warn',
      MAX_CONCURRENT: String(MAX_CONCURRENT),
      WORK_SECONDS: '0.5',
      // A lock held by a killed stack comes back in seconds, not a minute.
      LOCK_DURATION_SECONDS: '5',
      REAP_INTERVAL_SECONDS: '0.5',
      SHUTDOWN_GRACE_SECONDS: '30',
      CONTAINERS,
      KINDS_FILE: FIXTURE_KINDS,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the stack did not start:\n${output}`)), 30_000);
    child.stdout!.on('data', () => {
      const match = /running at (http:\/\/\S+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    });
    child.once('exit', (code) => reject(new Error(`the stack exited with ${code}:\n${output}`)));
  });
  stack = { child, url, output: () => output };
}

async function killStack(how: 'group' | 'main'): Promise<void> {
  const { child } = stack!;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  process.kill(how === 'group' ? -child.pid! : child.pid!, 'SIGKILL');
  await exited;
  stack = null;
}

/** A running worker (not its supervisor), killed as an OOM killer would. */
function killRandomWorker(): string | null {
  const workers = workerProcesses(dataDir);
  if (workers.length === 0) return null;
  const pid = workers[Math.floor(random() * workers.length)]!;
  try {
    const name = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').find((v) => v.startsWith('CONTAINER_NAME='))?.slice('CONTAINER_NAME='.length) ?? null;
    process.kill(pid, 'SIGKILL');
    return name;
  } catch {
    return null; // it ended first
  }
}

async function allJobs(ids: string[]): Promise<Job[]> {
  const jobs: Job[] = [];
  for (const id of ids) jobs.push((await getJob(stack!.url, id)) as unknown as Job);
  return jobs;
}

/** Containers the stack has not yet deleted: its records (processes), or the engine's containers with its label (Docker). */
async function containersLeft(): Promise<number> {
  if (CONTAINERS === 'docker') {
    const filters = JSON.stringify({ label: [`${LABELS.stack}=${stackIdOf(dataDir)}`] });
    return (await engine.json<unknown[]>('GET', '/containers/json', { query: { all: true, filters } })).body.length;
  }
  const folder = join(dataDir, 'containers');
  return existsSync(folder) ? readdirSync(folder).filter((file) => file.endsWith('.json')).length : 0;
}

async function main(): Promise<number> {
  log(`seed ${values.seed}: ${TASKS} tasks, ${STACK_KILLS} stack kills, ${WORKER_KILLS} worker kills, MAX_CONCURRENT=${MAX_CONCURRENT}, CONTAINERS=${CONTAINERS}`);
  // Built (or found) before the first start, so that each start is quick.
  if (CONTAINERS === 'docker') await ensureWorkerImage(engine, ROOT, log);
  await startStack();
  const ids: string[] = [];
  const killedContainers: string[] = [];
  let kills = 0;
  let peak = 0;
  let watching = true;
  const watcher = (async () => {
    while (watching) {
      peak = Math.max(peak, workerProcesses(dataDir).length);
      await sleep(20);
    }
  })();

  // Faults at random points in the stream of work: each one after a random share of it.
  const faults = [
    ...Array.from({ length: STACK_KILLS }, (_, i) => ({ at: random(), kind: i % 2 === 0 ? ('group' as const) : ('main' as const) })),
    ...Array.from({ length: WORKER_KILLS }, () => ({ at: random(), kind: 'worker' as const })),
  ].sort((a, b) => a.at - b.at);
  for (let posted = 0; posted < TASKS; ) {
    const next = faults[0];
    const until = next ? Math.min(TASKS, Math.max(posted + 1, Math.round(next.at * TASKS))) : TASKS;
    for (; posted < until; posted++) ids.push((await postJob(stack!.url, `task ${posted}`)).id);
    if (!next || posted < Math.round(next.at * TASKS)) continue;
    faults.shift();
    await sleep(200 + random() * 800); // let work be under way
    if (next.kind === 'worker') {
      const name = killRandomWorker();
      if (name) {
        killedContainers.push(name);
        kills++;
        log(`killed the worker of ${name}`);
      }
    } else {
      await killStack(next.kind);
      kills++;
      log(`killed the stack (${next.kind === 'group' ? 'its process group' : 'its main process'}); ${workerProcesses(dataDir).length} worker(s) still running`);
      await sleep(random() * 1000);
      await startStack();
    }
  }

  const deadline = Date.now() + Math.max(120_000, TASKS * 2_000);
  let jobs = await allJobs(ids);
  while (jobs.some((job) => job.state !== 'Done' && job.state !== 'Failed') || (await containersLeft()) > 0) {
    if (Date.now() > deadline) break;
    await sleep(1000);
    jobs = await allJobs(ids);
  }
  watching = false;
  await watcher;

  // Every container of every attempt left its logs in the store, with one start in them.
  let duplicated = 0;
  let missingLogs = 0;
  for (const job of jobs) {
    const attempts = [...job.priorAttempts, { containerName: job.containerName, dispatchedAt: job.dispatchedAt, finishedAt: job.finishedAt }];
    let startedTwice = false;
    for (const [i, attempt] of attempts.entries()) {
      const response = await fetch(`${stack!.url}/api/containers/${attempt.containerName}/logs`);
      const logs = await response.text();
      // Once every container is deleted, only the store's copy answers for an earlier attempt;
      // the last attempt's copy holds its worker's last word, unless a kill cut that word off.
      const last = i === attempts.length - 1 && !killedContainers.includes(attempt.containerName);
      const kept = last ? /: (Done|Failed)/.test(logs) : response.status === 200;
      if (!kept) {
        missingLogs++;
        log(`no logs kept for ${attempt.containerName} (${response.status}): ${JSON.stringify(logs.slice(-300))}`);
      }
      if ((logs.match(/: InProgress$/gm) ?? []).length > 1) startedTwice = true;
    }
    // Two attempts never ran at once: each began after the one before it had ended.
    const overlapped = attempts.slice(1).some((attempt, i) => attempt.dispatchedAt !== null && Date.parse(attempt.dispatchedAt) < Date.parse(attempts[i]!.finishedAt ?? ''));
    if (startedTwice || overlapped) duplicated++;
  }
  // A killed worker's task ends Done: by a later attempt, or by that worker itself when the kill
  // landed after it had written Done (it still closes its store before it exits, a few ms in
  // which a kill has nothing left to undo). Only the worker of the current attempt writes Done.
  let killedAfterDone = 0;
  let killedNotRetried = 0;
  // In a Docker container the SIGKILL reaches the program under the container's init, which
  // exits 137: the engine reports a code and no OOM kill, and a code is the program's exit
  // (endOfContainer, docs/design.md "Killed or exited"). Such a task fails once, with that code.
  const failedAsExit = new Set<string>();
  for (const name of killedContainers) {
    const job = jobs.find((j) => j.containerName === name || j.priorAttempts.some((a) => a.containerName === name));
    if (job?.state === 'Done' && job.priorAttempts.some((a) => a.containerName === name)) continue;
    if (job?.state === 'Done' && job.containerName === name) {
      killedAfterDone++;
      continue;
    }
    if (CONTAINERS === 'docker' && job?.state === 'Failed' && job.containerName === name && /^exited with code 137(:|$)/.test(job.error ?? '')) {
      failedAsExit.add(job.id);
      continue;
    }
    killedNotRetried++;
    const logs = await (await fetch(`${stack!.url}/api/containers/${name}/logs`)).text();
    log(`killed ${name}, not retried to Done: ${JSON.stringify(job ?? null)}; its logs end ${JSON.stringify(logs.slice(-300))}`);
  }
  if (killedAfterDone > 0) log(`${killedAfterDone} worker(s) killed after writing Done: nothing left to retry`);
  if (failedAsExit.size > 0) log(`${failedAsExit.size} Docker worker(s) killed from outside failed with exit code 137, as the engine reported no OOM kill`);

  const stopped = new Promise<number | null>((resolve) => stack!.child.once('exit', resolve));
  process.kill(stack!.child.pid!, 'SIGINT');
  const stopCode = await stopped;
  await sleep(200);
  const orphans = workerProcesses(dataDir, { supervisors: true });

  const done = jobs.filter((job) => job.state === 'Done').length;
  const failed = jobs.filter((job) => job.state === 'Failed').length;
  const lost = TASKS - done - failed;
  const problems = [
    ...(done + failedAsExit.size !== TASKS ? [`${TASKS - done - failedAsExit.size} task(s) not Done`] : []),
    ...(duplicated > 0 ? [`${duplicated} task(s) ran twice`] : []),
    ...(killedNotRetried > 0 ? [`${killedNotRetried} killed worker(s) not retried to Done`] : []),
    ...(missingLogs > 0 ? [`${missingLogs} container(s) without logs in the store`] : []),
    ...(orphans.length > 0 ? [`${orphans.length} process(es) left behind: ${orphans.join(' ')}`] : []),
    ...(peak > MAX_CONCURRENT ? [`${peak} workers ran at once, more than MAX_CONCURRENT=${MAX_CONCURRENT}`] : []),
    ...(stopCode !== 0 ? [`the last stop exited with ${stopCode}`] : []),
  ];
  for (const job of jobs.filter((j) => j.state !== 'Done' && !failedAsExit.has(j.id)).slice(0, 5)) log(`not Done: ${JSON.stringify(job)}`);
  for (const problem of problems) log(problem);
  console.log(`faults: in=${TASKS} done=${done} failed=${failed} lost=${lost} duplicated=${duplicated} kills=${kills} peak=${peak}`);
  return problems.length === 0 ? 0 : 1;
}

let code = 1;
try {
  code = await main();
} catch (error) {
  console.error(error);
  if (stack) console.error(stack.output());
} finally {
  if (stack?.child.exitCode === null) stack.child.kill('SIGKILL');
  for (const pid of workerProcesses(dataDir, { supervisors: true })) process.kill(pid, 'SIGKILL');
  dir.remove();
}
process.exit(code);
