import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { selectionQuality } from '../../bench/eval/selection-quality.js';
import { FIXTURES, queryStore, runCli, tempDir, writePipeline } from '../helpers.js';

const LANGS = ['yor_Latn', 'hau_Latn', 'amh_Ethi', 'swh_Latn', 'zul_Latn', 'ibo_Latn', 'kin_Latn', 'lin_Latn'];

function pipeline(dir: string, model: string): string {
  return writePipeline(
    dir,
    `name: sharded
seed: 11
sources:
  - name: sib200
    path: ${JSON.stringify(path.join(FIXTURES, 'sib200', `{${LANGS.join(',')}}.jsonl.gz`))}
    # The topic label rides along as metadata (not as a label, which the selection would rank first),
    # so the test can measure how well a probe trained on the selection classifies the pool.
    columns: { text: text, id: id, lang: lang, metadata: [label] }
stages:
  langid: { enabled: false }
  dedup: { near: { threshold: 0.7 } }
  embed: { model: ${model === 'builtin' ? 'builtin' : JSON.stringify(model)}, builtin: { dim: 64, buckets: 16384 } }
  select: { strategy: hybrid, max_picks: 400 }
  budget: { target: { tokens: 40000 } }
output: { embeddings: true }
`,
    model === 'builtin' ? 'fit.yaml' : 'pipeline.yaml',
  );
}

interface Row {
  uid: number;
  id: string;
  status: string;
  reason: string | null;
  dup_cluster: number | null;
  dup_kind: string | null;
  dup_of: string | null;
}

/** The dedup outcome of every row: which rows dedup removed, into which cluster, as a duplicate of what. */
async function dedupOutcome(out: string): Promise<Row[]> {
  return queryStore<Row>(
    path.join(out, 'results.duckdb'),
    `SELECT uid::INTEGER AS uid, id, CASE WHEN reason = 'over_budget' THEN 'selected' ELSE status::VARCHAR END AS status,
            CASE WHEN reason = 'over_budget' THEN NULL ELSE reason END AS reason, dup_cluster::INTEGER AS dup_cluster, dup_kind, dup_of
     FROM samples ORDER BY uid`,
  );
}

const selected = async (out: string): Promise<Set<string>> =>
  new Set((await queryStore<{ id: string }>(path.join(out, 'results.duckdb'), `SELECT id FROM samples WHERE status = 'selected'`)).map((r) => r.id));

describe('sharded runs (--shard i/n) and winnow merge', () => {
  it('4 shards + merge: the same exact and near dedup as one process, selection quality within 2%', async () => {
    const dir = tempDir('winnow-shard-');
    // One encoder for every shard: fitted by a whole run, which is also the single-process reference.
    const single = path.join(dir, 'single');
    const fit = await runCli(['run', pipeline(dir, 'builtin'), '--out', single]);
    expect(fit.code, fit.stderr).toBe(0);
    const yaml = pipeline(dir, path.join(single, 'model'));

    const builtin = await runCli(['run', pipeline(dir, 'builtin'), '--shard', '0/4', '--out', path.join(dir, 'x')]);
    expect(builtin.code).toBe(2);
    expect(builtin.stderr).toContain('one encoder shared by all shards');

    const shardDirs = [0, 1, 2, 3].map((i) => path.join(dir, `shard-${i}`));
    for (const [i, out] of shardDirs.entries()) {
      const r = await runCli(['run', yaml, '--shard', `${i}/4`, '--out', out, '--quiet']);
      expect(r.code, r.stderr).toBe(0);
    }
    // The shards split the files: each file read by exactly one shard, all files read.
    const files = await Promise.all(shardDirs.map((d) => queryStore<{ file: string }>(path.join(d, 'results.duckdb'), 'SELECT DISTINCT file::VARCHAR AS file FROM samples')));
    const all = files.flat().map((f) => f.file);
    expect(new Set(all).size).toBe(all.length);
    expect(all.sort()).toEqual(LANGS.map((l) => `${l}.jsonl.gz`).sort());
    expect(files.every((f) => f.length === 2)).toBe(true);

    const missing = await runCli(['merge', ...shardDirs.slice(0, 3), '--out', path.join(dir, 'bad')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('shard(s) 3/4 missing');

    const merged = path.join(dir, 'merged');
    const m = await runCli(['merge', ...shardDirs, '--out', merged, '--json', '--quiet']);
    expect(m.code, m.stderr).toBe(0);
    const summary = JSON.parse(m.stdout) as { counts: { input: number; reconciled?: boolean } };

    // Dedup: identical row for row (ids renumbered into the single-process order, same clusters, same kept rows).
    const a = await dedupOutcome(single);
    const b = await dedupOutcome(merged);
    expect(b.length).toBe(a.length);
    expect(summary.counts.input).toBe(a.length);
    expect(a.filter((r) => r.dup_kind !== null).length).toBeGreaterThan(0);
    expect(b).toEqual(a);

    // Selection: GreeDi over the shards' 400 picks each, against the single-process selection.
    const label = `json_extract_string(s.meta, '$.label')`;
    const qa = await selectionQuality(path.join(single, 'results.duckdb'), await selected(single), label);
    const qb = await selectionQuality(path.join(single, 'results.duckdb'), await selected(merged), label);
    console.log(`single: ${JSON.stringify(qa)}; merged: ${JSON.stringify(qb)}`);
    expect(Math.abs(qb.facility - qa.facility) / qa.facility).toBeLessThanOrEqual(0.02);
    expect(Math.abs(qb.accuracy - qa.accuracy) / qa.accuracy).toBeLessThanOrEqual(0.02);
  }, 300_000);

  it('with a language target, the merge fits the target prior over the whole job, as one process does', async () => {
    const dir = tempDir('winnow-shard-langid-');
    // Shards split by file: one shard holds only Twi, the other only English; the job is ~80% Twi.
    const yaml = writePipeline(
      dir,
      `name: sharded-langid
sources:
  - name: mix
    path: ${JSON.stringify(path.join(FIXTURES, '{afrisenti/twi,sib200/eng_Latn}.jsonl.gz'))}
    columns: { text: text, id: id, lang: lang }
stages:
  langid: { target: [twi] }
  embed: { enabled: false }
  budget: { tokenizer: none }
`,
    );
    const single = path.join(dir, 'single');
    expect((await runCli(['run', yaml, '--out', single, '--quiet'])).code).toBe(0);
    const shardDirs = [0, 1].map((i) => path.join(dir, `shard-${i}`));
    for (const [i, out] of shardDirs.entries()) {
      const r = await runCli(['run', yaml, '--shard', `${i}/2`, '--out', out, '--quiet']);
      expect(r.code, r.stderr).toBe(0);
    }
    const merged = path.join(dir, 'merged');
    const m = await runCli(['merge', ...shardDirs, '--out', merged, '--quiet']);
    expect(m.code, m.stderr).toBe(0);
    const outcome = (out: string) => queryStore<{ id: string; reason: string | null }>(path.join(out, 'results.duckdb'), `SELECT id, reason FROM samples WHERE reason = 'lang_mismatch' ORDER BY id`);
    const prior = (out: string) => (JSON.parse(readFileSync(path.join(out, 'manifest.json'), 'utf8')) as { langid_prior: { prior: number } }).langid_prior.prior;
    expect(prior(single)).toBeGreaterThan(0.5);
    expect(prior(merged)).toBe(prior(single));
    const a = await outcome(single);
    expect(a.length).toBeGreaterThan(900);
    expect(await outcome(merged)).toEqual(a);
  }, 300_000);
});
