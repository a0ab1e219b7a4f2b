import { defineConfig } from 'vitest/config';

// Integration tests share one stack (started by `npm test` before vitest runs) and
// mutate shared databases, so files run one at a time; unit tests are fast anyway.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 180_000,
    reporters: ['default'],
  },
});
