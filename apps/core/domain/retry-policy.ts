import { END_RULES, type AttemptEnd } from './attempt-end.js';

/**
 * When a task whose container ended without finishing it runs again, as a new attempt. The
 * model is AWS Batch's retry strategy: a number of attempts in all, and `evaluateOnExit` rules
 * on the exit code (https://docs.aws.amazon.com/batch/latest/APIReference/API_RetryStrategy.html).
 * A container that was lost, or killed by a signal, failed through no fault of its task and is
 * always retried while attempts remain; any other exit code only where the policy names it.
 */
export interface RetryPolicy {
  /** Attempts in all, the first included (1: never retried). */
  maxAttempts: number;
  /** Exit codes that are retried: digits, or digits ending in `*` (AWS Batch's onExitCode). */
  retryOnExitCodes: string[];
}

export const DEFAULT_MAX_ATTEMPTS = 3;
export const DEFAULT_RETRY_POLICY: RetryPolicy = { maxAttempts: DEFAULT_MAX_ATTEMPTS, retryOnExitCodes: [] };

const EXIT_CODE_PATTERN = /^[0-9]{1,3}\*?$|^\*$/;
// 128 + n: the process was killed by signal n (SIGKILL from an OOM killer or a stop, SIGTERM).
const SIGNAL_EXIT_BASE = 128;

export function isExitCodePattern(text: string): boolean {
  return EXIT_CODE_PATTERN.test(text);
}

/**
 * How a local runtime's exit code reads today: above 128 a shell's report of a signal (killed),
 * else the program's own exit. The supervisor that tells the two apart is the local runtimes'.
 */
export function endFromExitCode(exitCode: number | null): AttemptEnd {
  if (exitCode === null) return { kind: 'lost' };
  if (exitCode > SIGNAL_EXIT_BASE) return { kind: 'killed', signal: exitCode - SIGNAL_EXIT_BASE, exitCode };
  return { kind: 'exit', exitCode };
}

export function describeEnd(end: AttemptEnd): string {
  switch (end.kind) {
    case 'lost':
      return 'the container was lost (it is gone, and its end was never seen)';
    case 'killed':
      return end.signal === null ? 'the container was killed' : `the container was killed by signal ${end.signal}${end.exitCode === null ? '' : ` (exit code ${end.exitCode})`}`;
    case 'exit':
      return `the container exited with code ${end.exitCode}`;
    case 'timeout':
      return 'the container ran past its timeout';
    case 'not-started':
      return `the container did not start: ${end.cause}`;
    case 'dead-letter':
      return 'its work was dead-lettered';
    case 'cancelled':
      return 'it was cancelled';
  }
}

function matches(pattern: string, exitCode: number): boolean {
  return pattern.endsWith('*') ? String(exitCode).startsWith(pattern.slice(0, -1)) : String(exitCode) === pattern;
}

/**
 * The bound of a `not-started` end: the kind's start wait (`startWaitSeconds`, else its
 * timeout), counted from when the platform first refused or failed this attempt's start.
 */
export interface StartWait {
  since: Date;
  seconds: number;
  now: Date;
}

export function startWaitOver({ since, seconds, now }: StartWait): boolean {
  return now.getTime() - since.getTime() >= seconds * 1000;
}

/**
 * Whether the attempt that just ended (the `attemptsMade`-th) is followed by another (for
 * `not-started`: the same attempt, put off). `startWait` is the bound of a `not-started` end;
 * without it, that end is always put off.
 */
export function shouldRetry(policy: RetryPolicy, attemptsMade: number, end: AttemptEnd, startWait?: StartWait): boolean {
  const rule = END_RULES[end.kind];
  if (rule.runsAgain === 'never') return false;
  // `not-started` is bounded by its own start wait, never by attempts: its caller defers it.
  if (rule.bound === 'maxAttempts' && attemptsMade >= policy.maxAttempts) return false;
  if (rule.bound === 'startWait' && startWait && startWaitOver(startWait)) return false;
  if (rule.runsAgain === 'if-exit-code-named') return end.kind === 'exit' && policy.retryOnExitCodes.some((pattern) => matches(pattern, end.exitCode));
  return true;
}
