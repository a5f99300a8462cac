import { defineConfig } from 'vitest/config';

// The tests that run under Node 22 only: what the images' Node does with a SQLite store
// (node:sqlite). better-sqlite3 is built for the host's Node 20 and must not load here.
// tests/contract/node22-suite.test.ts runs them from the main suite.
export default defineConfig({
  test: {
    include: ['tests/**/*.node22.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
