import type { MatMulKernel } from '../onnx/kernels.js';
import { transposeDense } from './linalg.js';
import { rng } from './random.js';

export interface KMeansResult {
  centroids: Float32Array;
  k: number;
}

/**
 * Spherical k-means (cosine) on L2-normalized rows: k-means++ seeding, then Lloyd iterations, or
 * mini-batch updates (Sculley 2010) when the pool is larger than `miniBatch`. Assignment is a
 * matrix product with the centroids on onnxruntime. Deterministic for a seed.
 */
export async function fitKMeans(
  x: Float32Array,
  n: number,
  d: number,
  k: number,
  kernel: MatMulKernel,
  opts: { seed: number; iters?: number; miniBatch?: number; seedSample?: number },
): Promise<KMeansResult> {
  k = Math.max(1, Math.min(k, n));
  const rand = rng(opts.seed);
  const centroids = new Float32Array(k * d);
  // k-means++ seeding on a sample of at most 20k rows; each new centre's similarities to the sample
  // are one matrix-vector product on onnxruntime (a JS loop here cost ~10 s for 500 centres).
  const sampleSize = Math.min(n, opts.seedSample ?? 20_000);
  const sample = Int32Array.from({ length: sampleSize }, (_, i) => Math.floor((i * n) / sampleSize));
  const xs = new Float32Array(sampleSize * d);
  for (let s = 0; s < sampleSize; s++) xs.set(x.subarray(sample[s]! * d, sample[s]! * d + d), s * d);
  const dist = new Float64Array(sampleSize).fill(Infinity);
  let chosen = sample[Math.floor(rand() * sampleSize)]!;
  for (let c = 0; c < k; c++) {
    centroids.set(x.subarray(chosen * d, chosen * d + d), c * d);
    const sims = await kernel.run(xs, sampleSize, d, centroids.subarray(c * d, c * d + d), 1);
    let total = 0;
    for (let s = 0; s < sampleSize; s++) {
      const dd = Math.max(0, 1 - sims[s]!);
      if (dd < dist[s]!) dist[s] = dd;
      total += dist[s]!;
    }
    let r = rand() * total;
    chosen = sample[sampleSize - 1]!;
    for (let s = 0; s < sampleSize; s++) {
      r -= dist[s]!;
      if (r <= 0) {
        chosen = sample[s]!;
        break;
      }
    }
  }
  const iters = opts.iters ?? 10;
  const batch = opts.miniBatch ?? 50_000;
  if (n <= batch) {
    for (let it = 0; it < iters; it++) {
      const assign = await assignClusters(x, n, d, centroids, k, kernel);
      const sums = new Float64Array(k * d);
      const counts = new Int32Array(k);
      for (let i = 0; i < n; i++) {
        const c = assign[i]!;
        counts[c]!++;
        for (let j = 0; j < d; j++) sums[c * d + j]! += x[i * d + j]!;
      }
      for (let c = 0; c < k; c++) if (counts[c]! > 0) normalizeInto(sums, c, d, centroids);
    }
  } else {
    const counts = new Float64Array(k);
    const b = 4096;
    for (let it = 0; it < iters * Math.ceil(n / b); it++) {
      const rows = Int32Array.from({ length: b }, () => Math.floor(rand() * n));
      const xb = new Float32Array(b * d);
      rows.forEach((r, i) => xb.set(x.subarray(r * d, r * d + d), i * d));
      const assign = await assignClusters(xb, b, d, centroids, k, kernel);
      for (let i = 0; i < b; i++) {
        const c = assign[i]!;
        counts[c]!++;
        const eta = 1 / counts[c]!;
        for (let j = 0; j < d; j++) centroids[c * d + j] = (1 - eta) * centroids[c * d + j]! + eta * xb[i * d + j]!;
      }
      for (let c = 0; c < k; c++) normalizeInto(centroids, c, d, centroids);
    }
  }
  return { centroids, k };
}

function normalizeInto(src: Float64Array | Float32Array, c: number, d: number, out: Float32Array): void {
  let norm = 0;
  for (let j = 0; j < d; j++) norm += src[c * d + j]! * src[c * d + j]!;
  const inv = 1 / Math.max(Math.sqrt(norm), 1e-12);
  for (let j = 0; j < d; j++) out[c * d + j] = src[c * d + j]! * inv;
}

/** Similarities computed per product in assignClusters: rows go in blocks so the product stays ~32 MB whatever n. */
const BLOCK_CELLS = 8 << 20;

/** Nearest centroid (largest dot product) of each row. */
export async function assignClusters(x: Float32Array, n: number, d: number, centroids: Float32Array, k: number, kernel: MatMulKernel, blockCells = BLOCK_CELLS): Promise<Int32Array> {
  const ct = transposeDense(centroids, k, d);
  const out = new Int32Array(n);
  const rows = Math.max(1, Math.floor(blockCells / k));
  for (let s = 0; s < n; s += rows) {
    const e = Math.min(n, s + rows);
    const sims = await kernel.run(x.subarray(s * d, e * d), e - s, d, ct, k);
    for (let r = 0; r < e - s; r++) {
      let best = 0;
      for (let c = 1; c < k; c++) if (sims[r * k + c]! > sims[r * k + best]!) best = c;
      out[s + r] = best;
    }
  }
  return out;
}
