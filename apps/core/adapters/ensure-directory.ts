import { chmodSync, existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { PRIVATE_FOLDER_MODE } from './private-files.js';

/**
 * Creates `path` and its missing parents, one level at a time, so that a parent that exists
 * but cannot hold children fails at once. Node's `mkdirSync(path, { recursive: true })` spins
 * at full CPU for ever below /proc (procfs answers ENOENT for a child it cannot create, and the
 * recursive walk takes that for a missing parent; openclaw/openclaw#130807, Kewton/CommandMate#1774).
 * Each folder it makes is the owner's only (0700), whatever the umask: they hold the store.
 */
export function ensureDirectory(path: string): void {
  const target = resolve(path);
  const missing: string[] = [];
  for (let current = target; !existsSync(current); current = dirname(current)) {
    missing.unshift(current);
    if (dirname(current) === current) break;
  }
  for (const dir of missing) {
    try {
      mkdirSync(dir, { mode: PRIVATE_FOLDER_MODE });
      chmodSync(dir, PRIVATE_FOLDER_MODE); // the umask may have cut the owner's own bits
    } catch (error) {
      // Another process made it between the check and here.
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
  if (!statSync(target).isDirectory()) {
    throw Object.assign(new Error(`ENOTDIR: not a directory, ${target}`), { code: 'ENOTDIR' });
  }
}
