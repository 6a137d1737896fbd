import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BuiltinEncoder } from '../../src/embed/builtin-encoder.js';
import { DEFAULT_BUILTIN } from '../../src/embed/builtin-fit.js';
import { fitBuiltinModel } from '../../src/embed/open-encoder.js';
import { assignClusters, fitKMeans } from '../../src/math/kmeans.js';
import { MatMulKernel } from '../../src/onnx/kernels.js';
import { badge } from '../../src/select/badge.js';
import { facilityLocation } from '../../src/select/facility.js';
import { kCenterGreedy, kCenterGreedyPlain } from '../../src/select/kcenter.js';
import { knnGraph, typicality } from '../../src/select/knn-graph.js';
import { rowDot, type Pool } from '../../src/select/pool.js';
import { typiClust } from '../../src/select/typical.js';
import { ensembleUncertainty } from '../../src/select/uncertainty.js';
import { fixture } from '../helpers.js';

// Real embeddings: the built-in encoder fitted on SIB-200 Hausa train sentences.
let pool: Pool;
let labels: Int32Array;
let kernel: MatMulKernel;

beforeAll(async () => {
  const rows = fixture('sib200/hau_Latn')
    .filter((r) => r.split === 'train')
    .slice(0, 400);
  const names = [...new Set(rows.map((r) => r.label!))].sort();
  labels = Int32Array.from(rows, (r) => names.indexOf(r.label!));
  const enc = await BuiltinEncoder.open(
    await fitBuiltinModel(
      rows.map((r) => r.text),
      { ...DEFAULT_BUILTIN, dim: 64, seed: 1 },
    ),
    { device: 'cpu' },
  );
  pool = { x: await enc.encode(rows.map((r) => r.text)), n: rows.length, d: 64 };
  await enc.close();
  kernel = await MatMulKernel.open('cpu');
});
afterAll(async () => kernel.release());

describe('selection algorithms on real embeddings', () => {
  it('k-center rounds pick exactly what plain greedy picks', async () => {
    for (const initial of [[], [3, 77, 150]]) {
      const fast = await kCenterGreedy(pool, 60, initial, kernel, { candidates: 16 });
      const slow = kCenterGreedyPlain(pool, 60, initial);
      expect(Array.from(fast.picks)).toEqual(slow.picks);
      expect(fast.radius).toBeCloseTo(slow.radius, 5);
      // Greedy distances never grow.
      for (let t = 1 + (initial.length ? 0 : 1); t < 60; t++) expect(fast.distance[t]!).toBeLessThanOrEqual(fast.distance[t - 1]! + 1e-6);
    }
  });

  it('the exact kNN graph holds each row`s true nearest neighbours; the clustered one finds most of them', async () => {
    const exact = await knnGraph(pool, 10, kernel, { seed: 1 });
    expect(exact.exact).toBe(true);
    for (const i of [0, 17, 199, 399]) {
      const truth = Array.from({ length: pool.n }, (_, j) => j)
        .filter((j) => j !== i)
        .sort((a, b) => rowDot(pool, i, b) - rowDot(pool, i, a))
        .slice(0, 10);
      expect(new Set(exact.idx.subarray(i * 10, i * 10 + 10))).toEqual(new Set(truth));
    }
    const ivf = await knnGraph(pool, 10, kernel, { seed: 1, exactBelow: 0, probes: 6 });
    expect(ivf.exact).toBe(false);
    let hit = 0;
    for (let i = 0; i < pool.n; i++) {
      const t = new Set(exact.idx.subarray(i * 10, i * 10 + 10));
      for (const j of ivf.idx.subarray(i * 10, i * 10 + 10)) if (t.has(j)) hit++;
    }
    expect(hit / (pool.n * 10)).toBeGreaterThan(0.6);
  });

  it('the blocked paths give what one big product gives: cluster assignment in row blocks, the kNN graph in candidate tiles', async () => {
    const { centroids, k } = await fitKMeans(pool.x, pool.n, pool.d, 12, kernel, { seed: 3, iters: 3 });
    const whole = await assignClusters(pool.x, pool.n, pool.d, centroids, k, kernel);
    // 7 rows per product (84 cells / 12 centroids), so the pool goes in 58 blocks.
    expect(await assignClusters(pool.x, pool.n, pool.d, centroids, k, kernel, 84)).toEqual(whole);
    expect(new Set(whole).size).toBeGreaterThan(1);
    for (const exactBelow of [20_000, 0]) {
      const one = await knnGraph(pool, 10, kernel, { seed: 1, exactBelow, probes: 3 });
      const tiled = await knnGraph(pool, 10, kernel, { seed: 1, exactBelow, probes: 3, tile: 37 });
      expect(tiled.idx).toEqual(one.idx);
      expect(tiled.sim).toEqual(one.sim);
    }
  });

  it('lazy facility location equals plain greedy and its value only grows', async () => {
    const g = await knnGraph(pool, 10, kernel, { seed: 1 });
    const lazy = facilityLocation(g, 25, [5]);
    const value = (S: number[]): number => facilityLocation(g, 0, S).value;
    const chosen = [5];
    for (let t = 0; t < 25; t++) {
      let bestGain = -Infinity;
      const base = value(chosen);
      for (let j = 0; j < pool.n; j++) {
        if (chosen.includes(j)) continue;
        const gain = value([...chosen, j]) - base;
        if (gain > bestGain + 1e-9) {
          bestGain = gain;
        }
      }
      expect(lazy.gain[t]!).toBeCloseTo(bestGain, 4);
      chosen.push(lazy.picks[t]!);
    }
    expect(lazy.value).toBeCloseTo(value(chosen), 3);
    expect(lazy.value).toBeGreaterThan(value([5]));
  });

  it('ensemble uncertainty is in [0, 1] and lower on the rows the probes were trained on', () => {
    const labelled = Int32Array.from({ length: 120 }, (_, i) => i * 3);
    const u = ensembleUncertainty(
      pool,
      labelled,
      Int32Array.from(labelled, (i) => labels[i]!),
      7,
      { members: 4, seed: 1 },
    );
    const isL = new Set(labelled);
    let mL = 0;
    let mU = 0;
    for (let i = 0; i < pool.n; i++) {
      for (const s of [u.margin, u.entropy, u.bald, u.leastConfidence]) {
        expect(s[i]!).toBeGreaterThanOrEqual(0);
        expect(s[i]!).toBeLessThanOrEqual(1 + 1e-6);
      }
      if (isL.has(i)) mL += u.margin[i]! / labelled.length;
      else mU += u.margin[i]! / (pool.n - labelled.length);
    }
    expect(mL).toBeLessThan(mU);
    expect(Math.max(...u.bald)).toBeGreaterThan(0);
  });

  it('TypiClust and BADGE pick distinct unlabelled rows, deterministically', async () => {
    const g = await knnGraph(pool, 20, kernel, { seed: 1 });
    const typ = typicality(g);
    const labelled = [1, 2, 3];
    const a = await typiClust(pool, 30, labelled, typ, kernel, { seed: 4 });
    const b = await typiClust(pool, 30, labelled, typ, kernel, { seed: 4 });
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(new Set(a).size).toBe(30);
    for (const l of labelled) expect(Array.from(a)).not.toContain(l);
    // Typical picks are denser than the pool on average.
    const meanTyp = typ.reduce((s, v) => s + v, 0) / pool.n;
    expect(Array.from(a).reduce((s, i) => s + typ[i]!, 0) / 30).toBeGreaterThan(meanTyp);
    const u = ensembleUncertainty(pool, Int32Array.from([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]), labels.subarray(0, 10), 7, { members: 1, seed: 1 });
    const exclude = new Uint8Array(pool.n);
    exclude.fill(1, 0, 10);
    const picks = badge(pool, 25, u.proba, 7, exclude, 3);
    expect(new Set(picks).size).toBe(25);
    expect(Math.min(...picks)).toBeGreaterThanOrEqual(10);
  });
});
