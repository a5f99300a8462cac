import { constants } from 'node:os';

/**
 * How a container's program ended, as its supervisor saw it. `exitCode` is always a number once
 * it ended (128 + n for a signal, as shells and Docker report it), so that a status reads as it
 * does on every runtime; `signal` says whether that number is a signal's, which a code cannot.
 */
export interface ExitStatus {
  exitCode: number;
  /** The signal that ended the program; null when it exited with a code it chose. */
  signal: number | null;
}

const SIGNAL_EXIT_BASE = 128;
// Linux's signals are 1–64 (SIGRTMAX): above 128 + 64 a code can only be the program's own.
const HIGHEST_SIGNAL = 64;

export function exitedWith(code: number): ExitStatus {
  return { exitCode: code, signal: null };
}

export function killedBy(signal: number): ExitStatus {
  return { exitCode: SIGNAL_EXIT_BASE + signal, signal };
}

/** What Node's `exit` event says of the supervisor itself, for an end it could not write. */
export function statusOfExitEvent(code: number | null, signal: NodeJS.Signals | null): ExitStatus {
  if (signal) return killedBy(constants.signals[signal] ?? 0);
  return exitedWith(code ?? 0);
}

/**
 * The status file's one line: `exit N` or `signal N`, as the C supervisor (supervisor.c) writes
 * it and the runtime writes for an end the supervisor could not; a bare `N` is the shell
 * supervisor's `$?`, which reads 128 + n for signal n and for `exit(128 + n)` alike. That
 * ambiguity is kept as the shell leaves it, and only where a signal could be: 129–192 read as
 * a signal, 193–255 always as an exit. Null for anything else (a line not yet whole).
 */
export function parseExitStatus(text: string): ExitStatus | null {
  const line = /^(?:(exit|signal) )?(\d+)\n$/.exec(text);
  if (!line) return null;
  const n = Number(line[2]);
  if (line[1] === 'exit') return exitedWith(n);
  if (line[1] === 'signal') return killedBy(n);
  return n > SIGNAL_EXIT_BASE && n <= SIGNAL_EXIT_BASE + HIGHEST_SIGNAL ? killedBy(n - SIGNAL_EXIT_BASE) : exitedWith(n);
}

export function formatExitStatus(status: ExitStatus): string {
  return status.signal === null ? `exit ${status.exitCode}\n` : `signal ${status.signal}\n`;
}

/**
 * The fallback where no C compiler built the supervisor: a POSIX shell that runs the container
 * and writes `$?` to the status file. It catches the signals a stop sends, so the status is
 * written when the container ends. `$1` the status file, `$2` whether the spec sets PWD (dash
 * exports one of its own otherwise), then the command. Its variables are not exported: the
 * container's environment is exactly the spec's.
 */
const SHELL_SUPERVISOR = [
  'status_file=$1; keep_pwd=$2; shift 2',
  '[ "$keep_pwd" = 1 ] || unset PWD',
  'trap : INT TERM HUP',
  '"$@"',
  'status=$?',
  'echo "$status" > "$status_file"',
  'exit "$status"',
].join('\n');

/**
 * The program and arguments that run `command` under a supervisor writing to `statusFile`: the
 * compiled one (`binary`, built by `npm run build`) or, with none, the shell. The status file is
 * an argument either way: a spawn whose pid was never recorded is found by it in /proc.
 */
export function supervised(binary: string | null, statusFile: string, keepPwd: boolean, command: string[]): { file: string; args: string[] } {
  if (binary) return { file: binary, args: [statusFile, ...command] };
  // `sh` as the script's name ($0): the shell starts its own messages with it ("sh: 4: x: not
  // found"), and they reach a user's failure reason, where no internal name belongs.
  return { file: '/bin/sh', args: ['-c', SHELL_SUPERVISOR, 'sh', statusFile, keepPwd ? '1' : '0', ...command] };
}
