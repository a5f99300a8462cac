import { SettingsError } from '../domain/errors.js';
import type { SqliteDriverName } from './sqlite/driver.js';
import { sqliteDriverProblem } from './sqlite/driver-choice.js';

/**
 * Imports an adapter that keeps its data in SQLite, which is for the local stack: its own
 * processes (better-sqlite3, from node_modules) and its tasks' containers (the worker image,
 * on Node 22's node:sqlite). Where neither driver loads (an artifact run on Node 20, say), a
 * `sqlite:` setting is a configuration mistake, said as one, not a crash when the store opens.
 */
export async function importLocalOnly<T>(setting: string, load: () => Promise<T>, driver?: SqliteDriverName): Promise<T> {
  const problem = sqliteDriverProblem(driver);
  if (problem !== null) {
    throw new SettingsError(
      `${setting} names SQLite, which is for the local stack (npm start); this build ships no SQLite driver that loads on Node ${process.version} (${problem}): it needs Node 22's node:sqlite or better-sqlite3, else use the mongodb:// or Service Bus settings it was deployed with`,
    );
  }
  return load();
}
