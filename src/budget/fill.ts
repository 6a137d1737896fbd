import { quantiles } from '../math/quantile.js';

export interface FillInput {
  /** Tokens of each candidate document. */
  tokens: Float64Array;
  /** Value of each document (higher is better). */
  value: Float64Array;
  /** Spend in order of value, or of value per token (which prefers short documents). */
  order?: 'value' | 'value_per_token';
  /** Quota group of each document (language or source), 0..groups-1. */
  group: Int32Array;
  groups: number;
  /** Unique tokens to select. */
  target: number;
  /** Temperature alpha of the group shares p_g ~ n_g^alpha (1 = proportional, 0 = uniform). */
  temperature: number;
  /** No document may be more than this share of the target. */
  maxDocShare: number;
  /**
   * Length quarters per group: each quarter of a group's rows by length gets the share of the group's
   * quota that it holds of the group's tokens, so the selection's lengths follow the pool's whatever
   * the value prefers. 1 (or absent): no length quotas.
   */
  lengthBuckets?: number;
}

export interface FillResult {
  chosen: Uint8Array;
  /** 1 for documents excluded for being longer than maxDocShare of the target (and far out in length). */
  tooLong: Uint8Array;
  /** Tokens above which a document counts as too long: max(maxDocShare x target, the pool's far-out fence). */
  docCap: number;
  /** Token quota and tokens taken per group. */
  quota: Float64Array;
  taken: Float64Array;
  total: number;
  /** Rank of each document in the fill's order (0 = best). */
  rank: Int32Array;
}

/**
 * Group quotas by temperature sampling, as multilingual pre-training does: p_g ~ n_g^alpha over the
 * tokens n_g each group has, water-filled so a group that cannot fill its share passes the rest on.
 */
export function groupQuotas(available: Float64Array, target: number, alpha: number): Float64Array {
  const q = new Float64Array(available.length);
  const open = new Set(available.map((_, g) => g).filter((g) => available[g]! > 0));
  let remaining = Math.min(
    target,
    available.reduce((a, b) => a + b, 0),
  );
  while (open.size > 0 && remaining > 1e-9) {
    let z = 0;
    for (const g of open) z += Math.pow(available[g]!, alpha);
    let spilled = false;
    const share = new Map<number, number>();
    for (const g of open) share.set(g, (remaining * Math.pow(available[g]!, alpha)) / z);
    for (const g of [...open]) {
      const room = available[g]! - q[g]!;
      if (share.get(g)! >= room) {
        q[g]! += room;
        remaining -= room;
        open.delete(g);
        spilled = true;
      }
    }
    if (!spilled) {
      for (const g of open) q[g]! += share.get(g)!;
      remaining = 0;
    }
  }
  return q;
}

/**
 * Greedy budgeted fill: documents in order of value (or value per token; ties to the earlier
 * document), each taken when it fits the total target, its group's quota and its length bucket's
 * quota; then, if the target is not met, a second pass without the length quotas. Never exceeds the
 * target. Value per token would maximise total value by packing in short rows, the least useful to
 * a language model; the length quotas keep any value function from doing the same.
 */
export function budgetedFill(input: FillInput): FillResult {
  const n = input.tokens.length;
  const tooLong = new Uint8Array(n);
  const available = new Float64Array(input.groups);
  // A document is too long only when it is both over its share and far out among the pool's lengths
  // (Tukey's Q3 + 3 IQR): with a small target the share alone would cut every long row, biasing the
  // selection short, while one giant document among sentences is still kept out.
  const cap = Math.max(input.maxDocShare * input.target, farOutFence(input.tokens));
  for (let i = 0; i < n; i++) {
    if (input.tokens[i]! > cap) tooLong[i] = 1;
    else available[input.group[i]!]! += input.tokens[i]!;
  }
  const quota = groupQuotas(available, input.target, input.temperature);
  const perToken = input.order === 'value_per_token';
  const key = Float64Array.from(input.value, (v, i) => (perToken ? v / Math.max(input.tokens[i]!, 1) : v));
  const order = Int32Array.from({ length: n }, (_, i) => i).sort((a, b) => key[b]! - key[a]! || a - b);
  const rank = new Int32Array(n);
  order.forEach((doc, r) => (rank[doc] = r));
  const chosen = new Uint8Array(n);
  const taken = new Float64Array(input.groups);
  const buckets = lengthBuckets(input, tooLong, quota, Math.max(1, input.lengthBuckets ?? 1));
  let total = 0;
  // A small slack on each quota (a thousandth) lets the last documents of a group in.
  const fits = (q: number, have: number, t: number): boolean => have + t <= q * 1.001 + 1;
  for (const withBuckets of [true, false]) {
    for (const i of order) {
      if (tooLong[i] || chosen[i]) continue;
      const t = input.tokens[i]!;
      const g = input.group[i]!;
      const b = buckets.of[i]!;
      if (total + t > input.target || !fits(quota[g]!, taken[g]!, t)) continue;
      if (withBuckets && !fits(buckets.quota[b]!, buckets.taken[b]!, t)) continue;
      chosen[i] = 1;
      taken[g]! += t;
      buckets.taken[b]! += t;
      total += t;
      if (total >= input.target) break;
    }
    if (total >= input.target || buckets.quota.length === input.groups) break;
  }
  return { chosen, tooLong, docCap: cap, quota, taken, total, rank };
}

/**
 * Each row's (group, length bucket) cell and the cells' token quotas: a group's rows sorted by
 * tokens are cut into `k` runs of equal row counts, and each run's quota is the group's quota times
 * the run's share of the group's tokens.
 */
function lengthBuckets(input: FillInput, tooLong: Uint8Array, quota: Float64Array, k: number): { of: Int32Array; quota: Float64Array; taken: Float64Array } {
  const of = Int32Array.from(input.group, (g) => g * k);
  const cells = new Float64Array(input.groups * k);
  const members: number[][] = Array.from({ length: input.groups }, () => []);
  input.group.forEach((g, i) => {
    if (!tooLong[i]) members[g]!.push(i);
  });
  const groupTokens = new Float64Array(input.groups);
  members.forEach((rows, g) => {
    rows.sort((a, b) => input.tokens[a]! - input.tokens[b]! || a - b);
    rows.forEach((i, r) => {
      of[i] = g * k + Math.min(k - 1, Math.floor((r * k) / rows.length));
      cells[of[i]!]! += input.tokens[i]!;
      groupTokens[g]! += input.tokens[i]!;
    });
  });
  const cellQuota = Float64Array.from(cells, (c, cell) => {
    const g = Math.floor(cell / k);
    return groupTokens[g]! > 0 ? (quota[g]! * c) / groupTokens[g]! : 0;
  });
  return { of, quota: cellQuota, taken: new Float64Array(cells.length) };
}

function farOutFence(tokens: Float64Array): number {
  const [q1, q3] = quantiles(tokens, [0.25, 0.75]) as [number, number];
  return q3 + 3 * (q3 - q1);
}
