import { MatMulKernel } from '../onnx/kernels.js';
import { accuracy, macroF1, SoftmaxProbe } from './probe.js';
import { shuffled } from '../math/random.js';
import { selectRows, SelectionContext, type HybridOptions, type StrategyName } from './strategies.js';
import type { Pool } from './pool.js';

export interface SimulateData {
  /** Train rows (the pool) and test rows, embedded; labels as class ids. */
  train: Pool;
  trainLabels: Int32Array;
  test: Pool;
  testLabels: Int32Array;
  classes: number;
  /** Embedded augmentations of train rows (`parent` = train row), added to a probe's training set
   * for the rows it has labels for when simulating with augmentation. */
  aug?: { x: Float32Array; parent: Int32Array };
}

export interface SimulateOptions {
  budgets: number[];
  seeds: number;
  strategies: StrategyName[];
  init: number;
  step: number;
  hybrid?: HybridOptions;
  /** Train each probe on the labelled rows plus their augmentations (data.aug). */
  augment?: boolean;
  /** Called after each finished (strategy, seed) run, for progress on stderr. */
  progress?: (msg: string) => void;
}

export interface SimResult {
  strategy: string;
  budget: number;
  seed: number;
  accuracy: number;
  macro_f1: number;
}

export interface SimSummary {
  strategy: string;
  budget: number;
  accuracy_mean: number;
  accuracy_std: number;
  macro_f1_mean: number;
  macro_f1_std: number;
}

/**
 * Pool-based active learning with the labels as an oracle: for each seed one random initial set of
 * `init` rows, shared by every strategy; each strategy then asks for `step` labels at a time and
 * sees only the labels of rows it asked for. At each budget a softmax probe is trained on the
 * labelled rows and scored on the test rows. Deterministic for the seeds.
 */
export async function simulate(data: SimulateData, opts: SimulateOptions): Promise<{ results: SimResult[]; summary: SimSummary[] }> {
  const budgets = [...new Set(opts.budgets)].sort((a, b) => a - b);
  const maxBudget = budgets[budgets.length - 1]!;
  const kernel = await MatMulKernel.open('cpu');
  const results: SimResult[] = [];
  try {
    const ctx = new SelectionContext(data.train, kernel, 1);
    for (let s = 0; s < opts.seeds; s++) {
      const seed = s + 1;
      const init = shuffled(data.train.n, seed).slice(0, Math.min(opts.init, budgets[0]!));
      for (const strategy of opts.strategies) {
        const labelled = [...init];
        let round = 0;
        for (const budget of budgets) {
          while (labelled.length < Math.min(budget, data.train.n)) {
            const picks = await selectRows(ctx, {
              strategy,
              count: Math.min(opts.step, budget - labelled.length),
              labelled: Int32Array.from(labelled),
              labels: Int32Array.from(labelled, (i) => data.trainLabels[i]!),
              classes: data.classes,
              seed: seed * 1000 + round++,
              hybrid: opts.hybrid,
            });
            if (picks.length === 0) break;
            for (const p of picks) labelled.push(p.index);
          }
          results.push({ strategy, budget, seed, ...evaluate(data, labelled, opts.augment === true) });
        }
        opts.progress?.(`${strategy} seed ${seed}: ${budgets.map((b) => results.find((r) => r.strategy === strategy && r.seed === seed && r.budget === b)!.macro_f1.toFixed(3)).join(' ')}`);
        if (labelled.length > maxBudget) throw new Error(`internal: ${strategy} labelled ${labelled.length} rows for a budget of ${maxBudget}`);
      }
    }
  } finally {
    await kernel.release();
  }
  return { results, summary: summarize(results) };
}

function evaluate(data: SimulateData, labelled: number[], augment: boolean): { accuracy: number; macro_f1: number } {
  const { d } = data.train;
  const isLabelled = new Set(labelled);
  // Variants of labelled rows inherit their parent's label (the oracle never sees a variant).
  const variants: number[] = [];
  if (augment && data.aug) data.aug.parent.forEach((p, v) => isLabelled.has(p) && variants.push(v));
  const n = labelled.length + variants.length;
  const x = new Float32Array(n * d);
  labelled.forEach((r, t) => x.set(data.train.x.subarray(r * d, r * d + d), t * d));
  variants.forEach((v, t) => x.set(data.aug!.x.subarray(v * d, v * d + d), (labelled.length + t) * d));
  const y = Int32Array.from([...labelled.map((i) => data.trainLabels[i]!), ...variants.map((v) => data.trainLabels[data.aug!.parent[v]!]!)]);
  const probe = new SoftmaxProbe().fit(x, n, d, y, data.classes);
  const pred = probe.predict(data.test.x, data.test.n);
  return { accuracy: accuracy(pred, data.testLabels), macro_f1: macroF1(pred, data.testLabels, data.classes) };
}

export function summarize(results: SimResult[]): SimSummary[] {
  const groups = new Map<string, SimResult[]>();
  for (const r of results) {
    const key = `${r.strategy}\u0000${r.budget}`;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  return [...groups.values()].map((g) => ({
    strategy: g[0]!.strategy,
    budget: g[0]!.budget,
    accuracy_mean: mean(g.map((r) => r.accuracy)),
    accuracy_std: std(g.map((r) => r.accuracy)),
    macro_f1_mean: mean(g.map((r) => r.macro_f1)),
    macro_f1_std: std(g.map((r) => r.macro_f1)),
  }));
}

function mean(v: number[]): number {
  return v.reduce((a, b) => a + b, 0) / Math.max(v.length, 1);
}

/** Sample standard deviation (n - 1), 0 for a single value. */
function std(v: number[]): number {
  if (v.length < 2) return 0;
  const m = mean(v);
  return Math.sqrt(v.reduce((a, b) => a + (b - m) ** 2, 0) / (v.length - 1));
}
