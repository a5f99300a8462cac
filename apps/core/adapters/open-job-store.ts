import type { JobStore } from '../domain/job-store.port.js';
import { AppError, errorMessage, SettingsError } from '../domain/errors.js';
import { importLocalOnly } from './local-only.js';

export class StoreUnreachableError extends AppError {
  constructor(where: string, cause: unknown) {
    super('STORE_UNREACHABLE', `the store (${where}) could not be opened: ${errorMessage(cause)}`, { cause });
  }
}

/**
 * The store named by a connection string: `sqlite:` a file, `mongodb://` or `mongodb+srv://`
 * MongoDB (Cosmos DB on Azure). Adapters load on demand, so a worker that talks to MongoDB
 * never loads the SQLite driver, which the images and the Function package do not ship.
 */
export async function openJobStore(databaseUri: string): Promise<JobStore> {
  if (databaseUri.startsWith('sqlite:')) {
    const [{ SqliteJobStore }, { sqlitePathFromUri }] = await importLocalOnly('DATABASE_URI', () =>
      Promise.all([import('./sqlite-job-store.js'), import('./sqlite-open.js')]),
    );
    return new SqliteJobStore(sqlitePathFromUri(databaseUri));
  }
  if (/^mongodb(\+srv)?:\/\//.test(databaseUri)) {
    const { MongoJobStore } = await import('./mongo-job-store.js');
    try {
      return await MongoJobStore.connect(databaseUri);
    } catch (error) {
      throw new StoreUnreachableError(describeDatabase(databaseUri), error);
    }
  }
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(databaseUri)?.[1];
  throw new SettingsError(
    `DATABASE_URI must start with sqlite:, mongodb:// or mongodb+srv:// (got ${scheme ? `"${scheme}:"` : 'no scheme'})`,
  );
}

/** Where a connection string points, for messages: hosts and database, never credentials. */
export function describeDatabase(databaseUri: string): string {
  if (databaseUri.startsWith('sqlite:')) return `SQLite file ${databaseUri.slice('sqlite:'.length) || '(none)'}`;
  const match = /^mongodb(?:\+srv)?:\/\/(?:[^@/]*@)?([^/?]*)(?:\/([^?]*))?/.exec(databaseUri);
  if (!match) return 'an unrecognised DATABASE_URI';
  return `MongoDB at ${match[1] || '(no host)'}${match[2] ? `, database ${match[2]}` : ''}`;
}
