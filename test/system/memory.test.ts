import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FIXTURES, queryStore, runCli, tempDir, writePipeline } from '../helpers.js';

const pipeline = (dir: string): string =>
  writePipeline(
    dir,
    `name: memory
seed: 2
sources:
  - name: sib200
    path: ${JSON.stringify(path.join(FIXTURES, 'sib200', '{yor_Latn,hau_Latn,swh_Latn,zul_Latn,kin_Latn,lin_Latn}.jsonl.gz'))}
    columns: { text: text, id: id, lang: lang }
stages:
  langid: { enabled: false }
  embed: { model: builtin, builtin: { dim: 32, buckets: 8192 } }
  budget: { target: { tokens: 30000 } }
`,
  );

const selected = async (out: string): Promise<string[]> =>
  (await queryStore<{ id: string }>(path.join(out, 'results.duckdb'), `SELECT id FROM samples WHERE status = 'selected' ORDER BY uid`)).map((r) => r.id);

interface LogEvent {
  event: string;
  phase?: string;
  rss_mb?: number;
  peak_rss_mb?: number;
  duckdb_memory_limit?: string;
}
const events = (stderr: string): LogEvent[] =>
  stderr
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as LogEvent);

describe('the memory budget (execution.memory, --memory, WINNOW_MEMORY)', () => {
  it('a run out of memory exits 4 naming the knob; the same command with more memory resumes and gives the same selection', async () => {
    const dir = tempDir('winnow-memory-');
    const yaml = pipeline(dir);
    const reference = path.join(dir, 'reference');
    const ref = await runCli(['run', yaml, '--out', reference, '--memory', '2GB'], { logFormat: 'json' });
    expect(ref.code, ref.stderr).toBe(0);
    // Memory per phase in the JSON log, and DuckDB's cap derived from the budget (half of it).
    const phases = events(ref.stderr).filter((e) => e.event === 'phase_done');
    expect(phases.length).toBeGreaterThan(5);
    for (const p of phases) expect(p.peak_rss_mb, p.phase).toBeGreaterThanOrEqual(p.rss_mb! - 1);
    expect(events(ref.stderr).find((e) => e.event === 'memory')?.duckdb_memory_limit).toBe('1.0GB');

    // 48MB leaves DuckDB 24MB: enough to read these 6,000 rows, not for the barrier stages.
    const out = path.join(dir, 'tight');
    const tight = await runCli(['run', yaml, '--out', out, '--memory', '48MB']);
    expect(tight.code, tight.stderr).toBe(4);
    expect(tight.stderr).toMatch(/out of memory under the run's budget of 48MB \(--memory: 48MB; DuckDB's cap 24MB\)/);
    expect(tight.stderr).toContain('--memory 8GB');
    expect(tight.stderr).not.toContain('internal error');
    expect(existsSync(path.join(out, 'manifest.json'))).toBe(false);
    expect(existsSync(path.join(out, '.winnow-work'))).toBe(true);

    // Memory is operational, not part of the run's identity: the checkpoints are kept.
    const again = await runCli(['run', yaml, '--out', out], { logFormat: 'json' });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toMatch(/resuming run \S+ \(attempt 2\)/);
    expect(await selected(out)).toEqual(await selected(reference));
  }, 180_000);

  it('a pool that cannot fit beside DuckDB stops before the select stage starts, naming the knob, and resumes with more', async () => {
    const dir = tempDir('winnow-memory-');
    const yaml = pipeline(dir);
    writeFileSync(yaml, readFileSync(yaml, 'utf8') + 'store: { memory_limit: 1GB }\n');
    const reference = path.join(dir, 'reference');
    expect((await runCli(['run', yaml, '--out', reference, '--memory', '2GB'])).code).toBe(0);
    const out = path.join(dir, 'tight');
    // DuckDB keeps its 1GB of a 1.1GB budget: the stream, dedup and embed fit; select's pool (vectors, graph, texts and their n-grams, kernels: ~140MB) does not.
    const tight = await runCli(['run', yaml, '--out', out, '--memory', '1.1GB'], { logFormat: 'json' });
    expect(tight.code, tight.stderr).toBe(4);
    expect(tight.stderr).toMatch(
      /stage select needs about 14\dMB for its pool of 6,\d{3} rows x 32 dimensions \(vectors, kNN graph, texts and their n-grams\), but the run's budget of 1\.1GB \(--memory: 1\.1GB\) leaves 100MB beside DuckDB's cap of 1GB/,
    );
    expect(tight.stderr).toContain('lower store.memory_limit or give the run more with --memory');
    // The other way out changes the selection, and says so.
    expect(tight.stderr).toContain('or lower select.block_rows (now 250,000: smaller blocks need less, and give a new selection, a new run)');
    // It stopped before the stage's work, not after: select never finished, the stages before it did.
    const done = events(tight.stderr)
      .filter((e) => e.event === 'phase_done')
      .map((e) => e.phase);
    expect(done).toContain('embed');
    expect(done).not.toContain('select');
    const again = await runCli(['run', yaml, '--out', out, '--memory', '2GB'], { logFormat: 'json' });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toMatch(/resuming run \S+ \(attempt 2\)/);
    expect(await selected(out)).toEqual(await selected(reference));
  }, 180_000);

  it('a budget that is not a size is a config error naming where it came from', async () => {
    const dir = tempDir('winnow-memory-');
    const bad = await runCli(['run', pipeline(dir), '--out', path.join(dir, 'o'), '--memory', 'lots']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--memory: "lots" is not a size');
  });
});
