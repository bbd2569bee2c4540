import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['**/*.test.ts'],
    exclude: ['node_modules/**', 'examples/**', '.services/**'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // End-to-end tests start real processes and servers; keep the 2-core CI box calm.
    fileParallelism: true,
    maxWorkers: 2,
  },
});
