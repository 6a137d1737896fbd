import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { defineConfig } from 'vitest/config';

// The system tests: end-to-end job behaviour that takes many full runs (kills and resumes, shards and
// merges, locks across hosts) and the orchestrators (the shipped Slurm scripts on a real cluster brought
// up by test/orchestrators/slurm-cluster.sh, the Kubernetes manifests). One file at a time: the Slurm
// tests share one cluster's queue, and each file already runs its CLI processes on every core.
const cacheHome = mkdtempSync(path.join(tmpdir(), 'winnow-test-cache-'));
process.on('exit', () => rmSync(cacheHome, { recursive: true, force: true }));

export default defineConfig({
  test: {
    include: ['test/system/**/*.test.ts', 'test/orchestrators/**/*.test.ts'],
    testTimeout: 900_000,
    hookTimeout: 300_000,
    fileParallelism: false,
    // A barrier stage that adds to the run store what it does not declare fails the test (it warns for users).
    env: { XDG_CACHE_HOME: cacheHome, WINNOW_STRICT_STORE: '1' },
    setupFiles: ['test/setup.ts'],
    reporters: ['default', 'json'],
    outputFile: { json: 'test-output/vitest-system.json' },
  },
});
