import { inverseCholeskyFactor, symmetricEigen, transposeDense } from './linalg.js';
import { rng } from './random.js';
import { transpose, type Csr } from './sparse.js';
import type { MatMulKernel, SparseKernel } from '../onnx/kernels.js';

export interface TruncatedSvd {
  /** Right singular vectors, (cols x rank) row-major: a row's embedding is x V. */
  v: Float32Array;
  singular: Float64Array;
  rank: number;
}

export interface Kernels {
  dense: MatMulKernel;
  sparse: SparseKernel;
}

/**
 * Randomized truncated SVD (Halko, Martinsson & Tropp 2011, algorithm 4.4): a random range sketch
 * of X refined by power iterations, then an exact eigen-decomposition of the small projected Gram
 * matrix. Every product with X or with a tall matrix runs on onnxruntime; only k x k work is in JS.
 * Deterministic for a seed.
 */
export async function randomizedSvd(x: Csr, rank: number, kernels: Kernels, opts: { seed: number; oversample?: number; powerIters?: number }): Promise<TruncatedSvd> {
  const k = Math.min(rank + (opts.oversample ?? 10), x.rows, x.cols);
  const xt = transpose(x);
  // A Rademacher (+-1) test matrix sketches the range as well as a Gaussian one and costs nothing.
  const rand = rng(opts.seed);
  const omega = new Float32Array(x.cols * k);
  for (let i = 0; i < omega.length; i++) omega[i] = rand() < 0.5 ? -1 : 1;
  let y = await orthonormalize(await kernels.sparse.times(x, omega, k), x.rows, k, kernels.dense);
  for (let it = 0; it < (opts.powerIters ?? 2); it++) {
    const z = await kernels.sparse.times(xt, y, k);
    y = await orthonormalize(await kernels.sparse.times(x, z, k), x.rows, k, kernels.dense);
  }
  // B = Q^T X is (k x cols). With Z = X^T Q = B^T: B B^T = Z^T Z and V = Z U S^-1.
  const z = await kernels.sparse.times(xt, y, k);
  const g = await kernels.dense.run(transposeDense(z, x.cols, k), k, x.cols, z, k);
  const { values, vectors } = symmetricEigen(Float64Array.from(g), k);
  const r = Math.min(rank, k);
  const singular = new Float64Array(r);
  const w = new Float32Array(k * r);
  for (let c = 0; c < r; c++) {
    const s = Math.sqrt(Math.max(values[c]!, 0));
    singular[c] = s;
    const inv = s > 1e-6 ? 1 / s : 0;
    for (let m = 0; m < k; m++) w[m * r + c] = vectors[m * k + c]! * inv;
  }
  const v = await kernels.dense.run(z, x.cols, k, w, r);
  return { v, singular, rank: r };
}

/** Orthonormal basis of the columns of Y (n x k) by CholeskyQR2: Y R^-1, twice, for stability. */
async function orthonormalize(y: Float32Array, n: number, k: number, dense: MatMulKernel): Promise<Float32Array> {
  let q = y;
  for (let pass = 0; pass < 2; pass++) {
    const g = await dense.run(transposeDense(q, n, k), k, n, q, k);
    const rinv = inverseCholeskyFactor(Float64Array.from(g), k);
    q = await dense.run(q, n, k, Float32Array.from(rinv), k);
  }
  return q;
}
