import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { budgetedFill, groupQuotas } from '../../src/budget/fill.js';
import { makePlan } from '../../src/budget/plan.js';
import { closedFormOptimum, DATABLATIONS, optimalAllocation, scalingLaw } from '../../src/budget/scaling-laws.js';
import { openTokenCounter } from '../../src/budget/token-count.js';
import { fixture, runCli, tempDir, writeJsonl } from '../helpers.js';
import { runYaml } from '../backbone/run-helpers.js';

const within = (got: number, want: number, rel = 0.01) => expect(Math.abs(got - want) / want).toBeLessThanOrEqual(rel);

describe('scaling laws (golden values from the datablations README and the Chinchilla paper)', () => {
  it('scaling_law(N, D, U)', () => {
    expect(scalingLaw(6.34e9, 242e9, 25e9)).toBeCloseTo(2.22564, 5);
    expect(scalingLaw(8.67e9, 178e9, 25e9)).toBeCloseTo(2.22696, 5);
  });

  it('optimal allocation under data constraints', () => {
    const grid = optimalAllocation(6 * 8.67e9 * 178e9, 25e9);
    within(grid.D, 227e9, 0.01);
    within(grid.D / 25e9, 9.1, 0.01);
    within(grid.N, 6.8e9, 0.01);
    const at = optimalAllocation(1e22, 25e9);
    within(at.N, 7.03e9);
    within(at.D, 237e9);
    within(at.D / 25e9, 9.49);
    const free = closedFormOptimum(1e22, DATABLATIONS);
    within(free.N, 9.22e9);
    within(free.D, 181e9);
    within(free.D / free.N, 19.6);
  });

  it('chinchilla: 70B parameters -> 1.4T tokens and 5.88e23 FLOPs; chinchilla-fit warns', () => {
    const p = makePlan({ params: 70e9, rule: 'chinchilla' });
    expect(p.tokens).toBe(1.4e12);
    within(p.flops, 5.88e23, 1e-9);
    const back = makePlan({ flops: 5.88e23, rule: 'chinchilla' });
    within(back.params, 70e9, 1e-9);
    const fit = makePlan({ flops: 5.76e23, rule: 'chinchilla-fit' });
    expect(fit.tokens_per_param).toBeGreaterThan(60);
    expect(fit.warnings.join(' ')).toMatch(/tokens per parameter/);
  });

  it('epochs, effective data and the repetition warnings', () => {
    const p = makePlan({ tokens: 100e9, uniqueTokens: 25e9, rule: 'chinchilla' });
    expect(p.epochs).toBe(4);
    expect(p.repeats).toBe(3);
    within(p.effective_tokens, 25e9 + 25e9 * DATABLATIONS.rdStar * (1 - Math.exp(-3 / DATABLATIONS.rdStar)), 1e-12);
    expect(p.warnings).toEqual([]);
    expect(makePlan({ tokens: 200e9, uniqueTokens: 25e9, rule: 'chinchilla' }).warnings.join(' ')).toMatch(/beyond ~4 passes/);
    expect(makePlan({ tokens: 500e9, uniqueTokens: 25e9, rule: 'chinchilla' }).warnings.join(' ')).toMatch(/beyond ~16 passes/);
    expect(() => makePlan({ params: 1e9, flops: 1e20, rule: 'chinchilla' })).toThrow(/exactly one/);
  });

  it('winnow plan --json prints the figures', async () => {
    const res = await runCli(['plan', '--flops', '1e22', '--unique-tokens', '25e9', '--rule', 'datablations', '--json']);
    expect(res.code).toBe(0);
    const plan = JSON.parse(res.stdout) as Record<string, number | string>;
    within(plan.params as number, 7.03e9);
    within(plan.tokens as number, 237e9);
    expect(plan.unique_tokens).toBe(25e9);
    within(plan.epochs as number, 9.49);
    expect(plan.effective_tokens).toBeGreaterThan(25e9);
    expect(String(plan.epochs_definition)).toMatch(/passes over the unique data/);
    expect((await runCli(['plan', '--params', 'seven'])).code).toBe(2);
  });
});

describe('token counting', () => {
  it('o200k_base counts match the tokenizer package on the fixture text', async () => {
    const { encode } = await import('gpt-tokenizer/encoding/o200k_base');
    const counter = await openTokenCounter('o200k_base', '.');
    const texts = [...fixture('sib200/amh_Ethi').slice(0, 100), ...fixture('sib200/yor_Latn').slice(0, 100), ...fixture('afrisenti/twi').slice(0, 100)].map((r) => r.text);
    for (const t of texts) expect(counter.count(t)).toBe(encode(t).length);
    expect((await openTokenCounter('whitespace', '.')).count(' a  b\tc ')).toBe(3);
    // ẹ̀ is one precomposed letter plus a combining grave: two code points, and one emoji.
    expect((await openTokenCounter('chars', '.')).count('ẹ̀😀')).toBe(3);
  });
});

describe('budgeted fill', () => {
  it('temperature quotas water-fill: a small group keeps all it has, the rest is shared by n^alpha', () => {
    const q = groupQuotas(Float64Array.from([1000, 100, 10]), 600, 0.3);
    expect(q[2]).toBeCloseTo(10, 6);
    expect(q[0]! + q[1]! + q[2]!).toBeCloseTo(600, 6);
    expect(q[1]).toBeCloseTo(100, 6);
    const prop = groupQuotas(Float64Array.from([300, 100]), 200, 1);
    expect(prop[0]).toBeCloseTo(150, 6);
  });

  it('never exceeds the target and skips documents over their share that are far out in length', () => {
    // Rows of 5-21 tokens, and every 40th a 300-token document.
    const tokens = Float64Array.from({ length: 200 }, (_, i) => (i % 40 === 39 ? 300 : 5 + (i % 17)));
    const value = Float64Array.from({ length: 200 }, (_, i) => 1 - i / 200);
    const r = budgetedFill({ tokens, value, group: new Int32Array(200), groups: 1, target: 1000, temperature: 1, maxDocShare: 0.02 });
    expect(r.total).toBeLessThanOrEqual(1000);
    expect(r.total).toBeGreaterThanOrEqual(995);
    for (let i = 0; i < 200; i++) if (tokens[i] === 300) expect(r.tooLong[i]).toBe(1);
    // 21 tokens is over 2% of the target but within the pool's usual lengths: a candidate like any other.
    expect(Array.from(tokens).filter((t, i) => t === 21 && r.tooLong[i]).length).toBe(0);
    expect(Array.from(tokens).filter((t, i) => t === 21 && r.chosen[i]).length).toBeGreaterThan(0);
  });
});

describe('budget in a pipeline run', () => {
  const langs = ['hau_Latn', 'yor_Latn', 'amh_Ethi'];
  const rows = langs.flatMap((l, i) => fixture(`sib200/${l}`).slice(0, [700, 300, 100][i]));

  it('a budget smaller than the pool: within 0.5% under, never over, quotas respected', async () => {
    const dir = tempDir();
    writeJsonl(path.join(dir, 'in.jsonl'), rows);
    const run = await runYaml(
      dir,
      `sources:\n  - { name: s, path: in.jsonl, columns: { id: id, lang: lang } }\nstages:\n  budget: { target: { tokens: 40000 }, quota: { by: lang, temperature: 0.5 }, max_doc_share: 0.01 }\n`,
    );
    const [sel] = await run.q<{ tokens: number }>(`SELECT sum(tokens)::INT AS tokens FROM samples WHERE status = 'selected'`);
    expect(sel!.tokens).toBeLessThanOrEqual(40000);
    expect(sel!.tokens).toBeGreaterThanOrEqual(40000 * 0.995);
    const [b] = await run.q<{ groups: string }>('SELECT groups::VARCHAR AS groups FROM budget');
    const groups = JSON.parse(b!.groups) as { group: string; quota_tokens: number; selected_tokens: number }[];
    const perLang = await run.q<{ lang: string; tokens: number; available: number }>(
      `SELECT lang, sum(tokens) FILTER (status = 'selected')::INT AS tokens, sum(tokens) FILTER (status = 'selected' OR reason IN ('over_budget', 'over_doc_share'))::INT AS available FROM samples GROUP BY lang ORDER BY lang`,
    );
    for (const g of groups) {
      const got = perLang.find((p) => p.lang === g.group)!;
      expect(got.tokens).toBe(g.selected_tokens);
      expect(got.tokens).toBeLessThanOrEqual(g.quota_tokens * 1.001 + 1);
    }
    // Temperature 0.5 flattens the shares: the smallest language gets more than its proportional share.
    const amh = perLang.find((p) => p.lang === 'amh_Ethi')!;
    const total = perLang.reduce((a, p) => a + p.available, 0);
    expect(amh.tokens / 40000).toBeGreaterThan(amh.available / total);
    const [over] = await run.q<{ n: number }>(`SELECT count(*)::INT AS n FROM samples WHERE reason = 'over_budget'`);
    expect(over!.n).toBeGreaterThan(0);
    expect(run.summary.counts.input).toBe(run.summary.counts.selected + run.summary.counts.rejected_total);
  });

  it('a budget larger than the pool selects everything and reports the shortfall and the epoch plan', async () => {
    const dir = tempDir();
    writeJsonl(path.join(dir, 'in.jsonl'), rows);
    const out = path.join(dir, 'out');
    const res = await runCli(['run', '--input', path.join(dir, 'in.jsonl'), '--id-column', 'id', '--lang-column', 'lang', '--params', '20e6', '--out', out, '--json']);
    expect(res.code).toBe(0);
    expect(res.stderr).toMatch(/epochs over the selection/);
    expect(res.stderr).toMatch(/shortfall/);
    const manifest = JSON.parse(readFileSync(path.join(out, 'manifest.json'), 'utf8'));
    const b = manifest.budget;
    expect(b.plan.tokens).toBe(400e6);
    expect(b.selected_unique_tokens).toBe(b.unique_tokens_available);
    expect(b.pool_shortfall_tokens).toBeGreaterThan(0);
    expect(b.epochs_to_reach_target).toBeCloseTo(400e6 / b.selected_unique_tokens, 6);
    expect(b.split.unique_real + b.split.repeated_real).toBeCloseTo(400e6, 0);
    expect(manifest.counts.rejected.over_budget).toBeUndefined();
  });
});
