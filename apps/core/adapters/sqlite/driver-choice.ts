import { AppError, errorMessage } from '../../domain/errors.js';
import type { SqliteDriver, SqliteDriverName } from './driver.js';
import { loadBetterSqlite3 } from './driver-better-sqlite3.js';
import { loadNodeSqlite } from './driver-node-sqlite.js';

/** Neither driver loads here: the message says why each does not. */
export class NoSqliteDriverError extends AppError {
  constructor(readonly reasons: string) {
    super('NO_SQLITE_DRIVER', `no SQLite driver loads on Node ${process.version} (${reasons})`);
  }
}

type Loaded = { driver: SqliteDriver } | { problem: string };

const LOADERS: Record<SqliteDriverName, () => SqliteDriver> = {
  'better-sqlite3': loadBetterSqlite3,
  'node:sqlite': loadNodeSqlite,
};
const loaded = new Map<SqliteDriverName, Loaded>();

function load(name: SqliteDriverName): Loaded {
  let result = loaded.get(name);
  if (!result) {
    try {
      result = { driver: LOADERS[name]() };
    } catch (error) {
      // A missing module's message goes on with its require stack: its first line says it.
      result = { problem: `${name}: ${errorMessage(error).split('\n')[0]}` };
    }
    loaded.set(name, result);
  }
  return result;
}

/**
 * The driver named, or else the first that loads: better-sqlite3 where it is installed (the
 * host's node_modules, npm start), then node:sqlite where the runtime has it (the images, on
 * Node 22). Synchronous, since the stores open in their constructors; each is loaded once.
 */
function choose(name?: SqliteDriverName): Loaded {
  if (name) return load(name);
  const better = load('better-sqlite3');
  if ('driver' in better) return better;
  const builtIn = load('node:sqlite');
  if ('driver' in builtIn) return builtIn;
  return { problem: `${better.problem}; ${builtIn.problem}` };
}

export function sqliteDriver(name?: SqliteDriverName): SqliteDriver {
  const chosen = choose(name);
  if ('driver' in chosen) return chosen.driver;
  throw new NoSqliteDriverError(chosen.problem);
}

/** Why no SQLite driver can be had here, or null when one can. */
export function sqliteDriverProblem(name?: SqliteDriverName): string | null {
  const chosen = choose(name);
  return 'problem' in chosen ? chosen.problem : null;
}
