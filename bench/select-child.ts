import { MatMulKernel } from '../src/onnx/kernels.js';
import { facilityLocation } from '../src/select/facility.js';
import { kCenterGreedy, kCenterGreedyPlain } from '../src/select/kcenter.js';
import { knnGraph } from '../src/select/knn-graph.js';
import type { Pool } from '../src/select/pool.js';
import { shuffled } from '../src/math/random.js';
import { selectRows, SelectionContext } from '../src/select/strategies.js';
import { mixturePool } from './corpus.js';

/**
 * One selection at scale in a fresh process (so peak RSS is this selection's): a seeded mixture of
 * 1,000 Gaussian clusters in 256 dimensions, L2-normalized, 10 classes. `hybrid` gets 1% of the rows
 * labelled (its uncertain-diverse phase), `hybrid-cold` none (its typical phase). `quality` compares
 * the fast algorithms with their exact counterparts on a pool small enough for both. Prints JSON.
 */
const [mode, nArg, picksArg] = process.argv.slice(2);
const n = Number(nArg);
const picks = Number(picksArg);
const { pool, labels } = mixturePool(n, 256, 1000, 10, 7);
const kernel = await MatMulKernel.open('cpu');

async function hybrid(p: Pool, count: number, labelled: Int32Array, exactBelow?: number): Promise<number[]> {
  const ctx = new SelectionContext(p, kernel, 1, 20, exactBelow);
  const res = await selectRows(ctx, { strategy: 'hybrid', count, labelled, labels: Int32Array.from(labelled, (i) => labels[i]!), classes: 10, seed: 1 });
  return [...labelled, ...res.map((r) => r.index)];
}

let result: Record<string, unknown>;
const t0 = performance.now();
const secs = (): number => (performance.now() - t0) / 1000;
if (mode === 'kcenter') {
  const r = await kCenterGreedy(pool, picks, [], kernel);
  result = { seconds: secs(), radius: r.radius };
} else if (mode === 'hybrid' || mode === 'hybrid-cold') {
  const labelled = mode === 'hybrid' ? Int32Array.from(shuffled(n, 3).slice(0, Math.round(n / 100))) : new Int32Array(0);
  const chosen = await hybrid(pool, picks, labelled);
  const seconds = secs();
  const g = await knnGraph(pool, 20, kernel, { seed: 1 });
  result = { seconds, facility: facilityLocation(g, 0, chosen).value / n };
} else {
  // quality: k-center rounds vs plain greedy; hybrid on the clustered kNN graph vs the exact one,
  // both scored by facility location on the exact graph.
  const fast = await kCenterGreedy(pool, picks, [], kernel);
  const tFast = secs();
  const t1 = performance.now();
  const plain = kCenterGreedyPlain(pool, picks);
  const tPlain = (performance.now() - t1) / 1000;
  const same = plain.picks.every((p, i) => p === fast.picks[i]);
  const exactGraph = await knnGraph(pool, 20, kernel, { seed: 1, exactBelow: Infinity });
  const fl = async (exactBelow: number, labelled: Int32Array): Promise<number> => facilityLocation(exactGraph, 0, await hybrid(pool, picks, labelled, exactBelow)).value / n;
  const lab = Int32Array.from(shuffled(n, 3).slice(0, Math.round(n / 100)));
  result = {
    kcenter: { rounds_seconds: tFast, plain_seconds: tPlain, identical_picks: same, radius_rounds: fast.radius, radius_plain: plain.radius },
    hybrid_cold: { exact_graph: await fl(Infinity, new Int32Array(0)), clustered_graph: await fl(0, new Int32Array(0)) },
    hybrid_warm: { exact_graph: await fl(Infinity, lab), clustered_graph: await fl(0, lab) },
  };
}
await kernel.release();
process.stdout.write(JSON.stringify({ mode, n, picks, maxRssMB: process.resourceUsage().maxRSS / 1024, ...result }) + '\n');
