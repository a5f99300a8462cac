import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    // Under Node 22, by their own config (vitest.node22.config.ts), from tests/contract/node22-suite.test.ts.
    exclude: [...configDefaults.exclude, 'tests/**/*.node22.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Worker processes and SQLite files: forks keep native modules and signals simple.
    pool: 'forks',
  },
});
