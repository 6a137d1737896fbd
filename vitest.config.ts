import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

// The files that run full pipelines, longest first (measured here, hooks included): on a fresh clone vitest
// has no timings to order by, and a long file started last leaves one core idle at the end.
const LONGEST = [
  'report/report',
  'select/pipeline',
  'augment/augment',
  'backbone/cli',
  'backbone/bad-input',
  'embed/builtin',
  'embed/device-cache',
  'dedup/dedup',
  'budget/budget',
  'executors/workers',
  'backbone/formats',
];
class LongestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const rank = (f: TestSpecification): number => {
      const i = LONGEST.findIndex((n) => f.moduleId.endsWith(`test/${n}.test.ts`));
      return i < 0 ? LONGEST.length : i;
    };
    return [...(await super.sort(files))].sort((a, b) => rank(a) - rank(b));
  }
}

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
    sequence: { sequencer: LongestFirst },
    // Test files share a worker's loaded modules (DuckDB, onnxruntime, the language-ID models) instead of
    // importing them again per file; no test changes module state another file reads.
    isolate: false,
    // A barrier stage that adds to the run store what it does not declare fails the test (it warns for users).
    env: { XDG_CACHE_HOME: cacheHome, WINNOW_STRICT_STORE: '1' },
    setupFiles: ['test/setup.ts'],
    reporters: ['default', 'json'],
    outputFile: { json: 'test-output/vitest.json' },
  },
});
