import { rng } from '../math/random.js';
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
 */
export function ensembleUncertainty(pool: Pool, labelled: Int32Array, labels: Int32Array, classes: number, opts: { members?: number; seed: number; l2?: number; maxTrain?: number; maxIter?: number }): Uncertainty {
  const { n, d } = pool;
  const members = Math.max(1, opts.members ?? 5);
  const rand = rng(opts.seed ^ 0x5bd1e995);
  const xl = new Float32Array(labelled.length * d);
  labelled.forEach((r, t) => xl.set(pool.x.subarray(r * d, r * d + d), t * d));
  const mean = new Float32Array(n * classes);
  const memberEntropy = new Float32Array(n);
  // Each member sees at most `maxTrain` draws: the probe's cost grows with its training rows, and a
  // few thousand labels already pin an uncertainty estimate down.
  const draws = Math.min(labelled.length, opts.maxTrain ?? 2000);
  for (let m = 0; m < members; m++) {
    const w = new Float32Array(labelled.length);
    if (m === 0 && draws === labelled.length) w.fill(1);
    else for (let t = 0; t < draws; t++) w[Math.floor(rand() * labelled.length)]!++;
    const probe = new SoftmaxProbe().fit(xl, labelled.length, d, labels, classes, { l2: opts.l2, maxIter: opts.maxIter }, w);
    const p = probe.predictProba(pool.x, n);
    for (let i = 0; i < n * classes; i++) mean[i]! += p[i]! / members;
    for (let i = 0; i < n; i++) memberEntropy[i]! += entropyOf(p, i * classes, classes) / members;
  }
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
    let p1 = 0;
    let p2 = 0;
    for (let c = 0; c < classes; c++) {
      const v = mean[i * classes + c]!;
      if (v > p1) {
        p2 = p1;
        p1 = v;
      } else if (v > p2) p2 = v;
    }
    const h = entropyOf(mean, i * classes, classes);
    out.leastConfidence[i] = 1 - p1;
    out.margin[i] = 1 - (p1 - p2);
    out.entropy[i] = h / norm;
    out.bald[i] = Math.max(0, h - memberEntropy[i]!) / norm;
  }
  return out;
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
