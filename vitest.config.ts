import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

/**
 * Two projects: `unit` (pure specs beside the code and the deployment-file checks, `*.spec.ts`:
 * no database, no global setup) and `e2e` (the real application on the run's database, set up
 * once by test/global-setup.ts). `npx vitest run --project unit` runs the fast ones alone.
 */
export default defineConfig({
  resolve: {
    alias: [{ find: /^#src\/(.*)\.js$/, replacement: fileURLToPath(new URL('./src/$1.ts', import.meta.url)) }],
  },
  test: {
    setupFiles: ['test/setup.ts'],
    pool: 'forks',
    reporters: ['default', './test/summary-reporter.ts'],
    projects: [
      {
        extends: true,
        test: { name: 'unit', include: ['src/**/*.spec.ts', 'test/**/*.spec.ts'] },
      },
      {
        extends: true,
        test: {
          name: 'e2e',
          include: ['test/**/*.e2e-spec.ts'],
          globalSetup: ['test/global-setup.ts'],
          // The suites share one database.
          fileParallelism: false,
          // Deadlines, not expectations: a busy machine is slow, a hung test still ends.
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
