import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { tableFromIPC } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { CLI, fixture, runCli, tempDir, writeJsonl } from '../helpers.js';

// Slow (a full default run, killed and run again, twice): in the system suite (npm run test:system).
const zul = fixture('sib200/zul_Latn');

describe('a killed run never leaves a truncated file under a final name', () => {
  /** A corpus large enough that the run takes a few seconds: real sentences, repeated with new ids. */
  function bigCorpus(dir: string): string {
    const file = path.join(dir, 'big.jsonl');
    const rows: unknown[] = [];
    for (let k = 0; k < 8; k++) for (const r of zul) rows.push({ id: `${r.id}-${k}`, text: `${r.text} (${k})` });
    writeJsonl(file, rows);
    return file;
  }

  function startRun(input: string, out: string) {
    return spawn(process.execPath, [CLI, 'run', '--input', input, '--out', out, '--quiet'], { stdio: 'ignore' });
  }

  async function killWhen(child: ReturnType<typeof startRun>, out: string, seen: RegExp, delayMs: number): Promise<boolean> {
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline && child.exitCode === null) {
      const hit = existsSync(out) && readdirSync(out).some((f) => seen.test(f));
      if (hit) {
        await new Promise((r) => setTimeout(r, delayMs));
        child.kill('SIGKILL');
        await new Promise((r) => child.once('exit', r));
        return true;
      }
      await new Promise((r) => setTimeout(r, 5));
    }
    return false;
  }

  const finals = ['selection.arrow', 'selection.parquet', 'results.duckdb', 'report.html', 'manifest.json'];

  it('killed while reading: no final outputs; a rerun completes and clears the partial files', async () => {
    const dir = tempDir();
    const input = bigCorpus(dir);
    const out = path.join(dir, 'out');
    const child = startRun(input, out);
    expect(await killWhen(child, out, /^\.winnow-work$/, 300)).toBe(true);
    const left = readdirSync(out);
    for (const f of finals) expect(left).not.toContain(f);
    // The interrupted run's store and checkpoints wait in the work folder for the rerun to resume.
    expect(left).toContain('.winnow-work');

    const rerun = await runCli(['run', '--input', input, '--out', out, '--quiet']);
    expect(rerun.code).toBe(0);
    // The five outputs and the fitted built-in encoder, nothing partial.
    expect(readdirSync(out).sort()).toEqual([...finals, 'model'].sort());
  });

  it('killed while writing outputs: the previous complete outputs stay intact', async () => {
    const dir = tempDir();
    const input = bigCorpus(dir);
    const out = path.join(dir, 'out');
    expect((await runCli(['run', '--input', input, '--out', out, '--quiet'])).code).toBe(0);
    const before = readFileSync(path.join(out, 'manifest.json'), 'utf8');
    const child = startRun(input, out);
    expect(await killWhen(child, out, /^\.selection\.arrow\.partial-/, 20)).toBe(true);
    expect(readFileSync(path.join(out, 'manifest.json'), 'utf8')).toBe(before);
    const rows = JSON.parse(before).counts.selected;
    expect(tableFromIPC(readFileSync(path.join(out, 'selection.arrow'))).numRows).toBe(rows);
  });
});
