import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Worker processes and SQLite files: forks keep native modules and signals simple.
    pool: 'forks',
  },
});
