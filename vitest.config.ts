// Unit, property and end-to-end suites. Forked processes keep native addons (lmdb, uWS)
// and their worker threads isolated per test file.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
