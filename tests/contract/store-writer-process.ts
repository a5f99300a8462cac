import { spawn } from 'node:child_process';
import type { SqliteDriverName } from '../../apps/core/adapters/sqlite-driver.js';
import { ROOT } from '../helpers.js';

/** How a writer process runs: which Node, and for a `sqlite:` store which driver it opens it with. */
export interface StoreWriterRuntime {
  /** Default: this process's Node. */
  node?: string;
  /** Default: the first that loads there (better-sqlite3 is built for Node 20 only). */
  sqliteDriver?: SqliteDriverName;
}

/**
 * Runs tests/contract/store-writer.ts in a process of its own against the store at `uri`: it
 * runs each named container's job to Done (`run-to-done`) or fails it (`fail`).
 */
export function storeWriterProcess(uri: string, action: 'run-to-done' | 'fail', names: string[], runtime: StoreWriterRuntime = {}): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(runtime.node ?? process.execPath, ['--import', 'tsx', 'tests/contract/store-writer.ts', uri, action, ...names], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', ...(runtime.sqliteDriver ? { SQLITE_DRIVER: runtime.sqliteDriver } : {}) },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('exit', (code) => resolve({ code: code ?? -1, stderr }));
  });
}
