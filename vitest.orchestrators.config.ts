import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { defineConfig } from 'vitest/config';

// The orchestrator tests: the shipped Slurm scripts on a real cluster (test/orchestrators/slurm-cluster.sh)
// and the Kubernetes manifests. One file at a time: the Slurm tests share one cluster's queue.
const cacheHome = mkdtempSync(path.join(tmpdir(), 'winnow-test-cache-'));
process.on('exit', () => rmSync(cacheHome, { recursive: true, force: true }));

export default defineConfig({
  test: {
    include: ['test/orchestrators/**/*.test.ts'],
    testTimeout: 900_000,
    hookTimeout: 300_000,
    fileParallelism: false,
    env: { XDG_CACHE_HOME: cacheHome },
    setupFiles: ['test/setup.ts'],
    reporters: ['default', 'json'],
    outputFile: { json: 'test-output/vitest-orchestrators.json' },
  },
});
