import { MaxHeap } from '../math/max-heap.js';
import type { KnnGraph } from './knn-graph.js';

export interface FacilityResult {
  picks: Int32Array;
  /** Marginal gain of each pick when it was taken (weighted when weights are given). */
  gain: Float32Array;
  /** Facility-location value after the picks: sum over rows of the best similarity to a pick. */
  value: number;
}

/**
 * Facility location f(S) = sum_i max_{j in S} sim(i, j) by lazy greedy (Minoux), over the sparse
 * k-nearest-neighbour graph: a pick represents itself (similarity 1) and the rows that have it among
 * their neighbours, so memory is n*k, never n^2. `initial` rows count as already chosen (labelled
 * data covers its neighbourhood). With `weight`, a candidate's gain is scaled by its weight (e.g.
 * uncertainty): each candidate's gain still only shrinks as picks are added, so lazy evaluation
 * stays exact. Ties go to the lower index, so the result is deterministic.
 */
export function facilityLocation(g: KnnGraph, count: number, initial: ArrayLike<number>, weight?: Float32Array, eligible?: Uint8Array): FacilityResult {
  const { n, k } = g;
  // Reverse adjacency: for candidate j, the rows i that list j and their similarity.
  const start = new Int32Array(n + 1);
  for (let t = 0; t < n * k; t++) if (g.idx[t]! >= 0) start[g.idx[t]! + 1]!++;
  for (let j = 0; j < n; j++) start[j + 1]! += start[j]!;
  const fill = start.slice(0, n);
  const rows = new Int32Array(start[n]!);
  const sims = new Float32Array(start[n]!);
  for (let i = 0; i < n; i++)
    for (let t = 0; t < k; t++) {
      const j = g.idx[i * k + t]!;
      if (j < 0) continue;
      rows[fill[j]!] = i;
      sims[fill[j]!] = Math.max(0, g.sim[i * k + t]!);
      fill[j]!++;
    }
  const cover = new Float32Array(n);
  const taken = new Uint8Array(n);
  const take = (j: number): number => {
    let gain = 1 - cover[j]!;
    cover[j] = 1;
    for (let t = start[j]!; t < start[j + 1]!; t++) {
      const i = rows[t]!;
      if (sims[t]! > cover[i]!) {
        gain += sims[t]! - cover[i]!;
        cover[i] = sims[t]!;
      }
    }
    taken[j] = 1;
    return gain;
  };
  const gainOf = (j: number): number => {
    let gain = 1 - cover[j]!;
    for (let t = start[j]!; t < start[j + 1]!; t++) gain += Math.max(0, sims[t]! - cover[rows[t]!]!);
    return weight ? gain * weight[j]! : gain;
  };
  for (let t = 0; t < initial.length; t++) take(initial[t]!);
  const heap = new MaxHeap(n);
  for (let j = 0; j < n; j++) if (!taken[j] && (!eligible || eligible[j])) heap.push(j, gainOf(j));
  count = Math.min(count, heap.size);
  const picks = new Int32Array(count);
  const gains = new Float32Array(count);
  let made = 0;
  while (made < count && heap.size > 0) {
    const j = heap.pop();
    const fresh = gainOf(j);
    if (heap.size === 0 || fresh >= heap.topKey() - 1e-12) {
      take(j);
      picks[made] = j;
      gains[made] = fresh;
      made++;
    } else heap.push(j, fresh);
  }
  let value = 0;
  for (let i = 0; i < n; i++) value += cover[i]!;
  return { picks: picks.subarray(0, made), gain: gains.subarray(0, made), value };
}
