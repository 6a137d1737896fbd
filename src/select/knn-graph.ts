import { assignClusters, fitKMeans, type KMeansResult } from '../math/kmeans.js';
import { transposeDense } from '../math/linalg.js';
import type { MatMulKernel } from '../onnx/kernels.js';
import { gatherRows, type Pool } from './pool.js';

/** Lloyd/mini-batch iterations of the clustering behind the approximate search. */
export const KNN_KMEANS_ITERS = 5;

/** The k most similar other rows of every row: (n x k) ids and cosine similarities, best first. */
export interface KnnGraph {
  n: number;
  k: number;
  idx: Int32Array;
  sim: Float32Array;
  /** True when every list is exact; false when it came from the clustered (IVF) search. */
  exact: boolean;
}

export interface KnnOptions {
  seed: number;
  /** Pools up to this size are searched exhaustively. */
  exactBelow?: number;
  /** Clusters searched per query cluster in the approximate search. */
  probes?: number;
  /** Candidates compared per product (default CANDIDATE_TILE): memory per step, never the result. */
  tile?: number;
  /** The pool's k-means with c clusters, when the caller shares one fit between uses (default: fitted here). */
  kmeans?: (c: number) => Promise<KMeansResult>;
}

/**
 * k-nearest-neighbour graph by blocked matrix products on onnxruntime, never an n x n matrix in
 * memory. Up to `exactBelow` rows every row is compared with every other; beyond that the pool is
 * clustered (about sqrt(n) k-means clusters) and each cluster's rows are compared with the rows of
 * its `probes` nearest clusters, the inverted-file scheme of vector indexes.
 */
export async function knnGraph(pool: Pool, k: number, kernel: MatMulKernel, opts: KnnOptions): Promise<KnnGraph> {
  const { n, d } = pool;
  k = Math.max(0, Math.min(k, n - 1));
  const idx = new Int32Array(n * k).fill(-1);
  const sim = new Float32Array(n * k).fill(-Infinity);
  const g: KnnGraph = { n, k, idx, sim, exact: true };
  if (k === 0) return g;
  if (n <= (opts.exactBelow ?? 20_000)) {
    const all = Int32Array.from({ length: n }, (_, i) => i);
    await searchBlock(pool, all, all, g, kernel, opts.tile);
    return g;
  }
  g.exact = false;
  const c = Math.max(2, Math.round(Math.sqrt(n)));
  const { centroids } = await (opts.kmeans ?? ((k: number) => fitKMeans(pool.x, n, d, k, kernel, { seed: opts.seed, iters: KNN_KMEANS_ITERS })))(c);
  const assign = await assignClusters(pool.x, n, d, centroids, c, kernel);
  const members: number[][] = Array.from({ length: c }, () => []);
  for (let i = 0; i < n; i++) members[assign[i]!]!.push(i);
  const cc = await kernel.run(centroids, c, d, transposeDense(centroids, c, d), c);
  const probes = Math.min(c, opts.probes ?? 4);
  for (let q = 0; q < c; q++) {
    if (members[q]!.length === 0) continue;
    const near = Array.from({ length: c }, (_, j) => j)
      .sort((a, b) => cc[q * c + b]! - cc[q * c + a]! || a - b)
      .slice(0, probes);
    if (!near.includes(q)) near[near.length - 1] = q;
    const cand = Int32Array.from(near.flatMap((j) => members[j]!));
    await searchBlock(pool, Int32Array.from(members[q]!), cand, g, kernel, opts.tile);
  }
  return g;
}

/** Candidates per tile of searchBlock: a tile's vectors (and their transpose) stay ~16 MB each at 256 dimensions. */
const CANDIDATE_TILE = 16_384;

/**
 * Updates the neighbour lists of `queries` with the candidates: tiles of at most CANDIDATE_TILE
 * candidates times blocks of queries, at most ~8M similarities per product, so memory does not
 * grow with a large cluster.
 */
async function searchBlock(pool: Pool, queries: Int32Array, cand: Int32Array, g: KnnGraph, kernel: MatMulKernel, tileSize = CANDIDATE_TILE): Promise<void> {
  const { d } = pool;
  for (let c0 = 0; c0 < cand.length; c0 += tileSize) {
    const tile = cand.subarray(c0, Math.min(cand.length, c0 + tileSize));
    const m = tile.length;
    const candT = transposeDense(gatherRows(pool, tile), m, d);
    const rowsPerBlock = Math.max(1, Math.floor((8 << 20) / m));
    for (let start = 0; start < queries.length; start += rowsPerBlock) {
      const q = queries.subarray(start, Math.min(queries.length, start + rowsPerBlock));
      const s = await kernel.run(gatherRows(pool, q), q.length, d, candT, m);
      for (let r = 0; r < q.length; r++) {
        const i = q[r]!;
        for (let t = 0; t < m; t++) {
          const j = tile[t]!;
          if (j !== i) insert(g, i, j, s[r * m + t]!);
        }
      }
    }
  }
}

/** Insertion into row i's list kept sorted by similarity (k is small, ~10-30). */
function insert(g: KnnGraph, i: number, j: number, s: number): void {
  const o = i * g.k;
  if (s <= g.sim[o + g.k - 1]!) return;
  let p = g.k - 1;
  while (p > 0 && g.sim[o + p - 1]! < s) {
    g.sim[o + p] = g.sim[o + p - 1]!;
    g.idx[o + p] = g.idx[o + p - 1]!;
    p--;
  }
  g.sim[o + p] = s;
  g.idx[o + p] = j;
}

/** Typicality as TypiClust defines it: the inverse mean Euclidean distance to the k nearest neighbours. */
export function typicality(g: KnnGraph): Float32Array {
  const out = new Float32Array(g.n);
  for (let i = 0; i < g.n; i++) {
    let sum = 0;
    for (let t = 0; t < g.k; t++) sum += Math.sqrt(Math.max(0, 2 - 2 * g.sim[i * g.k + t]!));
    out[i] = g.k === 0 ? 1 : 1 / (sum / g.k + 1e-6);
  }
  return out;
}
