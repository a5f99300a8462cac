import { readdirSync, readFileSync } from 'node:fs';

/** Linux's /proc, read for the process runtime: what a process is, and what its tree uses. */

export const CLOCK_TICKS_PER_SECOND = 100; // USER_HZ on Linux, fixed by the kernel ABI

function statFields(pid: number): string[] | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces; the fields after its closing paren are fixed.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch (error) {
    // Only a process that is gone is null. Out of descriptors (EMFILE) says nothing about it:
    // thrown, so a caller does not take a running container for an ended one.
    if ((error as NodeJS.ErrnoException).code === 'ENOENT' || (error as NodeJS.ErrnoException).code === 'ESRCH') return null;
    throw error;
  }
}

/**
 * When the process started, in clock ticks after boot (field 22): with the pid, it names one
 * process for ever, so a pid the kernel has given to another process is never mistaken for it.
 */
export function processStartTicks(pid: number): number | null {
  const fields = statFields(pid);
  return fields ? Number(fields[19]) : null;
}

/** True while `pid` is the process that started at `startTicks` and has not exited. */
export function isSameProcessAlive(pid: number, startTicks: number | null): boolean {
  const fields = statFields(pid);
  if (!fields || fields[0] === 'Z') return false;
  return startTicks === null || Number(fields[19]) === startTicks;
}

function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** CPU time and resident memory of a process and its descendants; null once it is gone. */
export function treeUsage(pid: number): { cpuTicks: number; rssBytes: number } | null {
  let cpuTicks = 0;
  let rssBytes = 0;
  let found = false;
  const pending = [pid];
  while (pending.length > 0) {
    const next = pending.pop()!;
    const fields = statFields(next);
    if (!fields) continue;
    found = true;
    cpuTicks += Number(fields[11]) + Number(fields[12]); // utime + stime
    try {
      const status = readFileSync(`/proc/${next}/status`, 'utf8');
      rssBytes += Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) * 1024;
    } catch {
      // exited between the two reads
    }
    pending.push(...childrenOf(next));
  }
  return found ? { cpuTicks, rssBytes } : null;
}

/** The pid of a process whose command line holds `argument`, if one runs (a spawn whose pid was never recorded). */
export function findProcessWithArgument(argument: string): number | null {
  let entries: string[];
  try {
    entries = readdirSync('/proc').filter((name) => /^\d+$/.test(name));
  } catch {
    return null;
  }
  for (const entry of entries) {
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').includes(argument)) return Number(entry);
    } catch {
      // gone, or not ours to read
    }
  }
  return null;
}
