import { existsSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { errorMessage } from '../../apps/core/domain/errors.js';
import { ensureDirectory } from '../../apps/core/adapters/ensure-directory.js';
import { openToOthers } from '../../apps/core/adapters/private-files.js';
import { StartupError } from './start-up-error.js';

/** Virtual file systems that hold no files of ours (and below /proc, mkdir misbehaves). */
const VIRTUAL_ROOTS = ['/proc', '/sys'];

function nearestExisting(path: string): string {
  let current = path;
  while (!existsSync(current) && dirname(current) !== current) current = dirname(current);
  return current;
}

/**
 * Makes sure DATA_DIR is a folder this process can write, before any store opens in it: a
 * file in its place, a folder without write access, or a path below /proc each stop the
 * start with one line that says what to change. A folder it makes is 0700; an existing one that
 * others may read gets one warning line (its contents are every task's message, output and log).
 */
export function prepareDataDir(dir: string, warn: (line: string) => void = () => {}): void {
  const setting = `DATA_DIR ${dir}`;
  const real = realpathSync(nearestExisting(dir));
  const root = VIRTUAL_ROOTS.find((r) => real === r || real.startsWith(`${r}/`));
  if (root) throw new StartupError(`${setting} is inside ${root}, a virtual file system that cannot hold the data: set DATA_DIR to a folder on disk`);
  if (existsSync(dir) && !statSync(dir).isDirectory()) {
    throw new StartupError(`${setting} is a file, not a folder: move the file away, or set DATA_DIR to a folder`);
  }
  const existed = existsSync(dir);
  try {
    ensureDirectory(dir);
  } catch (error) {
    throw new StartupError(`${setting} cannot be created (${errorMessage(error)}): set DATA_DIR to a folder this user may create or write`);
  }
  const probe = join(dir, `.write-test-${process.pid}`);
  try {
    writeFileSync(probe, '');
    rmSync(probe);
  } catch (error) {
    throw new StartupError(`${setting} is not writable (${errorMessage(error)}): give this user write access to it, or set DATA_DIR to another folder`);
  }
  const access = openToOthers(dir);
  if (existed && access.open) {
    warn(`warning: ${setting} may be read by other users of this machine (mode ${access.mode}), and it holds every task's message, output and logs: run chmod 700 ${dir}`);
  }
}
