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

/** How an attempt's container ended: lost (gone, its end never seen), or exited with a code. */
export type AttemptEnd = { lost: true } | { lost: false; exitCode: number };

const EXIT_CODE_PATTERN = /^[0-9]{1,3}\*?$|^\*$/;
// 128 + n: the process was killed by signal n (SIGKILL from an OOM killer or a stop, SIGTERM).
const SIGNAL_EXIT_BASE = 128;

export function isExitCodePattern(text: string): boolean {
  return EXIT_CODE_PATTERN.test(text);
}

export function describeEnd(end: AttemptEnd): string {
  if (end.lost) return 'the container was lost (it is gone, and its end was never seen)';
  if (end.exitCode > SIGNAL_EXIT_BASE) return `the container was killed by signal ${end.exitCode - SIGNAL_EXIT_BASE} (exit code ${end.exitCode})`;
  return `the container exited with code ${end.exitCode}`;
}

function matches(pattern: string, exitCode: number): boolean {
  return pattern.endsWith('*') ? String(exitCode).startsWith(pattern.slice(0, -1)) : String(exitCode) === pattern;
}

/** Whether the attempt that just ended (the `attemptsMade`-th) is followed by another. */
export function shouldRetry(policy: RetryPolicy, attemptsMade: number, end: AttemptEnd): boolean {
  if (attemptsMade >= policy.maxAttempts) return false;
  if (end.lost || end.exitCode > SIGNAL_EXIT_BASE) return true;
  return policy.retryOnExitCodes.some((pattern) => matches(pattern, end.exitCode));
}
