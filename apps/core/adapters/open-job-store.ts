import type { JobStore } from '../domain/job-store.port.js';
import { AppError, errorMessage, SettingsError } from '../domain/errors.js';
import { importLocalOnly } from './local-only.js';

export class StoreUnreachableError extends AppError {
  constructor(where: string, cause: unknown) {
    super('STORE_UNREACHABLE', `the store (${where}) could not be opened: ${errorMessage(cause)}`, { cause });
  }
}

const MONGODB_URI = /^mongodb(\+srv)?:\/\//;

/** `sqlite:/abs/path.db`, `sqlite:///abs/path.db` or `sqlite:relative.db` → the file path ('' when none). */
export function sqlitePathFromUri(uri: string): string {
  return uri.replace(/^sqlite:(\/\/(?=\/))?/, '');
}

/** What is wrong with a DATABASE_URI before anything is opened, or null: for settings readers. */
export function databaseUriProblem(databaseUri: string): string | null {
  if (databaseUri.startsWith('sqlite:')) {
    return sqlitePathFromUri(databaseUri) ? null : `DATABASE_URI "${databaseUri}" names no file: write sqlite:<file>, for example sqlite:.data/jobs.db`;
  }
  if (MONGODB_URI.test(databaseUri)) return null;
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(databaseUri)?.[1];
  return `DATABASE_URI must start with sqlite:, mongodb:// or mongodb+srv:// (got ${scheme ? `"${scheme}:"` : 'no scheme'})`;
}

/**
 * The store named by a connection string: `sqlite:` a file, `mongodb://` or `mongodb+srv://`
 * MongoDB (Cosmos DB on Azure). Adapters load on demand, so a worker that talks to MongoDB
 * never loads the SQLite driver, which the images and the Function package do not ship.
 */
export async function openJobStore(databaseUri: string): Promise<JobStore> {
  const problem = databaseUriProblem(databaseUri);
  if (problem) throw new SettingsError(problem);
  if (databaseUri.startsWith('sqlite:')) {
    const { SqliteJobStore } = await importLocalOnly('DATABASE_URI', () => import('./sqlite-job-store.js'));
    return new SqliteJobStore(sqlitePathFromUri(databaseUri));
  }
  const { MongoJobStore } = await import('./mongo-job-store.js');
  try {
    return await MongoJobStore.connect(databaseUri);
  } catch (error) {
    throw new StoreUnreachableError(describeDatabase(databaseUri), error);
  }
}

/** Where a connection string points, for messages: hosts and database, never credentials. */
export function describeDatabase(databaseUri: string): string {
  if (databaseUri.startsWith('sqlite:')) return `SQLite file ${databaseUri.slice('sqlite:'.length) || '(none)'}`;
  const match = /^mongodb(?:\+srv)?:\/\/(?:[^@/]*@)?([^/?]*)(?:\/([^?]*))?/.exec(databaseUri);
  if (!match) return 'an unrecognised DATABASE_URI';
  return `MongoDB at ${match[1] || '(no host)'}${match[2] ? `, database ${match[2]}` : ''}`;
}
