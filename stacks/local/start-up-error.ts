import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { StoreUnreachableError } from '../../apps/core/adapters/open-job-store.js';
import { AppError, errorMessage, SettingsError, StoreOpenError } from '../../apps/core/domain/errors.js';

/**
 * A fault at start that the user can fix: `npm start` prints its message as one line, naming
 * the setting or file and what to do, and exits 2 without a stack trace.
 */
export class StartupError extends AppError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('CANNOT_START', message, options);
  }
}

/**
 * Names the setting behind a store or queue that would not open. Errors that are not about
 * the store's file or server (a bug) pass through unchanged, stack and all.
 */
export function explainStoreFailure(error: unknown, setting: string, reportDir?: string): unknown {
  if (error instanceof SettingsError || error instanceof StartupError) return error;
  if (error instanceof StoreOpenError) {
    const report = error.report && reportDir ? writeReport(reportDir, error.report) : null;
    return new StartupError(`${setting}: ${error.message}${report ? `; full report: ${report}` : ''}`, { cause: error });
  }
  if (error instanceof StoreUnreachableError) {
    return new StartupError(
      `${setting}: MongoDB did not accept the connection (${errorMessage(error.cause)}): check that the server runs and is reachable, and the connection string`,
      { cause: error },
    );
  }
  return error;
}

/** The listen errors a user can fix by changing HOST or PORT. */
export function explainListenFailure(error: unknown, host: string, port: number): unknown {
  switch ((error as NodeJS.ErrnoException)?.code) {
    case 'EADDRINUSE':
      return new StartupError(`PORT ${port} is already in use on ${host}: stop what listens there, or set PORT to another port (PORT=0 picks a free one)`);
    case 'EACCES':
      return new StartupError(`PORT ${port} on ${host} needs privileges this user does not have: set PORT to a port above 1023`);
    case 'EADDRNOTAVAIL':
      return new StartupError(`HOST ${host} is not an address of this machine: set HOST to one of its addresses (127.0.0.1 by default)`);
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new StartupError(`HOST ${host} is not a name this machine can resolve: set HOST to an address, such as 127.0.0.1`);
    default:
      return error;
  }
}

/**
 * Writes a long finding (every damaged page quick_check names) beside the data, so the start's
 * error stays one line; null when it can't be written (the line alone is still true).
 */
function writeReport(dir: string, report: string): string | null {
  const path = join(dir, `store-check-${new Date().toISOString().replace(/[:.]/g, '-')}.txt`);
  try {
    writeFileSync(path, `${report}\n`);
    return path;
  } catch {
    return null;
  }
}
