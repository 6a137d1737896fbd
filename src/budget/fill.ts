export interface FillInput {
  /** Tokens of each candidate document. */
  tokens: Float64Array;
  /** Value of each document (higher is better); the fill ranks by value per token. */
  value: Float64Array;
  /** Quota group of each document (language or source), 0..groups-1. */
  group: Int32Array;
  groups: number;
  /** Unique tokens to select. */
  target: number;
  /** Temperature alpha of the group shares p_g ~ n_g^alpha (1 = proportional, 0 = uniform). */
  temperature: number;
  /** No document may be more than this share of the target. */
  maxDocShare: number;
}

export interface FillResult {
  chosen: Uint8Array;
  /** 1 for documents excluded for being longer than maxDocShare of the target. */
  tooLong: Uint8Array;
  /** Token quota and tokens taken per group. */
  quota: Float64Array;
  taken: Float64Array;
  total: number;
  /** Rank of each document in value-per-token order (0 = best). */
  rank: Int32Array;
}

/**
 * Group quotas by temperature sampling, as multilingual pre-training does: p_g ~ n_g^alpha over the
 * tokens n_g each group has, water-filled so a group that cannot fill its share passes the rest on.
 */
export function groupQuotas(available: Float64Array, target: number, alpha: number): Float64Array {
  const q = new Float64Array(available.length);
  const open = new Set(available.map((_, g) => g).filter((g) => available[g]! > 0));
  let remaining = Math.min(target, available.reduce((a, b) => a + b, 0));
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
 * Greedy budgeted fill: documents in order of value per token (ties to the earlier document), each
 * taken when it fits both the total target and its group's quota. Never exceeds the target.
 */
export function budgetedFill(input: FillInput): FillResult {
  const n = input.tokens.length;
  const tooLong = new Uint8Array(n);
  const available = new Float64Array(input.groups);
  const cap = input.maxDocShare * input.target;
  for (let i = 0; i < n; i++) {
    if (input.tokens[i]! > cap) tooLong[i] = 1;
    else available[input.group[i]!]! += input.tokens[i]!;
  }
  const quota = groupQuotas(available, input.target, input.temperature);
  const order = Int32Array.from({ length: n }, (_, i) => i).sort((a, b) => {
    const va = input.value[a]! / Math.max(input.tokens[a]!, 1);
    const vb = input.value[b]! / Math.max(input.tokens[b]!, 1);
    return vb - va || a - b;
  });
  const rank = new Int32Array(n);
  order.forEach((doc, r) => (rank[doc] = r));
  const chosen = new Uint8Array(n);
  const taken = new Float64Array(input.groups);
  let total = 0;
  for (const i of order) {
    if (tooLong[i]) continue;
    const t = input.tokens[i]!;
    const g = input.group[i]!;
    // A small slack on the quota (a thousandth) lets the last documents of a group in.
    if (total + t > input.target || taken[g]! + t > quota[g]! * 1.001 + 1) continue;
    chosen[i] = 1;
    taken[g]! += t;
    total += t;
    if (total >= input.target) break;
  }
  return { chosen, tooLong, quota, taken, total, rank };
}
