import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { describe, expect, it } from 'vitest';
import { ROOT, runCli, tempDir } from '../helpers.js';
import { fixturePipeline } from '../jobs/job-helpers.js';

const canMount = process.getuid?.() === 0 && spawnSync('mount', ['--version']).status === 0;

describe('failures of the machine end with a documented exit code and the path, not "internal error"', () => {
  it.skipIf(!canMount)(
    'a full disk exits 74 naming the file; with space again the same command resumes',
    async () => {
      const dir = tempDir('winnow-env-');
      const yaml = fixturePipeline(dir);
      const disk = path.join(dir, 'small-disk');
      mkdirSync(disk);
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', disk]);
      try {
        const full = await runCli(['run', yaml, '--out', path.join(disk, 'out')]);
        expect(full.code, full.stderr).toBe(74);
        expect(full.stderr).toMatch(/the disk is full: .*small-disk\/out/);
        expect(full.stderr).not.toContain('internal error');
        execFileSync('mount', ['-o', 'remount,size=256m', disk]);
        const again = await runCli(['run', yaml, '--out', path.join(disk, 'out')], { logFormat: 'json' });
        expect(again.code, again.stderr).toBe(0);
        expect(again.stderr).toContain('resuming run');
      } finally {
        execFileSync('umount', [disk]);
      }
    },
    180_000,
  );

  it('a state store held open by another process (a query, a notebook) exits 75: retry later', async () => {
    const state = path.join(tempDir('winnow-env-'), 'state');
    const nightly = path.join(ROOT, 'pipelines', 'lake-nightly.yaml');
    expect((await runCli(['run', nightly, '--state', state, '--quiet'])).code).toBe(0);
    const reader = await DuckDBInstance.create(path.join(state, 'state.duckdb'), { access_mode: 'READ_ONLY' });
    const conn = await reader.connect();
    try {
      const busy = await runCli(['run', nightly, '--state', state]);
      expect(busy.code, busy.stderr).toBe(75);
      expect(busy.stderr).toMatch(/state\.duckdb is open in another process .*Close it/);
    } finally {
      conn.closeSync();
      reader.closeSync();
    }
    expect((await runCli(['run', nightly, '--state', state, '--quiet'])).code).toBe(0);
  }, 180_000);
});
