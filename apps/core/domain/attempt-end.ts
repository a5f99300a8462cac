/**
 * How an attempt ended: one classification that every stack uses and every rule cites. The
 * table below is the whole policy; `runsAgain` reads it.
 *
 * | end           | runs again?                                     | bound             | evidence: process / Docker / ACI |
 * | ------------- | ----------------------------------------------- | ----------------- | -------------------------------- |
 * | `exit`        | only when the kind's `retryExitCodes` names it   | `maxAttempts`     | the program's exit code |
 * | `timeout`     | never                                           | —                 | the stack's own stop, recorded as a timeout |
 * | `lost`        | yes                                             | `maxAttempts`     | no status, no container |
 * | `killed`      | yes                                             | `maxAttempts`     | a signal the program didn't choose (local runtimes); on ACI, with no source for a kill, a code is an `exit` |
 * | `not-started` | yes, deferred                                   | its own (start wait), never `maxAttempts` | the runtime's "not started": capacity, quota, a provisioning failure with a platform cause |
 * | `dead-letter` | never                                           | —                 | the queue dead-lettered the work |
 * | `cancelled`   | never                                           | —                 | a person or a script asked |
 */
export const ATTEMPT_END_KINDS = ['exit', 'timeout', 'lost', 'killed', 'not-started', 'dead-letter', 'cancelled'] as const;
export type AttemptEndKind = (typeof ATTEMPT_END_KINDS)[number];

export type AttemptEnd =
  | { kind: 'exit'; exitCode: number }
  | { kind: 'timeout' }
  | { kind: 'lost' }
  /** `exitCode` where the runtime reports one with the kill (a shell's 128 + n), else null. */
  | { kind: 'killed'; signal: number | null; exitCode: number | null }
  | { kind: 'not-started'; cause: string }
  | { kind: 'dead-letter' }
  | { kind: 'cancelled' };

/**
 * Why the stack stopped a container: its task ran past its timeout, the stack is shutting down
 * (the task runs again at the next start), or a person cancelled it. Recorded with the container
 * before the stop is sent, so its end is never read as the program's own.
 */
export type StopReason = 'timeout' | 'shutdown' | 'cancel';

/** What a runtime saw of a finished container's end: the fields of its status that `endOfContainer` reads. */
export interface ContainerEndSeen {
  exitCode: number | null;
  /** The signal that ended the program, where the runtime saw one. */
  signal?: number | null;
  /** Why the stack stopped it, when it did. */
  stoppedFor?: StopReason | null;
}

/** What the table says of one kind of end: whether it runs again, and what bounds it. */
export interface EndRule {
  runsAgain: 'never' | 'if-exit-code-named' | 'yes' | 'deferred';
  bound: 'maxAttempts' | 'startWait' | null;
}

export const END_RULES: Record<AttemptEndKind, EndRule> = {
  exit: { runsAgain: 'if-exit-code-named', bound: 'maxAttempts' },
  timeout: { runsAgain: 'never', bound: null },
  lost: { runsAgain: 'yes', bound: 'maxAttempts' },
  killed: { runsAgain: 'yes', bound: 'maxAttempts' },
  'not-started': { runsAgain: 'deferred', bound: 'startWait' },
  'dead-letter': { runsAgain: 'never', bound: null },
  cancelled: { runsAgain: 'never', bound: null },
};

/** The exit code an end carries, where it has one (`exitCode` on the task object). */
export function exitCodeOf(end: AttemptEnd): number | null {
  if (end.kind === 'exit') return end.exitCode;
  if (end.kind === 'killed') return end.exitCode;
  return null;
}
