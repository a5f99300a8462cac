import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { BUILT_LOCAL_STACK, ROOT, stackEnv } from './helpers.js';

export interface RunningStack {
  url: string;
  child: ChildProcess;
  output: () => string;
  /** Sends SIGINT `times` times and waits for the process to exit. */
  stop: (times?: number) => Promise<number | null>;
}

/**
 * Starts the built local stack (what `npm start` runs) on a free port with `env` only (and the
 * fixture kinds), in `cwd`: the repository, as `npm start` runs there.
 */
export async function startStackProcess(
  env: Record<string, string>,
  {
    startTimeoutMs = 20_000,
    cwd = ROOT,
    descriptorLimit,
    asNobody = false,
    nodeOptions = [],
  }: { startTimeoutMs?: number; cwd?: string; descriptorLimit?: number; asNobody?: boolean; nodeOptions?: string[] } = {},
): Promise<RunningStack> {
  // With a descriptor limit, a shell sets it (`ulimit -n`) and becomes the stack (`exec`).
  let [command, args]: [string, string[]] = descriptorLimit
    ? ['/bin/sh', ['-c', `ulimit -n ${descriptorLimit} && exec "$0" "$@"`, process.execPath, ...nodeOptions, BUILT_LOCAL_STACK]]
    : [process.execPath, [...nodeOptions, BUILT_LOCAL_STACK]];
  // As the unprivileged user `nobody` (setpriv, util-linux): file permissions bind it, as they
  // do an operator's stack. Needs root.
  if (asNobody) [command, args] = ['setpriv', ['--reuid=nobody', '--regid=nogroup', '--clear-groups', command, ...args]];
  const child = spawn(command, args, {
    cwd,
    env: stackEnv(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the stack did not start:\n${output}`)), startTimeoutMs);
    const onData = () => {
      const match = /running at (http:\/\/\S+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    };
    child.stdout!.on('data', onData);
    void exited.then((code) => reject(new Error(`the stack exited with ${code}:\n${output}`)));
  });
  return {
    url,
    child,
    output: () => output,
    stop: async (times = 1) => {
      for (let i = 0; i < times; i++) {
        child.kill('SIGINT');
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      return exited;
    },
  };
}

/**
 * Processes of one stack's containers, found by the DATABASE_URI in their environment: the
 * workers, or with `supervisors` also what runs each one (the process runtime's shell, a Docker
 * container's init). Zombies are not counted. A Docker container's processes are this machine's
 * too, seen here as any other.
 */
export function workerProcesses(dataDir: string, { supervisors = false } = {}): number[] {
  const marker = `DATABASE_URI=sqlite:${dataDir}`;
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (stat.slice(stat.lastIndexOf(')') + 2)[0] === 'Z') continue;
      const environ = readFileSync(`/proc/${entry}/environ`, 'utf8');
      if (!environ.split('\0').some((v) => v.startsWith(marker))) continue;
      const program = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0')[0];
      const supervisor = program === '/bin/sh' || program?.endsWith('/eda-supervise') || program?.endsWith('docker-init');
      if (supervisors || !supervisor) pids.push(Number(entry));
    } catch {
      // The process ended while we looked.
    }
  }
  return pids;
}

export async function postJob(url: string, message: string): Promise<{ id: string; containerName: string }> {
  const response = await fetch(`${url}/api/jobs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ message }),
  });
  if (response.status !== 202) throw new Error(`POST /api/jobs answered ${response.status}: ${await response.text()}`);
  return (await response.json()) as { id: string; containerName: string };
}

export async function getJob(url: string, id: string): Promise<Record<string, unknown>> {
  return (await (await fetch(`${url}/api/jobs/${id}`)).json()) as Record<string, unknown>;
}

export interface FinishedStack {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Whether it had to be killed after `timeoutMs` (a start that hangs). */
  timedOut: boolean;
}

/**
 * Runs the built stack with `env` only (and the fixture kinds), expecting it to stop by itself (a start-up fault), and
 * kills it after `timeoutMs`. `withoutRootPowers` runs it without the capabilities that let
 * root write anywhere (setpriv, util-linux), so a folder without write permission is one for it too.
 */
export async function runStackUntilExit(
  env: Record<string, string>,
  { timeoutMs = 20_000, withoutRootPowers = false }: { timeoutMs?: number; withoutRootPowers?: boolean } = {},
): Promise<FinishedStack> {
  const dropRoot = withoutRootPowers && process.getuid?.() === 0;
  const [command, args] = dropRoot
    ? ['setpriv', ['--bounding-set=-dac_override,-dac_read_search,-fowner', process.execPath, BUILT_LOCAL_STACK]]
    : [process.execPath, [BUILT_LOCAL_STACK]];
  const child = spawn(command, args, {
    cwd: ROOT,
    env: stackEnv(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk) => (stdout += chunk));
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, timeoutMs);
  // 'close' comes after the output has been read to its end.
  const code = await new Promise<number | null>((resolve) => child.on('close', (exitCode) => resolve(exitCode)));
  clearTimeout(timer);
  return { code, stdout, stderr, timedOut };
}
