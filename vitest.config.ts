import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { defineConfig } from 'vitest/config';

// Tests (and the CLI processes they start) cache embeddings here, never in the user's ~/.cache.
const cacheHome = mkdtempSync(path.join(tmpdir(), 'winnow-test-cache-'));
process.on('exit', () => rmSync(cacheHome, { recursive: true, force: true }));

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The slow end-to-end suites run with `npm run test:system` (vitest.system.config.ts).
    exclude: ['test/orchestrators/**', 'test/system/**', '**/node_modules/**'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Tests spawn the CLI and DuckDB; two cores are shared between workers.
    maxWorkers: 2,
    // A barrier stage that adds to the run store what it does not declare fails the test (it warns for users).
    env: { XDG_CACHE_HOME: cacheHome, WINNOW_STRICT_STORE: '1' },
    setupFiles: ['test/setup.ts'],
    reporters: ['default', 'json'],
    outputFile: { json: 'test-output/vitest.json' },
  },
});
