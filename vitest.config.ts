import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { defineConfig } from 'vitest/config';

// Tests (and the CLI processes they start) cache embeddings here, never in the user's ~/.cache.
const cacheHome = mkdtempSync(path.join(tmpdir(), 'winnow-test-cache-'));

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Tests spawn the CLI and DuckDB; two cores are shared between workers.
    maxWorkers: 2,
    env: { XDG_CACHE_HOME: cacheHome },
    reporters: ['default', 'json'],
    outputFile: { json: 'test-output/vitest.json' },
  },
});
