import type { JobStore } from '../domain/job-store.port.js';
import { SettingsError } from '../domain/errors.js';

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
 * MongoDB (Cosmos DB on Azure). Adapters load on demand, so a worker that talks to MongoDB never
 * loads the SQLite driver, and the other way round.
 */
export async function openJobStore(databaseUri: string): Promise<JobStore> {
  const problem = databaseUriProblem(databaseUri);
  if (problem) throw new SettingsError(problem);
  if (databaseUri.startsWith('sqlite:')) {
    const { SqliteJobStore } = await import('./sqlite-job-store.js');
    return new SqliteJobStore(sqlitePathFromUri(databaseUri));
  }
  const { MongoJobStore } = await import('./mongo-job-store.js');
  return MongoJobStore.connect(databaseUri);
}
