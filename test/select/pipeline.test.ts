import { availableParallelism } from 'node:os';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { tableFromIPC } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { runYaml } from '../backbone/run-helpers.js';
import { fixture, runCli, tempDir, writeJsonl, writePipeline } from '../helpers.js';

import { embedYaml } from './select-helpers.js';

describe('select stage', () => {
  it('ranks every kept row, stores its signals, feeds the budget and is deterministic', async () => {
    const dir = tempDir();
    // Hausa and Yoruba topic sentences; 40 rows carry their label, the rest none.
    const rows = [...fixture('sib200/hau_Latn'), ...fixture('sib200/yor_Latn')].filter((r) => r.split === 'train').slice(0, 900);
    writeJsonl(
      path.join(dir, 'data.jsonl'),
      rows.map((r, i) => ({ id: r.id, text: r.text, lang: r.lang, label: i % 20 === 0 ? r.label : null })),
    );
    const yaml = embedYaml('data.jsonl', '  budget: { target: { tokens: 20000 } }');
    const a = await runYaml(dir, yaml, 'a');
    const kept = await a.q<{ n: string; ranked: string; distinct_rank: string; max_rank: string }>(
      `SELECT count(*) n, count(select_rank) ranked, count(DISTINCT select_rank) distinct_rank, max(select_rank) max_rank FROM samples WHERE status = 'selected' OR reason IN ('over_budget')`,
    );
    expect(Number(kept[0]!.ranked)).toBe(Number(kept[0]!.n));
    expect(Number(kept[0]!.distinct_rank)).toBe(Number(kept[0]!.n));
    expect(Number(kept[0]!.max_rank)).toBe(Number(kept[0]!.n) - 1);
    // Labels train the probes; labelled rows are ranked with the rest, not ahead of them.
    const by = await a.q<{ select_by: string; n: string; margin: number; typ: number }>(
      `SELECT select_by, count(*) n, avg(margin) margin, avg(typicality) typ FROM samples WHERE select_by IS NOT NULL GROUP BY ALL ORDER BY ALL`,
    );
    expect(by.map((r) => r.select_by)).toEqual(['hybrid:uncertain-coverage']);
    for (const r of by) expect(r.typ).toBeGreaterThan(0);
    const order = await a.q<{ labelled: number; top: number; worst_labelled: number; best_unlabelled: number }>(
      `SELECT count(*) FILTER (WHERE label IS NOT NULL)::INT labelled, count(*) FILTER (WHERE label IS NOT NULL AND select_rank < 45)::INT top,
         max(select_rank) FILTER (WHERE label IS NOT NULL) worst_labelled, min(select_rank) FILTER (WHERE label IS NULL) best_unlabelled FROM samples WHERE select_rank IS NOT NULL`,
    );
    expect(order[0]!.labelled).toBe(45);
    expect(order[0]!.top).toBeLessThan(20);
    expect(order[0]!.best_unlabelled).toBeLessThan(order[0]!.worst_labelled);
    // The budget's picks are as long as what it left out (it fills by value, not value per token).
    const len = await a.q<{ sel: number; left_out: number }>(
      `SELECT avg(text_chars) FILTER (WHERE status = 'selected') sel, avg(text_chars) FILTER (WHERE reason = 'over_budget') left_out FROM samples`,
    );
    expect(Math.abs(len[0]!.sel / len[0]!.left_out - 1)).toBeLessThan(0.15);
    const nulls = await a.q<{ n: string }>(`SELECT count(*) n FROM samples WHERE select_rank IS NOT NULL AND (typicality IS NULL OR cluster_entropy IS NULL OR margin IS NULL OR bald IS NULL)`);
    expect(Number(nulls[0]!.n)).toBe(0);
    // The budget spends tokens on higher-ranked rows: what it kept ranks better than what it left out.
    const split = await a.q<{ status: string; v: number }>(`SELECT status, avg(select_value) v FROM samples WHERE select_rank IS NOT NULL GROUP BY ALL`);
    const v = Object.fromEntries(split.map((r) => [r.status, r.v]));
    expect(v.selected!).toBeGreaterThan(v.rejected!);
    // Why each row was chosen travels with it into the Arrow output.
    const table = tableFromIPC(readFileSync(path.join(a.out, 'selection.arrow')));
    expect(table.schema.fields.map((f) => f.name)).toEqual(expect.arrayContaining(['select_by', 'select_rank']));
    expect(new Set(table.getChild('select_by')!.toArray() as string[])).toEqual(new Set(['hybrid:uncertain-coverage']));
    expect((a.summary as unknown as { stages: { stage: string }[] }).stages.map((s) => s.stage)).toContain('select');

    const b = await runYaml(dir, yaml, 'b');
    const ranks = (q: typeof a.q) => q<{ id: string; r: number }>(`SELECT id, select_rank r FROM samples ORDER BY uid`);
    expect(await ranks(b.q)).toEqual(await ranks(a.q));

    // The option for annotation workflows: every labelled row first, in input order.
    const first = await runYaml(dir, embedYaml('data.jsonl', '    labelled_first: true\n  budget: { target: { tokens: 20000 } }'), 'first');
    const lf = await first.q<{ sb: string; n: number; lo: number; hi: number }>(
      `SELECT select_by sb, count(*)::INT n, min(select_rank) lo, max(select_rank) hi FROM samples WHERE select_by = 'labelled' GROUP BY ALL`,
    );
    expect(lf).toEqual([{ sb: 'labelled', n: 45, lo: 0, hi: 44 }]);
  });

  it('trains one probe per label space and moves the selection toward a target', async () => {
    const dir = tempDir();
    const topics = ['hau_Latn', 'yor_Latn'].flatMap((l) =>
      fixture(`sib200/${l}`)
        .filter((r) => r.split === 'train')
        .slice(0, 300),
    );
    const kin = fixture('afrisenti/kin');
    const tweets = ['negative', 'neutral', 'positive'].flatMap((l) => kin.filter((r) => r.label === l).slice(0, 100));
    writeJsonl(
      path.join(dir, 'topics.jsonl'),
      topics.map((r) => ({ id: r.id, text: r.text, label: r.label })),
    );
    writeJsonl(
      path.join(dir, 'tweets.jsonl'),
      tweets.map((r) => ({ id: r.id, text: r.text, label: r.label })),
    );
    // Example text: Yoruba sentences the pool does not hold.
    writeFileSync(
      path.join(dir, 'wanted.txt'),
      fixture('sib200/yor_Latn')
        .filter((r) => r.split !== 'train')
        .slice(0, 150)
        .map((r) => r.text)
        .join('\n') + '\n',
    );
    const yaml = (target: string) => `
seed: 2
sources:
  - { name: topics, path: topics.jsonl, columns: { id: id, label: label } }
  - { name: tweets, path: tweets.jsonl, columns: { id: id, label: label } }
stages:
  langid: { enabled: false }
  embed: { builtin: { dim: 64 } }
  select: { ${target} }
  budget: { target: { tokens: 15000 }, quota: { by: none } }
`;
    const plain = await runYaml(dir, yaml(''), 'plain');
    const manifest = JSON.parse(readFileSync(path.join(plain.out, 'manifest.json'), 'utf8')) as { select: { tasks: { sources: string[]; classes: string[] }[] } };
    const tasks = manifest.select.tasks;
    expect(tasks.map((t) => t.sources)).toEqual([['topics'], ['tweets']]);
    expect(tasks[1]!.classes).toEqual(['negative', 'neutral', 'positive']);
    const targeted = await runYaml(dir, yaml('target: { path: wanted.txt }'), 'targeted');
    const yorShare = async (q: typeof plain.q): Promise<number> => (await q<{ s: number }>(`SELECT avg((id LIKE 'yor%')::INT) s FROM samples WHERE status = 'selected'`))[0]!.s;
    expect(await yorShare(targeted.q)).toBeGreaterThan((await yorShare(plain.q)) + 0.1);
    const imp = await targeted.q<{ yor: number; other: number }>(
      `SELECT avg(importance) FILTER (WHERE id LIKE 'yor%') yor, avg(importance) FILTER (WHERE id NOT LIKE 'yor%') other FROM samples WHERE select_rank IS NOT NULL`,
    );
    expect(imp[0]!.yor).toBeGreaterThan(2 * imp[0]!.other);
  });

  it('without labels ranks by n-gram coverage alone (cold start) and flags surprise against a reference source', async () => {
    const dir = tempDir();
    const yor = fixture('sib200/yor_Latn').filter((r) => r.split === 'train');
    writeJsonl(
      path.join(dir, 'ref.jsonl'),
      yor.slice(0, 200).map((r) => ({ id: r.id, text: r.text })),
    );
    const mixed = [...yor.slice(200, 400), ...fixture('sib200/amh_Ethi').slice(0, 20)];
    writeJsonl(
      path.join(dir, 'web.jsonl'),
      mixed.map((r) => ({ id: r.id, text: r.text })),
    );
    const yaml = `
seed: 1
sources:
  - { name: ref, path: ref.jsonl, columns: { id: id } }
  - { name: web, path: web.jsonl, columns: { id: id } }
stages:
  embed: { builtin: { dim: 64 } }
  select: { reference: { source: ref, low: 0.02, high: 0.9 } }
`;
    const r = await runYaml(dir, yaml);
    const by = await r.q<{ select_by: string }>(`SELECT DISTINCT select_by FROM samples WHERE select_by IS NOT NULL`);
    expect(by.map((x) => x.select_by)).toEqual(['hybrid:coverage']);
    // The Amharic (Ethiopic script) rows are the most surprising under a Yoruba model: all flagged high.
    const amh = await r.q<{ flagged: string; n: string }>(`SELECT count(*) FILTER (WHERE surprise_flag = 'high') flagged, count(*) n FROM samples WHERE id LIKE 'amh%' AND status = 'selected'`);
    expect(Number(amh[0]!.n)).toBeGreaterThan(10);
    expect(Number(amh[0]!.flagged)).toBe(Number(amh[0]!.n));
    const yorMean = await r.q<{ s: number; a: number }>(`SELECT avg(surprise) FILTER (WHERE id LIKE 'yor%') s, avg(surprise) FILTER (WHERE id LIKE 'amh%') a FROM samples`);
    expect(yorMean[0]!.a).toBeGreaterThan(yorMean[0]!.s);
  });

  it('ranks a pool larger than block_rows a block at a time, interleaving the blocks, its head as diverse as one whole ranking; the same under a tiny memory budget', async () => {
    const dir = tempDir();
    const rows = ['hau_Latn', 'yor_Latn', 'swh_Latn'].flatMap((l) =>
      fixture(`sib200/${l}`)
        .filter((r) => r.split === 'train')
        .slice(0, 300),
    );
    writeJsonl(
      path.join(dir, 'data.jsonl'),
      rows.map((r) => ({ id: r.id, text: r.text })),
    );
    const yaml = (select: string) => `
seed: 4
sources: [{ name: sib, path: data.jsonl, columns: { id: id } }]
stages:
  langid: { enabled: false }
  embed: { builtin: { dim: 64 } }
  select: { ${select} }
`;
    const whole = await runYaml(dir, yaml(''), 'whole');
    const blocked = await runYaml(dir, yaml('block_rows: 300'), 'blocked');
    const manifest = (out: string) => (JSON.parse(readFileSync(path.join(out, 'manifest.json'), 'utf8')) as { select: { rows: number; blocks?: { count: number; rows: number[] } } }).select;
    const m = manifest(blocked.out);
    expect(manifest(whole.out).blocks).toBeUndefined();
    expect(m.blocks!.count).toBe(Math.ceil(m.rows / 300));
    expect(m.blocks!.rows.reduce((a, b) => a + b, 0)).toBe(m.rows);
    const ranks = await blocked.q<{ n: string; ranked: string; distinct_rank: string; max_rank: string }>(
      `SELECT count(*) n, count(select_rank) ranked, count(DISTINCT select_rank) distinct_rank, max(select_rank) max_rank FROM samples WHERE select_value IS NOT NULL`,
    );
    expect(Number(ranks[0]!.ranked)).toBe(m.rows);
    expect(Number(ranks[0]!.distinct_rank)).toBe(m.rows);
    expect(Number(ranks[0]!.max_rank)).toBe(m.rows - 1);
    // Every block leads the order in proportion to its size: no block's rows all come first.
    const lead = await blocked.q<{ b: number; share: number }>(
      `SELECT uid % ${m.blocks!.count} b, avg((select_rank < ${Math.round(m.rows / 5)})::INT) AS share FROM samples WHERE select_rank IS NOT NULL GROUP BY ALL ORDER BY b`,
    );
    for (const r of lead) expect(r.share).toBeCloseTo(0.2, 1);
    // Diversity of what the budget would take first: distinct words in the top fifth, close to the
    // whole ranking's and well above input order's.
    const words = async (q: typeof whole.q, order: string): Promise<number> =>
      Number(
        (
          await q<{ w: string }>(
            `SELECT count(DISTINCT w) w FROM (SELECT unnest(string_split(lower(text), ' ')) w FROM (SELECT text FROM samples WHERE select_rank IS NOT NULL ORDER BY ${order} LIMIT ${Math.round(m.rows / 5)}))`,
          )
        )[0]!.w,
      );
    const [wWhole, wBlocked, wInput] = [await words(whole.q, 'select_rank'), await words(blocked.q, 'select_rank'), await words(whole.q, 'uid')];
    // Each block's exact picks are ranked again together (GreeDi's second round), so the head is as
    // diverse as one whole ranking's (measured: 2,364 words either way, 1,748 in input order).
    expect(wBlocked).toBeGreaterThan(0.97 * wWhole);
    expect(wBlocked).toBeGreaterThan(1.2 * wInput);
    // The blocks were ranked several at a time on worker threads (one per core); one at a time on the main thread gives the same ranking and signals.
    const cores = availableParallelism();
    if (cores > 1) expect(blocked.infos).toContain(`select: ranking 3 blocks, ${Math.min(3, cores)} at a time on worker threads`);
    const again = await runYaml(dir, yaml('block_rows: 300') + 'execution: { workers: 1 }\n', 'again');
    expect(again.infos.filter((m) => m.includes('worker threads'))).toEqual([]);
    const order = (q: typeof whole.q) => q<{ id: string; r: number }>(`SELECT id, select_rank r, select_gain g, typicality t, cluster_entropy e, importance i FROM samples ORDER BY uid`);
    expect(await order(again.q)).toEqual(await order(blocked.q));
    // A tiny memory budget (DuckDB's cap 150MB; nothing left for a second block beside it and this
    // process's heap) ranks the blocks one at a time: the same selection. Memory is not part of it.
    const tight = await runYaml(dir, yaml('block_rows: 300') + 'execution: { memory: 300MB }\n', 'tight');
    expect(tight.infos.filter((m) => m.includes('worker threads'))).toEqual([]);
    expect(await order(tight.q)).toEqual(await order(blocked.q));
  });

  it('names the key path of a reference to a source that does not exist', async () => {
    const dir = tempDir();
    writeJsonl(path.join(dir, 'a.jsonl'), [{ text: 'x' }]);
    const file = writePipeline(dir, `sources: [{ name: a, path: a.jsonl }]\nstages: { select: { reference: { source: nope } } }\n`);
    const r = await runCli(['run', file, '--out', path.join(dir, 'out')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('stages.select.reference.source');
  });
});

describe('winnow simulate', () => {
  const data = path.join('test', 'fixtures', 'sib200', 'hau_Latn.jsonl.gz');

  it('prints results and summaries for every strategy, budget and seed, identically on a rerun', async () => {
    const args = ['simulate', '--data', data, '--budgets', '20,100', '--seeds', '3', '--strategies', 'random,hybrid,kcenter', '--init', '20', '--step', '20', '--json'];
    const a = await runCli(args);
    expect(a.code).toBe(0);
    const out = JSON.parse(a.stdout) as { results: { strategy: string; budget: number; seed: number; accuracy: number; macro_f1: number }[]; summary: Record<string, number | string>[] };
    expect(out.results).toHaveLength(3 * 2 * 3);
    expect(out.summary).toHaveLength(3 * 2);
    for (const s of out.summary) expect(Object.keys(s).sort()).toEqual(['accuracy_mean', 'accuracy_std', 'budget', 'macro_f1_mean', 'macro_f1_std', 'strategy']);
    for (const r of out.results) {
      expect(r.accuracy).toBeGreaterThan(0.1);
      expect(r.macro_f1).toBeLessThanOrEqual(1);
    }
    // Every strategy starts from the same random initial set per seed (budget 20 = --init), then
    // chooses its own rows; more labels help.
    const at = (st: string, b: number, seed: number) => out.results.find((r) => r.strategy === st && r.budget === b && r.seed === seed)!;
    for (const seed of [1, 2, 3]) {
      expect(at('hybrid', 20, seed)).toEqual({ ...at('random', 20, seed), strategy: 'hybrid' });
      expect(at('kcenter', 20, seed).macro_f1).toBe(at('random', 20, seed).macro_f1);
    }
    expect(new Set([1, 2, 3].map((s) => at('random', 20, s).macro_f1)).size).toBe(3);
    expect(out.results.filter((r) => r.budget === 100).map((r) => r.macro_f1)).not.toEqual(Array(9).fill(at('random', 100, 1).macro_f1));
    const mean = (st: string, b: number): number => out.summary.find((s) => s.strategy === st && s.budget === b)!.macro_f1_mean as number;
    for (const st of ['random', 'hybrid', 'kcenter']) expect(mean(st, 100)).toBeGreaterThan(mean(st, 20));
    const b = await runCli(args);
    expect(b.stdout).toBe(a.stdout);
  });

  it('rejects bad flags and data with the config and input exit codes', async () => {
    const dir = tempDir();
    const r1 = await runCli(['simulate', '--data', data, '--budgets', '10', '--init', '20']);
    expect(r1.code).toBe(2);
    expect(r1.stderr).toContain('--init 20 is larger than the smallest budget 10');
    const r2 = await runCli(['simulate', '--data', data, '--budgets', '50', '--strategies', 'random,clever']);
    expect(r2.code).toBe(2);
    expect(r2.stderr).toContain('unknown strategy "clever"');
    writeJsonl(path.join(dir, 'x.jsonl'), [
      { text: 'a', label: 'x', split: 'train' },
      { text: 'b', split: 'test' },
    ]);
    const r3 = await runCli(['simulate', '--data', path.join(dir, 'x.jsonl'), '--budgets', '50']);
    expect(r3.code).toBe(3);
    expect(r3.stderr).toContain('x.jsonl:2: "label" is missing');
  });
});
