import type { JobStore } from '../domain/job-store.port.js';
import { AppError, errorMessage, SettingsError } from '../domain/errors.js';
import { databaseUriProblem, describeDatabase, sqlitePathFromUri } from '../domain/database-uri.js';
import { importLocalOnly } from './local-only.js';
import type { SqliteDriverName } from './sqlite/driver.js';

export class StoreUnreachableError extends AppError {
  constructor(where: string, cause: unknown) {
    super('STORE_UNREACHABLE', `the store (${where}) could not be opened: ${errorMessage(cause)}`, { cause });
  }
}

export interface OpenJobStoreOptions {
  /** Check the store's indexes at start (MongoDB only; see MongoJobStoreOptions). Default true. */
  verifyIndexes?: boolean;
  /** The SQLite driver (SQLite only). Default: the first that loads (sqlite/driver-choice.ts). */
  sqliteDriver?: SqliteDriverName;
}

/**
 * The store named by a connection string: `sqlite:` a file, `mongodb://` or `mongodb+srv://`
 * MongoDB (Cosmos DB on Azure). Adapters load on demand, so a worker that talks to MongoDB
 * never loads a SQLite driver.
 */
export async function openJobStore(databaseUri: string, options: OpenJobStoreOptions = {}): Promise<JobStore> {
  const problem = databaseUriProblem(databaseUri);
  if (problem) throw new SettingsError(problem);
  if (databaseUri.startsWith('sqlite:')) {
    const { SqliteJobStore } = await importLocalOnly('DATABASE_URI', () => import('./sqlite/job-store.js'), options.sqliteDriver);
    return new SqliteJobStore(sqlitePathFromUri(databaseUri), { driver: options.sqliteDriver });
  }
  const { MongoJobStore } = await import('./mongo/job-store.js');
  try {
    return await MongoJobStore.connect(databaseUri, options);
  } catch (error) {
    // The store answered with a reason of its own (such as a missing index): said as it is.
    if (error instanceof AppError) throw error;
    throw new StoreUnreachableError(describeDatabase(databaseUri), error);
  }
}
