import type { JobStore } from '../domain/job-store.port.js';
import { SettingsError } from '../domain/errors.js';

/**
 * The store named by a connection string: `sqlite:` a file, `mongodb://` or `mongodb+srv://`
 * MongoDB (Cosmos DB on Azure). Adapters load on demand, so a worker that talks to SQLite never
 * loads the MongoDB driver.
 */
export async function openJobStore(databaseUri: string): Promise<JobStore> {
  if (databaseUri.startsWith('sqlite:')) {
    const [{ SqliteJobStore }, { sqlitePathFromUri }] = await Promise.all([
      import('./sqlite-job-store.js'),
      import('./sqlite-open.js'),
    ]);
    return new SqliteJobStore(sqlitePathFromUri(databaseUri));
  }
  if (/^mongodb(\+srv)?:\/\//.test(databaseUri)) {
    const { MongoJobStore } = await import('./mongo-job-store.js');
    return MongoJobStore.connect(databaseUri);
  }
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(databaseUri)?.[1];
  throw new SettingsError(
    `DATABASE_URI must start with sqlite:, mongodb:// or mongodb+srv:// (got ${scheme ? `"${scheme}:"` : 'no scheme'})`,
  );
}
