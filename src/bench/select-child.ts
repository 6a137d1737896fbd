import { MatMulKernel } from '../onnx/kernels.js';
import { facilityLocation } from '../select/facility.js';
import { kCenterGreedy } from '../select/kcenter.js';
import { knnGraph } from '../select/knn-graph.js';
import { selectRows, SelectionContext, shuffled } from '../select/strategies.js';
import { mixturePool } from './corpus.js';

/**
 * One selection at scale in a fresh process (so peak RSS is this selection's): a seeded mixture of
 * 1,000 Gaussian clusters in d dimensions, L2-normalized, 10 classes; `hybrid` gets 1% of the rows
 * labelled (the warm phase), `hybrid-cold` none (the typical phase). Prints JSON.
 */
const [nArg, strategy, picksArg] = process.argv.slice(2);
const n = Number(nArg);
const picks = Number(picksArg);
const { pool, labels } = mixturePool(n, 256, 1000, 10, 7);
const kernel = await MatMulKernel.open('cpu');
const t0 = performance.now();
let objective: Record<string, number> = {};
let seconds = 0;
if (strategy === 'kcenter') {
  const r = await kCenterGreedy(pool, picks, [], kernel);
  seconds = (performance.now() - t0) / 1000;
  objective = { radius: r.radius };
} else {
  const ctx = new SelectionContext(pool, kernel, 1);
  const labelled = strategy === 'hybrid' ? Int32Array.from(shuffled(n, 3).slice(0, Math.round(n / 100))) : new Int32Array(0);
  const res = await selectRows(ctx, { strategy: 'hybrid', count: picks, labelled, labels: Int32Array.from(labelled, (i) => labels[i]!), classes: 10, seed: 1 });
  seconds = (performance.now() - t0) / 1000;
  const g = await knnGraph(pool, 20, kernel, { seed: 1 });
  objective = { facility: facilityLocation(g, 0, [...labelled, ...res.map((p) => p.index)]).value / n };
}
await kernel.release();
process.stdout.write(JSON.stringify({ n, strategy, picks, seconds, maxRssMB: process.resourceUsage().maxRSS / 1024, ...objective }) + '\n');
