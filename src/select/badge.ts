import { rng } from '../math/random.js';
import type { Pool } from './pool.js';

/**
 * BADGE (Ash et al. 2020): k-means++ seeding on the gradient embeddings g_i = (p_i - onehot(yhat_i))
 * outer x_i of the probe's last layer, which are large for uncertain rows and point in diverse
 * directions. <g_i, g_j> = <a_i, a_j> <x_i, x_j>, so distances come from the class-probability part
 * and the embedding part without building the (classes x d)-dimensional vectors.
 */
export function badge(pool: Pool, count: number, proba: Float32Array, classes: number, exclude: Uint8Array, seed: number): Int32Array {
  const { n, d, x } = pool;
  const a = new Float32Array(n * classes);
  const aNorm = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let c = 1; c < classes; c++) if (proba[i * classes + c]! > proba[i * classes + best]!) best = c;
    let s = 0;
    for (let c = 0; c < classes; c++) {
      const v = proba[i * classes + c]! - (c === best ? 1 : 0);
      a[i * classes + c] = v;
      s += v * v;
    }
    aNorm[i] = s; // |g_i|^2 = |a_i|^2 |x_i|^2, and |x_i| = 1
  }
  const dist = new Float64Array(n).fill(Infinity);
  const taken = new Uint8Array(exclude);
  const rand = rng(seed ^ 0x27d4eb2f);
  const picks: number[] = [];
  let first = -1;
  for (let i = 0; i < n; i++) if (!taken[i] && (first < 0 || aNorm[i]! > aNorm[first]!)) first = i;
  let pick = first;
  while (pick >= 0 && picks.length < count) {
    picks.push(pick);
    taken[pick] = 1;
    let total = 0;
    for (let i = 0; i < n; i++) {
      if (taken[i]) continue;
      let ax = 0;
      for (let c = 0; c < classes; c++) ax += a[i * classes + c]! * a[pick * classes + c]!;
      let xx = 0;
      for (let j = 0; j < d; j++) xx += x[i * d + j]! * x[pick * d + j]!;
      const dd = Math.max(0, aNorm[i]! + aNorm[pick]! - 2 * ax * xx);
      if (dd < dist[i]!) dist[i] = dd;
      total += dist[i]!;
    }
    pick = -1;
    if (total <= 0) {
      for (let i = 0; i < n; i++)
        if (!taken[i]) {
          pick = i;
          break;
        }
      continue;
    }
    let r = rand() * total;
    for (let i = 0; i < n; i++) {
      if (taken[i]) continue;
      r -= dist[i]!;
      pick = i;
      if (r <= 0) break;
    }
  }
  return Int32Array.from(picks);
}
