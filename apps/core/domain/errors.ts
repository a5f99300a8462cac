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
