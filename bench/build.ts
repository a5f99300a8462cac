import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/**
 * The system under test is the build (`npm run build`), as `npm start` runs it: processes run the
 * built files, and what runs inside the benchmark's own process is imported from dist/ too. Only
 * the fakes of Azure (tests/fakes) are TypeScript, compiled by tsx as the tests compile them.
 */
export const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const DIST = join(ROOT, 'dist');
export const BUILT_STACK = join(DIST, 'stacks/local/main.js');

/** A module of the build, typed as its source. */
export async function fromBuild<T>(relative: string): Promise<T> {
  const path = join(DIST, relative);
  if (!existsSync(path)) throw new Error(`${path} is missing: run "npm run build" (npm run bench does)`);
  return (await import(pathToFileURL(path).href)) as T;
}
