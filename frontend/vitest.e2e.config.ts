import { defineConfig } from 'vitest/config';

// End-to-end tests: Debian's Chromium against a real lanfeedd on loopback
// (see e2e/harness.ts). `npm run e2e` expects the binary built already:
// $LANFEEDD, default ../build/bin/lanfeedd.
export default defineConfig({
  test: {
    environment: 'node',
    include: ['e2e/**/*.e2e.test.ts'],
    // one Chromium at a time: the suite is sized for two cores
    fileParallelism: false,
    testTimeout: 30_000,
    hookTimeout: 40_000,
    teardownTimeout: 15_000,
  },
});
