import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

/**
 * Bundles the spawner Function app from apps/ (scripts/bundle.mjs, the same step the images
 * use) and returns where it is and a digest of what is in it: every file, chunks included,
 * by its path and content.
 */
export function buildFunctionPackage(repoRoot: string, outDir: string): { dir: string; sha256: string } {
  execFileSync(process.execPath, [join(repoRoot, 'scripts/bundle.mjs'), 'spawner', outDir], { cwd: repoRoot, stdio: 'pipe' });
  const files = readdirSync(outDir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative(outDir, join(entry.parentPath, entry.name)))
    .sort();
  const hash = createHash('sha256');
  for (const file of files) hash.update(file).update('\0').update(readFileSync(join(outDir, file)));
  return { dir: outDir, sha256: hash.digest('hex') };
}
