import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { budgetedFill } from '../../src/budget/fill.js';
import { BuiltinEncoder } from '../../src/embed/builtin-encoder.js';
import { DEFAULT_BUILTIN } from '../../src/embed/builtin-fit.js';
import { fitBuiltinModel } from '../../src/embed/open-encoder.js';
import { importanceWeights, NgramBag } from '../../src/select/importance.js';
import { labelTasks } from '../../src/select/label-tasks.js';
import { coverageRank } from '../../src/select/ngram-coverage.js';
import type { Pool } from '../../src/select/pool.js';
import { ensembleUncertainty } from '../../src/select/uncertainty.js';
import { fixture } from '../helpers.js';

const bag = (texts: string[]): NgramBag => texts.reduce((b, t) => b.add(t), new NgramBag());
const mean = (a: ArrayLike<number>): number => Array.from(a).reduce((s, v) => s + v, 0) / a.length;

describe('label tasks', () => {
  it('splits label spaces that share no value and joins those that overlap or name one label_set', () => {
    const topics = fixture('sib200/hau_Latn').slice(0, 30);
    const tweets = fixture('afrisenti/kin').slice(0, 30);
    const labels = [...topics.map((r) => r.label!), ...tweets.map((r) => r.label!), 'health', null];
    const sources = [...topics.map(() => 'sib'), ...tweets.map(() => 'senti'), 'imported', 'ud'];
    const tasks = labelTasks(labels, sources, new Map());
    expect(tasks.map((t) => t.sources)).toEqual([['imported', 'sib'], ['senti']]);
    expect(tasks[1]!.classes).toEqual([...new Set(tweets.map((r) => r.label!))].sort());
    expect(tasks[0]!.labelled.length + tasks[1]!.labelled.length).toBe(61);
    // Every labelled row lands in exactly one task, with its own class id.
    for (const t of tasks) t.labelled.forEach((i, k) => expect(t.classes[t.y[k]!]).toBe(labels[i]));
    // An explicit label_set overrides the overlap rule both ways.
    const explicit = labelTasks(
      labels,
      sources,
      new Map([
        ['imported', 'extra'],
        ['senti', 'extra'],
      ]),
    );
    expect(explicit.map((t) => [t.name, t.sources])).toEqual([
      ['extra', ['imported', 'senti']],
      ['sib', ['sib']],
    ]);
  });
});

describe('training value on real embeddings', () => {
  let pool: Pool;
  let y: Int32Array;
  beforeAll(async () => {
    const rows = fixture('sib200/yor_Latn')
      .filter((r) => r.split === 'train')
      .slice(0, 300);
    const names = [...new Set(rows.map((r) => r.label!))].sort();
    y = Int32Array.from(rows, (r) => names.indexOf(r.label!));
    const enc = await BuiltinEncoder.open(
      await fitBuiltinModel(
        rows.map((r) => r.text),
        { ...DEFAULT_BUILTIN, dim: 64, seed: 1 },
      ),
      { device: 'cpu' },
    );
    pool = { x: await enc.encode(rows.map((r) => r.text)), n: rows.length, d: 64 };
    await enc.close();
  });
  afterAll(() => undefined);

  it('cross-fitted uncertainty rates labelled rows like unlabelled ones, in-sample fitting does not', () => {
    const labelled = Int32Array.from({ length: 150 }, (_, i) => i * 2);
    const ly = Int32Array.from(labelled, (i) => y[i]!);
    const classes = Math.max(...y) + 1;
    const gap = (crossFit: boolean): number => {
      const u = ensembleUncertainty(pool, labelled, ly, classes, { members: 5, seed: 1, crossFit });
      const inSet = new Set(labelled);
      const lab = Array.from(u.margin).filter((_, i) => inSet.has(i));
      const unl = Array.from(u.margin).filter((_, i) => !inSet.has(i));
      return mean(unl) - mean(lab);
    };
    // A probe is sure of its own training rows; the held-out member is not.
    expect(gap(false)).toBeGreaterThan(0.1);
    expect(Math.abs(gap(true))).toBeLessThan(0.05);
  });
});

describe('importance weights', () => {
  it('prefer the target language and do not sort rows by length', () => {
    const yor = fixture('sib200/yor_Latn').map((r) => r.text);
    const hau = fixture('sib200/hau_Latn').map((r) => r.text);
    const pool = [...yor.slice(0, 300), ...hau.slice(0, 300)];
    const { weight } = importanceWeights(pool, bag(yor.slice(500, 700)), bag(pool));
    expect(mean(weight.subarray(0, 300))).toBeGreaterThan(2 * mean(weight.subarray(300)));
    // Within one language, short and long rows weigh alike (a sum over features would not).
    const own = Array.from(weight.subarray(0, 300));
    const lengths = pool.slice(0, 300).map((t) => t.length);
    const median = [...lengths].sort((a, b) => a - b)[150]!;
    const short = own.filter((_, i) => lengths[i]! < median);
    const long = own.filter((_, i) => lengths[i]! >= median);
    expect(mean(long) / mean(short)).toBeGreaterThan(0.8);
    expect(mean(long) / mean(short)).toBeLessThan(1.25);
  });
});

describe('n-gram coverage ranking', () => {
  it('takes what the set lacks before a near-copy of what it has', () => {
    const yor = fixture('sib200/yor_Latn').map((r) => r.text);
    const [a, b] = [yor[0]!, yor[1]!];
    const r = coverageRank([a, a.replace(/ /, '  '), b], 3);
    expect(Array.from(r.picks).indexOf(1)).toBe(2);
    const texts = fixture('sib200/hau_Latn').map((t) => t.text);
    // The ranking ignores the blocked rows and ranks each other row once.
    const blocked = new Uint8Array(texts.length);
    blocked[5] = 1;
    const some = coverageRank(texts, texts.length, { blocked });
    expect(some.picks.length).toBe(texts.length - 1);
    expect(new Set(some.picks).size).toBe(texts.length - 1);
    expect(Array.from(some.picks)).not.toContain(5);
  });
});

describe('budget fill order', () => {
  it('by value keeps the pool lengths; by value per token prefers short rows', () => {
    const texts = fixture('sib200/hau_Latn').map((r) => r.text);
    const tokens = Float64Array.from(texts, (t) => t.split(' ').length);
    // Value unrelated to length (a seeded hash of the row's index).
    const value = Float64Array.from(texts, (_, i) => ((i * 2654435761) % 1000) / 1000);
    const fill = (order: 'value' | 'value_per_token') =>
      budgetedFill({ tokens, value, group: new Int32Array(texts.length), groups: 1, target: 0.3 * tokens.reduce((a, b) => a + b, 0), temperature: 1, maxDocShare: 0.05, order });
    const meanChosen = (chosen: Uint8Array): number => mean(Array.from(tokens).filter((_, i) => chosen[i]));
    const all = mean(tokens);
    expect(Math.abs(meanChosen(fill('value').chosen) / all - 1)).toBeLessThan(0.15);
    expect(meanChosen(fill('value_per_token').chosen) / all).toBeLessThan(0.85);
  });
});
