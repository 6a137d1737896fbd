import { assignClusters, fitKMeans } from '../math/kmeans.js';
import type { MatMulKernel } from '../onnx/kernels.js';
import type { Pool } from './pool.js';

/**
 * TypiClust (Hacohen et al. 2022): cluster the pool into |labelled| + count clusters (at most
 * `maxClusters`), then take the most typical row of the largest clusters that hold no labelled row
 * yet. At small budgets typical rows teach more than uncertain ones, which are mostly outliers.
 */
export async function typiClust(
  pool: Pool,
  count: number,
  labelled: ArrayLike<number>,
  typ: Float32Array,
  kernel: MatMulKernel,
  opts: { seed: number; maxClusters?: number; exclude?: Uint8Array },
): Promise<Int32Array> {
  const { n, d } = pool;
  const k = Math.max(1, Math.min(n, labelled.length + count, opts.maxClusters ?? 500));
  const { centroids } = await fitKMeans(pool.x, n, d, k, kernel, { seed: opts.seed });
  const assign = await assignClusters(pool.x, n, d, centroids, k, kernel);
  const size = new Int32Array(k);
  const covered = new Int32Array(k);
  const taken = new Uint8Array(n);
  for (let i = 0; i < n; i++) size[assign[i]!]!++;
  for (let t = 0; t < labelled.length; t++) {
    taken[labelled[t]!] = 1;
    covered[assign[labelled[t]!]!]!++;
  }
  // Rows of each cluster by typicality, most typical first.
  const members: number[][] = Array.from({ length: k }, () => []);
  for (let i = 0; i < n; i++) if (!taken[i] && !opts.exclude?.[i]) members[assign[i]!]!.push(i);
  for (const m of members) m.sort((a, b) => typ[b]! - typ[a]! || a - b);
  const next = new Int32Array(k);
  const picks: number[] = [];
  while (picks.length < count) {
    let best = -1;
    for (let c = 0; c < k; c++) {
      if (next[c]! >= members[c]!.length) continue;
      // Fewest labelled rows first, then the largest cluster.
      if (best < 0 || covered[c]! < covered[best]! || (covered[c] === covered[best] && size[c]! > size[best]!)) best = c;
    }
    if (best < 0) break;
    picks.push(members[best]![next[best]!++]!);
    covered[best]!++;
  }
  return Int32Array.from(picks);
}
