import { spawn } from 'node:child_process';
import type { SqliteDriverName } from '../../apps/core/adapters/sqlite/driver.js';
import { ROOT } from '../helpers.js';

/** How a writer process runs: which Node, and for a `sqlite:` store which driver it opens it with. */
export interface StoreWriterRuntime {
  /** Default: this process's Node. */
  node?: string;
  /** Default: the first that loads there (better-sqlite3 is built for Node 20 only). */
  sqliteDriver?: SqliteDriverName;
}

export type StoreWriterAction = 'run-to-done' | 'fail';

export interface StoreWriter {
  /** Settles once the writer has its store open and waits, or has exited. */
  ready: Promise<void>;
  /** Lets it write. */
  go(): void;
  exit: Promise<{ code: number; stderr: string }>;
}

/**
 * Starts tests/contract/store-writer.ts in a process of its own against the store at `uri`: once
 * let go, it runs each named container's job to Done (`run-to-done`) or fails it (`fail`).
 */
export function startStoreWriter(uri: string, action: StoreWriterAction, names: string[], runtime: StoreWriterRuntime = {}): StoreWriter {
  const child = spawn(runtime.node ?? process.execPath, ['--import', 'tsx', 'tests/contract/store-writer.ts', uri, action, ...names], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', ...(runtime.sqliteDriver ? { SQLITE_DRIVER: runtime.sqliteDriver } : {}) },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  // A writer that died before it was let go says so by its exit, not by a broken pipe here.
  child.stdin.on('error', () => undefined);
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const exit = new Promise<{ code: number; stderr: string }>((resolve) => child.on('exit', (code) => resolve({ code: code ?? -1, stderr })));
  const ready = new Promise<void>((resolve) => {
    child.stdout.on('data', (chunk) => String(chunk).includes('ready') && resolve());
    void exit.then(() => resolve());
  });
  return { ready, go: () => child.stdin.end('go\n'), exit };
}
