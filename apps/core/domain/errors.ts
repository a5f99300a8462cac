/** Errors with a stable `code`, so callers branch on the code and never on message text. */
export class AppError extends Error {
  constructor(
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

export class SettingsError extends AppError {
  constructor(message: string) {
    super('INVALID_SETTING', message);
  }
}

export class MessageLockLostError extends AppError {
  constructor(messageId: string) {
    super('MESSAGE_LOCK_LOST', `the lock on message ${messageId} expired or was already settled`);
  }
}

export class DuplicateJobError extends AppError {
  constructor(id: string) {
    super('DUPLICATE_JOB', `a job with id ${id} already exists`);
  }
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * A store or queue that cannot be opened: a file that is not a database, damaged pages, a
 * folder that cannot be written, a server that does not answer. The message names the file
 * or server and what to do; whoever opened it adds the setting that named it.
 */
export class StoreOpenError extends AppError {
  /** The whole finding when it is longer than a line (every line of a quick_check), for a report file. */
  readonly report: string | null;

  constructor(message: string, options?: { cause?: unknown; report?: string }) {
    super('STORE_OPEN_FAILED', message, options);
    this.report = options?.report ?? null;
  }
}

/** Damage found in a store while it runs: it answers no more until it is repaired. */
export class StoreDamagedError extends AppError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('STORE_DAMAGED', message, options);
  }
}
