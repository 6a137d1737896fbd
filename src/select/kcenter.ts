import { transposeDense } from '../math/linalg.js';
import type { MatMulKernel } from '../onnx/kernels.js';
import { gatherRows, rowDot, type Pool } from './pool.js';

export interface KCenterResult {
  picks: Int32Array;
  /** Cosine distance of each pick to its nearest earlier center at the moment it was picked. */
  distance: Float32Array;
  /** Covering radius after the picks: the largest cosine distance of any row to its nearest center. */
  radius: number;
}

/**
 * k-center greedy (Sener & Savarese 2018): repeatedly take the row farthest from every center so far.
 * Exact greedy, made fast by rounds. Each round takes the `candidates` rows farthest from the
 * centers, compares them with each other once (one matrix product), and picks among them while the
 * best candidate is still at least as far as the first row left out: no row outside the candidate
 * set can be farther, because distances only shrink as centers are added. Then all rows' distances
 * are refreshed with one (n x picks) product on onnxruntime. The picks equal plain greedy's (same
 * ties, lowest index first), at a fraction of plain greedy's memory traffic.
 */
export async function kCenterGreedy(pool: Pool, count: number, initial: ArrayLike<number>, kernel: MatMulKernel, opts: { candidates?: number } = {}): Promise<KCenterResult> {
  const { n } = pool;
  const minDist = new Float32Array(n).fill(Infinity);
  const taken = new Uint8Array(n);
  for (let t = 0; t < initial.length; t++) taken[initial[t]!] = 1;
  await refresh(pool, minDist, Int32Array.from(initial), kernel);
  count = Math.min(count, n - initial.length);
  const picks = new Int32Array(count);
  const distance = new Float32Array(count);
  const M = Math.max(2, opts.candidates ?? 1024);
  let made = 0;
  while (made < count) {
    const cand = farthest(minDist, taken, M + 1);
    const bound = cand.length > M ? minDist[cand[M]!]! : -Infinity;
    const c = cand.subarray(0, Math.min(M, cand.length));
    const m = c.length;
    const local = Float32Array.from(c, (i) => minDist[i]!);
    const sims = await kernel.run(gatherRows(pool, c), m, pool.d, transposeDense(gatherRows(pool, c), m, pool.d), m);
    const round: number[] = [];
    while (made < count) {
      let best = -1;
      for (let t = 0; t < m; t++) if (!taken[c[t]!] && (best < 0 || local[t]! > local[best]! || (local[t] === local[best] && c[t]! < c[best]!))) best = t;
      // The first pick of a round is the exact farthest row (the candidates are sorted); later ones
      // must beat every row outside the candidates strictly, or a lower-index tie could be missed.
      if (best < 0 || (round.length > 0 && local[best]! <= bound)) break;
      const i = c[best]!;
      taken[i] = 1;
      picks[made] = i;
      distance[made] = local[best]!;
      made++;
      round.push(i);
      for (let t = 0; t < m; t++) {
        const dd = 1 - sims[best * m + t]!;
        if (dd < local[t]!) local[t] = dd;
      }
    }
    await refresh(pool, minDist, Int32Array.from(round), kernel);
  }
  let radius = 0;
  for (let i = 0; i < n; i++) if (minDist[i]! > radius) radius = minDist[i]!;
  return { picks, distance, radius };
}

/** minDist[i] = min(minDist[i], 1 - x_i . x_c) over the new centers, in blocks of rows. */
async function refresh(pool: Pool, minDist: Float32Array, centers: Int32Array, kernel: MatMulKernel): Promise<void> {
  const b = centers.length;
  if (b === 0) return;
  const { n, d } = pool;
  const ct = transposeDense(gatherRows(pool, centers), b, d);
  const rows = Math.max(1, Math.floor((4 << 20) / b));
  for (let start = 0; start < n; start += rows) {
    const end = Math.min(n, start + rows);
    const s = await kernel.run(pool.x.subarray(start * d, end * d), end - start, d, ct, b);
    for (let r = 0; r < end - start; r++) {
      let m = minDist[start + r]!;
      for (let t = 0; t < b; t++) {
        const dd = 1 - s[r * b + t]!;
        if (dd < m) m = dd;
      }
      minDist[start + r] = m;
    }
  }
}

/** Indices of the `count` untaken rows with the largest distance, largest first (ties: lower index). */
function farthest(minDist: Float32Array, taken: Uint8Array, count: number): Int32Array {
  const idx: number[] = [];
  for (let i = 0; i < minDist.length; i++) if (!taken[i]) idx.push(i);
  if (idx.length > count * 4) {
    // Threshold by a sampled quantile first, so the sort sees a few times `count` rows, not n.
    const sample = idx.filter((_, t) => t % Math.max(1, Math.floor(idx.length / 4096)) === 0).map((i) => minDist[i]!);
    sample.sort((a, b) => b - a);
    const q = sample[Math.min(sample.length - 1, Math.ceil(((count * 2) / idx.length) * sample.length))]!;
    const kept = idx.filter((i) => minDist[i]! >= q);
    if (kept.length >= count) return Int32Array.from(kept.sort((a, b) => minDist[b]! - minDist[a]! || a - b).slice(0, count));
  }
  return Int32Array.from(idx.sort((a, b) => minDist[b]! - minDist[a]! || a - b).slice(0, count));
}

/**
 * Plain k-center greedy, every pick a scan of every row: the reference the rounds above must equal
 * pick for pick (tests and the benchmark compare them). O(count x n x d); for small pools only.
 */
export function kCenterGreedyPlain(pool: Pool, count: number, initial: ArrayLike<number> = []): { picks: number[]; radius: number } {
  const dist = new Float64Array(pool.n).fill(Infinity);
  const taken = new Uint8Array(pool.n);
  const add = (c: number): void => {
    taken[c] = 1;
    for (let i = 0; i < pool.n; i++) dist[i] = Math.min(dist[i]!, 1 - rowDot(pool, i, c));
  };
  for (let t = 0; t < initial.length; t++) add(initial[t]!);
  const picks: number[] = [];
  for (let t = 0; t < count; t++) {
    let best = -1;
    for (let i = 0; i < pool.n; i++) if (!taken[i] && (best < 0 || dist[i]! > dist[best]!)) best = i;
    if (best < 0) break;
    picks.push(best);
    add(best);
  }
  return { picks, radius: Math.max(...dist) };
}
