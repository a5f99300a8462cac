import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { node22 } from '../artifacts/node22.js';
import { ROOT, tempDir } from '../helpers.js';

// The tests that need Node 22 (node:sqlite, as the worker image opens a SQLite store) run in a
// vitest of their own under Node 22; this runs it from the main suite, on Node 20.
const NODE22 = node22('the SQLite tests on node:sqlite');
const run = promisify(execFile);

// Every test those files hold: a file that fails to load, or a test skipped, shows here.
const EXPECTED_TESTS = {
  'tests/contract/sqlite-driver-node-sqlite.node22.test.ts': 9,
  'tests/contract/sqlite-job-store-node-sqlite.node22.test.ts': 22,
};

interface JsonReport {
  success: boolean;
  testResults: { name: string; assertionResults: { fullName: string; status: string; failureMessages: string[] }[] }[];
}

describe.runIf(NODE22)('the Node 22 tests (vitest.node22.config.ts)', () => {
  it('pass under Node 22, every one of them', async () => {
    const dir = tempDir('eda-node22-');
    try {
      const report = join(dir.path, 'report.json');
      // A clean environment: this vitest's own variables would tell that one it is a worker of this.
      const env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...(process.env.CI ? { CI: process.env.CI } : {}) };
      // A failed test is in the report, said test by test below; no report is said here.
      const failed = await run(NODE22!, ['node_modules/vitest/vitest.mjs', 'run', '--config', 'vitest.node22.config.ts', '--reporter=json', `--outputFile=${report}`], {
        cwd: ROOT,
        env,
      }).then(
        () => null,
        (error: { stderr?: string }) => error,
      );
      if (!existsSync(report)) throw new Error(`vitest under Node 22 wrote no report: ${failed?.stderr ?? ''}`);
      const { success, testResults } = JSON.parse(readFileSync(report, 'utf8')) as JsonReport;
      const tests = testResults.flatMap((file) => file.assertionResults);
      expect(tests.filter((test) => test.status !== 'passed').map((test) => `${test.fullName}: ${test.status} ${test.failureMessages[0] ?? ''}`)).toEqual([]);
      expect(Object.fromEntries(testResults.map((file) => [relative(ROOT, file.name), file.assertionResults.length]))).toEqual(EXPECTED_TESTS);
      expect(success).toBe(true);
    } finally {
      dir.remove();
    }
  }, 180_000);
});
