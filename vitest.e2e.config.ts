import { defineConfig } from 'vitest/config';

// The real-kernel tier: each test file boots User-Mode Linux guests (test/e2e/guest/), so files run
// one at a time (2 cores) and tests get generous timeouts.
export default defineConfig({
  test: {
    include: ['test/e2e/**/*.e2e.test.ts'],
    environment: 'node',
    fileParallelism: false,
    testTimeout: 600_000,
    hookTimeout: 600_000,
  },
});
