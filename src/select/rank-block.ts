import type { SelectConfig } from '../config/schema.js';
import { transposeDense } from '../math/linalg.js';
import type { MatMulKernel } from '../onnx/kernels.js';
import type { BlockRanking } from './blocks.js';
import { importanceWeights } from './importance.js';
import type { LabelTask } from './label-tasks.js';
import type { Pool } from './pool.js';
import { selectRows, SelectionContext } from './strategies.js';
import { clusterEntropy, combineUncertainty, ensembleUncertainty, type Uncertainty } from './uncertainty.js';

/** The per-row signals the select stage stores in samples. */
export const SIGNALS = ['typicality', 'cluster_entropy', 'least_confidence', 'margin', 'entropy', 'bald', 'importance', 'surprise'] as const;
export type Signal = (typeof SIGNALS)[number];
export type Signals = Record<Signal, Float32Array | null>;

/**
 * Everything one block's ranking needs, read from the store beforehand: plain data (typed arrays,
 * strings), so a block can be ranked on the main thread or sent to a worker thread.
 */
export interface BlockInput {
  pool: Pool;
  uids: BigInt64Array;
  tasks: LabelTask[];
  /** Texts, when the ranking measures the n-grams each row adds (the training-data hybrid). */
  texts?: string[];
  /** The importance model's n-gram counts (the wanted text's and the raw text's), for the same ranking. */
  importance?: { wanted: Float64Array; raw: Float64Array };
  select: SelectConfig;
  seed: number;
}

/** Ranks one block with every signal the strategy and the labels allow. Deterministic: the same input gives the same ranking on any thread. */
export async function rankBlock(input: BlockInput, kernel: MatMulKernel): Promise<BlockRanking<Signal>> {
  const { pool, tasks, texts, select: cfg, seed } = input;
  const n = pool.n;
  const signals: Signals = { typicality: null, cluster_entropy: null, least_confidence: null, margin: null, entropy: null, bald: null, importance: null, surprise: null };
  const out: BlockRanking<Signal> = {
    uids: input.uids,
    rank: new Int32Array(n).fill(-1),
    by: new Array<string | null>(n).fill(null),
    gain: new Float32Array(n).fill(NaN),
    signals,
    first: 0,
    tasks,
    exact: true,
  };
  if (n === 0) return out;
  const sctx = new SelectionContext(pool, kernel, seed, cfg.neighbours);
  signals.typicality = await sctx.typicality();
  out.exact = (await sctx.graph()).exact;
  signals.cluster_entropy = await softClusterEntropy(sctx);
  const u = taskUncertainty(pool, tasks, seed, !cfg.labelled_first);
  if (u) Object.assign(signals, { least_confidence: u.leastConfidence, margin: u.margin, entropy: u.entropy, bald: u.bald });
  if (texts && input.importance) signals.importance = importanceWeights(texts, { counts: input.importance.wanted }, { counts: input.importance.raw }).weight;
  out.first = await rankPool(sctx, cfg, tasks, u, { importance: signals.importance ?? undefined, texts }, seed, out);
  return out;
}

/**
 * One probe ensemble per label task with two or more classes, combined. Bounded cost whatever the
 * number of labels: 5 members of at most 1,000 rows, 100 iterations each. Cross-fitted when labelled
 * rows are ranked with the rest, so their uncertainty is that of a probe that did not see them.
 */
function taskUncertainty(pool: Pool, tasks: LabelTask[], seed: number, crossFit: boolean): Uncertainty | undefined {
  const parts = tasks
    .filter((t) => t.classes.length >= 2)
    .map((t) => ensembleUncertainty(pool, t.labelled, t.y, t.classes.length, { members: 5, seed, maxTrain: 1000, maxIter: 100, crossFit: crossFit && t.labelled.length >= 10 }));
  return parts.length > 0 ? combineUncertainty(parts) : undefined;
}

/**
 * Ranks the pool into `out`: every row by the strategy (labelled rows among them; their labels
 * train the probes), or with `labelled_first` the labelled rows first, in input order, and the
 * strategy's picks after them.
 */
async function rankPool(
  sctx: SelectionContext,
  cfg: SelectConfig,
  tasks: LabelTask[],
  u: Uncertainty | undefined,
  rows: { importance?: Float32Array; texts?: string[] },
  seed: number,
  out: { rank: Int32Array; by: (string | null)[]; gain: Float32Array },
): Promise<number> {
  const n = sctx.pool.n;
  // One class space over all tasks: class ids offset per task (the probes themselves are per task).
  let offset = 0;
  const labelled: number[] = [];
  const labels: number[] = [];
  for (const t of tasks) {
    t.labelled.forEach((i, k) => {
      labelled.push(i);
      labels.push(offset + t.y[k]!);
    });
    offset += t.classes.length;
  }
  const order = labelled.map((_, k) => k).sort((a, b) => labelled[a]! - labelled[b]!);
  const req = { labelled: Int32Array.from(order, (k) => labelled[k]!), labels: Int32Array.from(order, (k) => labels[k]!) };
  const first = cfg.labelled_first ? req.labelled : new Int32Array(0);
  first.forEach((i, r) => {
    out.rank[i] = r;
    out.by[i] = 'labelled';
  });
  const want = Math.min(cfg.max_picks > 0 ? cfg.max_picks : n, n - first.length);
  const picks = await selectRows(sctx, {
    strategy: cfg.strategy,
    count: want,
    ...req,
    classes: Math.max(offset, 1),
    seed,
    hybrid: { coldStartPerClass: cfg.hybrid.cold_start_per_class, candidateFactor: cfg.hybrid.candidate_factor },
    uncertainty: u,
    rankAll: !cfg.labelled_first,
    ...rows,
  });
  picks.forEach((p, t) => {
    out.rank[p.index] = first.length + t;
    out.by[p.index] = p.by;
    out.gain[p.index] = p.signals.gain ?? p.signals.distance ?? NaN;
  });
  return first.length;
}

/**
 * Entropy of each row's soft assignment to ~sqrt(n) k-means centroids (the clustering of the kNN
 * search up to 1M rows, fitted once), in blocks of rows.
 */
async function softClusterEntropy(sctx: SelectionContext): Promise<Float32Array> {
  const { pool, kernel } = sctx;
  const { n, d } = pool;
  const k = Math.max(2, Math.min(1000, Math.round(Math.sqrt(n))));
  const out = new Float32Array(n);
  if (n < 3) return out;
  const { centroids } = await sctx.kmeans(k);
  const ct = transposeDense(centroids, k, d);
  const rows = Math.max(1, Math.floor((4 << 20) / k));
  for (let s = 0; s < n; s += rows) {
    const e = Math.min(n, s + rows);
    out.set(clusterEntropy(await kernel.run(pool.x.subarray(s * d, e * d), e - s, d, ct, k), e - s, k), s);
  }
  return out;
}

/** The buffers of a block's input, moved rather than copied to another thread. */
export function inputTransferables(input: BlockInput): ArrayBuffer[] {
  return unique([input.pool.x.buffer, input.uids.buffer, ...input.tasks.flatMap((t) => [t.labelled.buffer, t.y.buffer])]);
}

/** The buffers of a ranking, moved rather than copied back. */
export function transferables(r: BlockRanking<Signal>): ArrayBuffer[] {
  return unique([r.uids.buffer, r.rank.buffer, r.gain.buffer, ...Object.values(r.signals).flatMap((s) => (s ? [s.buffer] : [])), ...r.tasks.flatMap((t) => [t.labelled.buffer, t.y.buffer])]);
}

const unique = (bufs: ArrayBufferLike[]): ArrayBuffer[] => [...new Set(bufs)] as ArrayBuffer[];
