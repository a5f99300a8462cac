import { END_RULES, type AttemptEnd, type ContainerEndSeen } from './attempt-end.js';

/**
 * When a task whose container ended without finishing it runs again, as a new attempt. The
 * model is AWS Batch's retry strategy: a number of attempts in all, and `evaluateOnExit` rules
 * on the exit code (https://docs.aws.amazon.com/batch/latest/APIReference/API_RetryStrategy.html).
 * A container that was lost, or killed by a signal, failed through no fault of its task and is
 * always retried while attempts remain; any other exit code only where the policy names it.
 * What counts as killed, and what as an exit, is `endOfContainer`'s rule below.
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

export function isExitCodePattern(text: string): boolean {
  return EXIT_CODE_PATTERN.test(text);
}

/**
 * How a finished container's attempt ended, from what its runtime saw, never from the code alone
 * (a program may exit 137 or 255 by its own choice; a shell's `$?` cannot tell that from a kill):
 *
 * 1. The stack stopped it: why it did decides. A `timeout` stop is a `timeout`, a `cancel` stop
 *    `cancelled` (neither runs again); a `shutdown` stop is `killed` (it runs again at the next
 *    start), whatever code the program ended with in answer.
 * 2. Else a signal the runtime saw end the program is `killed` (it runs again): the process
 *    runtime's supervisor reports the signal apart from the code (process/supervisor.c); Docker
 *    only the engine's `OOMKilled` (as 9). A code is never read as a signal here, so 193–255 (and
 *    129–192 under the compiled supervisor) are exits, and 255 is never "signal 127".
 * 3. Else no code at all: the container was `lost`.
 * 4. Else the code is the program's `exit` (ACI reports only a code: always this).
 */
export function endOfContainer(status: ContainerEndSeen): AttemptEnd {
  const signal = status.signal ?? null;
  if (status.stoppedFor === 'timeout') return { kind: 'timeout' };
  if (status.stoppedFor === 'cancel') return { kind: 'cancelled' };
  if (status.stoppedFor === 'shutdown') return { kind: 'killed', signal, exitCode: status.exitCode };
  if (signal !== null) return { kind: 'killed', signal, exitCode: status.exitCode };
  if (status.exitCode === null) return { kind: 'lost' };
  return { kind: 'exit', exitCode: status.exitCode };
}

export function describeEnd(end: AttemptEnd): string {
  switch (end.kind) {
    case 'lost':
      return 'the container was lost (it is gone, and its end was never seen)';
    case 'killed':
      return end.signal === null ? 'the container was killed' : `the container was killed by signal ${end.signal}${end.exitCode === null ? '' : ` (exit code ${end.exitCode})`}`;
    case 'exit':
      // The program chose its code: nothing happened to it.
      return `exited with code ${end.exitCode}`;
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
