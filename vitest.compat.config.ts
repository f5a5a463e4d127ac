import { defineConfig } from 'vitest/config';

// The distribution matrix (npm run test:compat, via test/compat/run): one real-kernel guest per profile
// of test/compat/profiles.json, with that profile's lvm2/util-linux first on PATH. Files and tests run
// one at a time (2 cores); the guests are long.
export default defineConfig({
  test: {
    include: ['test/compat/**/*.compat.test.ts'],
    environment: 'node',
    fileParallelism: false,
    testTimeout: 900_000,
    hookTimeout: 900_000,
  },
});
