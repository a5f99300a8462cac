import type Database from 'better-sqlite3';
import { createRequire } from 'node:module';
import type { SqliteConnection, SqliteDriver } from './driver.js';

const requireHere = createRequire(import.meta.url);

/**
 * The driver's JavaScript, loaded only when asked for: the images do not ship it, and a static
 * import would fail their SQLite chunk before node:sqlite could be chosen. In the worker-local
 * CommonJS bundle `require` is the module's own, so esbuild puts the driver's JavaScript inside
 * that bundle, which starts sooner (bench/README.md); the ES module bundles keep it external,
 * and ES modules elsewhere (dist/, tests) have no `require` and load it from node_modules.
 */
function requireBetterSqlite3(): typeof Database {
  return typeof require === 'function' ? require('better-sqlite3') : requireHere('better-sqlite3');
}

/**
 * The driver's native addon, where its install puts it (prebuilt or built from source alike).
 * Handed to the driver, it is loaded directly instead of by a search of the folders around the
 * caller ('bindings'), which costs a worker's start milliseconds, and which cannot find it from a
 * bundle. Undefined where it is not there: the driver's own search then runs.
 */
function findNativeAddon(): string | undefined {
  try {
    return requireHere.resolve('better-sqlite3/build/Release/better_sqlite3.node');
  } catch {
    return undefined;
  }
}

class BetterSqlite3Connection implements SqliteConnection {
  readonly driver = 'better-sqlite3';

  constructor(private readonly db: Database.Database) {}

  get open(): boolean {
    return this.db.open;
  }

  prepare(source: string) {
    return this.db.prepare(source);
  }

  exec(source: string): void {
    this.db.exec(source);
  }

  immediateTransaction<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate();
  }

  close(): void {
    this.db.close();
  }
}

/**
 * better-sqlite3, once it has opened a database: its addon is built for one Node (the host's),
 * and another Node refuses it only when a database is first opened.
 */
export function loadBetterSqlite3(): SqliteDriver {
  const Driver = requireBetterSqlite3();
  const nativeAddon = findNativeAddon();
  const options = nativeAddon ? { nativeBinding: nativeAddon } : {};
  new Driver(':memory:', options).close();
  return { name: 'better-sqlite3', open: (path) => new BetterSqlite3Connection(new Driver(path, options)) };
}
