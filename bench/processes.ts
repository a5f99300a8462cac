import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { BUILT_STACK, ROOT } from './build.js';

const LAUNCHER = join(ROOT, 'bench/launcher.mjs');

export interface Exit {
  /** From the spawn call to the exit event, as a parent that starts the process sees it. */
  ms: number;
  code: number | null;
  stdout: string;
}

export interface Launch {
  /** The program; this Node (the built worker) when absent. */
  file?: string;
  args: string[];
  env: Record<string, string>;
  cwd?: string;
}

/**
 * Runs each launch (`node <args>`, or its own program), `concurrency` at a time, from bench/launcher.mjs: a parent
 * that does nothing else, as the stack's own process does little else while it starts a task.
 * Each is timed from its spawn to its exit; `ms` is the whole batch.
 */
export function launchAll(runs: Launch[], concurrency = 1): Promise<{ results: Exit[]; ms: number; childrenCpuMs: number }> {
  return new Promise((resolve, reject) => {
    const launcher = spawn(process.execPath, [LAUNCHER], { env: { PATH: process.env.PATH ?? '' }, stdio: ['pipe', 'pipe', 'inherit'] });
    let out = '';
    launcher.stdout.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
    launcher.once('error', reject);
    launcher.once('exit', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`the launcher exited ${code}`))));
    launcher.stdin.end(JSON.stringify({ runs, concurrency }));
  });
}

export interface StackProcess {
  url: string;
  pid: number;
  /** Ctrl-C, as a user stops it: running tasks may finish, nothing is left behind. */
  stop(): Promise<void>;
}

const running = new Set<ChildProcess>();

/**
 * `npm start`'s program (the build), on its own data folder, with only the settings given. With
 * `traceTo`, bench/trace-stack.mjs is preloaded into it and writes its dispatch steps there.
 */
export function startStack(settings: Record<string, string>, traceTo?: string): Promise<StackProcess> {
  const preload = traceTo ? ['--import', pathToFileURL(join(ROOT, 'bench/trace-stack.mjs')).href] : [];
  const child = spawn(process.execPath, [...preload, BUILT_STACK], {
    env: { PATH: process.env.PATH ?? '', PORT: '0', LOG_LEVEL: 'silent', ...settings, ...(traceTo ? { BENCH_TRACE: traceTo } : {}) },
    cwd: settings.DATA_DIR,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  running.add(child);
  child.once('exit', () => running.delete(child));
  return new Promise((resolve, reject) => {
    let out = '';
    const onData = (chunk: Buffer) => {
      out += chunk.toString('utf8');
      const url = /running at (http:\/\/\S+)/.exec(out)?.[1];
      if (!url) return;
      child.stdout!.off('data', onData);
      child.stdout!.resume();
      resolve({
        url,
        pid: child.pid!,
        stop: () =>
          new Promise<void>((done) => {
            if (child.exitCode !== null) return done();
            child.once('exit', () => done());
            child.kill('SIGINT');
          }),
      });
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`the stack exited with ${code} before it was running: ${out}`)));
  });
}

/** Stops every stack this benchmark started and has not stopped (on a failure): by their pids, twice Ctrl-C. */
export function stopStacks(): void {
  for (const child of running) {
    child.kill('SIGINT');
    child.kill('SIGINT');
  }
}

function children(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

function kib(text: string, field: string): number {
  return Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? 0) * 1024;
}

/**
 * Memory of a process and every descendant, from /proc: RSS counts shared pages (node's code)
 * once per process; PSS divides them among the processes that share them.
 */
export function treeMemory(pid: number): { rssBytes: number; pssBytes: number; processes: number } {
  let rssBytes = 0;
  let pssBytes = 0;
  let processes = 0;
  const pending = [pid];
  while (pending.length > 0) {
    const next = pending.pop()!;
    try {
      const rollup = readFileSync(`/proc/${next}/smaps_rollup`, 'utf8');
      rssBytes += kib(rollup, 'Rss');
      pssBytes += kib(rollup, 'Pss');
      processes++;
    } catch {
      continue; // exited meanwhile
    }
    pending.push(...children(next));
  }
  return { rssBytes, pssBytes, processes };
}
