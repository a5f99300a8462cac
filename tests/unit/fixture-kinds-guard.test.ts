import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers.js';

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'fixtures' ? [] : sources(path);
    return /\.(ts|mjs)$/.test(entry.name) ? [path] : [];
  });
}

/**
 * Issue 32: the tests read their own kinds (tests/fixtures/kinds/kinds.json), never the user's
 * kinds.json. tests/e2e/fixture-kinds.test.ts shows the helpers do; this keeps every test on them.
 */
describe('every stack and settings read in the tests names its kinds file', () => {
  const files = sources(join(ROOT, 'tests')).map((path) => ({ path: relative(ROOT, path), text: readFileSync(path, 'utf8') }));

  it('starts the built stack only through the helpers, which give it KINDS_FILE', () => {
    const starters = files.filter(({ text }) => /spawn\([^)]*BUILT_LOCAL_STACK/.test(text) || /\[process\.execPath, \[?(\.\.\.nodeOptions, )?BUILT_LOCAL_STACK\]/.test(text)).map(({ path }) => path);
    expect(starters.sort()).toEqual(['tests/faults/fault-run.ts', 'tests/local-stack-process.ts']);
    expect(files.find(({ path }) => path === 'tests/faults/fault-run.ts')!.text).toMatch(/KINDS_FILE: FIXTURE_KINDS/);
    expect(files.find(({ path }) => path === 'tests/local-stack-process.ts')!.text.match(/env: stackEnv\(env\)/g)).toHaveLength(2);
  });

  it('reads the local settings only with a kinds file named', () => {
    const calls = files.flatMap(({ path, text }) => [...text.matchAll(/readLocalSettings\(([^\n]*)/g)].map((match) => ({ path, args: match[1]! })));
    const unnamed = calls.filter(({ args }) => !args.startsWith('withFixtureKinds(') && !/KINDS_FILE/.test(args) && !args.startsWith("'"));
    expect(calls.length).toBeGreaterThan(5);
    expect(unnamed).toEqual([]);
  });
});
