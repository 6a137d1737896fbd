import { rng, shuffleInPlace } from '../math/random.js';
import { SoftmaxProbe } from './probe.js';
import type { Pool } from './pool.js';

/** Per-row uncertainty signals of a probe ensemble, each in [0, 1] (higher = more uncertain). */
export interface Uncertainty {
  leastConfidence: Float32Array;
  /** 1 - (p1 - p2) of the mean prediction. */
  margin: Float32Array;
  /** Entropy of the mean prediction, divided by log(classes). */
  entropy: Float32Array;
  /** Mutual information between prediction and ensemble member (BALD), divided by log(classes). */
  bald: Float32Array;
  /** Mean predicted class probabilities, (n x classes). */
  proba: Float32Array;
  classes: number;
}

/**
 * Trains `members` softmax probes on bootstrap resamples of the labelled rows (the first member on
 * the rows themselves) and scores every pool row. Disagreement between members stands in for the
 * posterior over weights that BALD needs (Houlsby et al. 2011; Beluch et al. 2018 for ensembles).
 *
 * With `crossFit`, member m trains on the labelled rows outside fold m instead, and a labelled row's
 * prediction is that of the one member that did not see it: a probe is confident on its own training
 * rows, so in-sample uncertainty would rank every labelled row last.
 */
export function ensembleUncertainty(
  pool: Pool,
  labelled: Int32Array,
  labels: Int32Array,
  classes: number,
  opts: { members?: number; seed: number; l2?: number; maxTrain?: number; maxIter?: number; crossFit?: boolean },
): Uncertainty {
  const { n, d } = pool;
  const members = Math.max(opts.crossFit ? 2 : 1, opts.members ?? 5);
  const rand = rng(opts.seed ^ 0x5bd1e995);
  const xl = new Float32Array(labelled.length * d);
  labelled.forEach((r, t) => xl.set(pool.x.subarray(r * d, r * d + d), t * d));
  const mean = new Float32Array(n * classes);
  const memberEntropy = new Float32Array(n);
  // Each member sees at most `maxTrain` draws: the probe's cost grows with its training rows, and a
  // few thousand labels already pin an uncertainty estimate down.
  const draws = Math.min(labelled.length, opts.maxTrain ?? 2000);
  const fold = opts.crossFit ? folds(labelled.length, members, rand) : null;
  const heldOut = new Int32Array(n).fill(-1);
  if (fold) labelled.forEach((r, t) => (heldOut[r] = fold[t]!));
  // Cross-fitted, a labelled row has one member's prediction and the others the mean of all; the
  // signals of a mean are smoother, so both take the mean of per-member signals instead.
  const perMember = fold ? { lc: new Float32Array(n), margin: new Float32Array(n), entropy: new Float32Array(n) } : null;
  for (let m = 0; m < members; m++) {
    const w = fold ? foldWeights(fold, m, draws) : bootstrapWeights(labelled.length, draws, m === 0, rand);
    const probe = new SoftmaxProbe().fit(xl, labelled.length, d, labels, classes, { l2: opts.l2, maxIter: opts.maxIter }, w);
    const p = probe.predictProba(pool.x, n);
    for (let i = 0; i < n; i++) {
      // A labelled row under cross-fitting counts only its held-out member's prediction.
      const div = heldOut[i]! < 0 ? members : heldOut[i] === m ? 1 : 0;
      if (div === 0) continue;
      for (let c = 0; c < classes; c++) mean[i * classes + c]! += p[i * classes + c]! / div;
      memberEntropy[i]! += entropyOf(p, i * classes, classes) / div;
      if (perMember) {
        const [p1, p2] = topTwo(p, i * classes, classes);
        perMember.lc[i]! += (1 - p1) / div;
        perMember.margin[i]! += (1 - (p1 - p2)) / div;
        perMember.entropy[i]! += entropyOf(p, i * classes, classes) / Math.log(Math.max(classes, 2)) / div;
      }
    }
  }
  const out = summarise(mean, memberEntropy, n, classes);
  if (perMember) Object.assign(out, { leastConfidence: perMember.lc, margin: perMember.margin, entropy: perMember.entropy });
  return out;
}

function bootstrapWeights(rows: number, draws: number, whole: boolean, rand: () => number): Float32Array {
  const w = new Float32Array(rows);
  if (whole && draws === rows) return w.fill(1);
  for (let t = 0; t < draws; t++) w[Math.floor(rand() * rows)]!++;
  return w;
}

/** A seeded fold (0..k-1) for each of `rows` rows, sizes within one of each other. */
function folds(rows: number, k: number, rand: () => number): Int32Array {
  const order = shuffleInPlace(
    Array.from({ length: rows }, (_, i) => i),
    rand,
  );
  const out = new Int32Array(rows);
  order.forEach((r, t) => (out[r] = t % k));
  return out;
}

/** Weight 1 for the first `draws` rows outside fold m (in row order), 0 for the rest. */
function foldWeights(fold: Int32Array, m: number, draws: number): Float32Array {
  const w = new Float32Array(fold.length);
  let taken = 0;
  for (let t = 0; t < fold.length && taken < draws; t++) {
    if (fold[t] === m) continue;
    w[t] = 1;
    taken++;
  }
  return w;
}

function summarise(mean: Float32Array, memberEntropy: Float32Array, n: number, classes: number): Uncertainty {
  const norm = Math.log(Math.max(classes, 2));
  const out: Uncertainty = {
    leastConfidence: new Float32Array(n),
    margin: new Float32Array(n),
    entropy: new Float32Array(n),
    bald: new Float32Array(n),
    proba: mean,
    classes,
  };
  for (let i = 0; i < n; i++) {
    const [p1, p2] = topTwo(mean, i * classes, classes);
    const h = entropyOf(mean, i * classes, classes);
    out.leastConfidence[i] = 1 - p1;
    out.margin[i] = 1 - (p1 - p2);
    out.entropy[i] = h / norm;
    out.bald[i] = Math.max(0, h - memberEntropy[i]!) / norm;
  }
  return out;
}

/**
 * Uncertainty over several tasks (one probe ensemble each): every signal is the mean over tasks, and
 * the class probabilities sit side by side (n x sum of classes), as for a model with one head per task.
 */
export function combineUncertainty(parts: readonly Uncertainty[]): Uncertainty {
  if (parts.length === 1) return parts[0]!;
  const n = parts[0]!.margin.length;
  const classes = parts.reduce((a, u) => a + u.classes, 0);
  const avg = (pick: (u: Uncertainty) => Float32Array): Float32Array => {
    const out = new Float32Array(n);
    for (const u of parts) for (let i = 0; i < n; i++) out[i]! += pick(u)[i]! / parts.length;
    return out;
  };
  const proba = new Float32Array(n * classes);
  let offset = 0;
  for (const u of parts) {
    for (let i = 0; i < n; i++) proba.set(u.proba.subarray(i * u.classes, (i + 1) * u.classes), i * classes + offset);
    offset += u.classes;
  }
  return { leastConfidence: avg((u) => u.leastConfidence), margin: avg((u) => u.margin), entropy: avg((u) => u.entropy), bald: avg((u) => u.bald), proba, classes };
}

/** The two largest of p[o .. o+classes). */
function topTwo(p: Float32Array, o: number, classes: number): [number, number] {
  let p1 = 0;
  let p2 = 0;
  for (let c = 0; c < classes; c++) {
    const v = p[o + c]!;
    if (v > p1) {
      p2 = p1;
      p1 = v;
    } else if (v > p2) p2 = v;
  }
  return [p1, p2];
}

function entropyOf(p: Float32Array, o: number, classes: number): number {
  let h = 0;
  for (let c = 0; c < classes; c++) {
    const v = p[o + c]!;
    if (v > 0) h -= v * Math.log(v);
  }
  return h;
}

/**
 * Uncertainty without labels: entropy of the soft assignment of each row to the k-means centroids
 * (softmax of cosine similarity / temperature), divided by log(k). A row between clusters is
 * ambiguous; a row deep inside one is not.
 */
export function clusterEntropy(sims: Float32Array, n: number, k: number, temperature = 0.05): Float32Array {
  const out = new Float32Array(n);
  const norm = Math.log(Math.max(k, 2));
  for (let i = 0; i < n; i++) {
    let max = -Infinity;
    for (let c = 0; c < k; c++) max = Math.max(max, sims[i * k + c]!);
    let z = 0;
    let s = 0;
    for (let c = 0; c < k; c++) {
      const a = (sims[i * k + c]! - max) / temperature;
      const e = Math.exp(a);
      z += e;
      s += e * a;
    }
    out[i] = (Math.log(z) - s / z) / norm;
  }
  return out;
}
