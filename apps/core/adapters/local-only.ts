import { SettingsError } from '../domain/errors.js';

/**
 * Imports an adapter that needs the SQLite driver. The driver is native and serves only the
 * local stack, so the images and the Function package do not ship it: there a `sqlite:`
 * setting is a configuration mistake, said as one, not a missing-module crash.
 */
export async function importLocalOnly<T>(setting: string, load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (error) {
    const code = (error as { code?: string } | null)?.code;
    if (code === 'ERR_MODULE_NOT_FOUND' && String((error as Error).message).includes('better-sqlite3')) {
      throw new SettingsError(
        `${setting} names SQLite, which is for the local stack (npm start); this build ships no SQLite driver: use the mongodb:// or Service Bus settings it was deployed with`,
      );
    }
    throw error;
  }
}
