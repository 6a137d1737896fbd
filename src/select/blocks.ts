import type { LabelTask } from './label-tasks.js';

/**
 * A pool too large for one ranking is ranked in blocks (every blocks-th row by uid), one at a time;
 * these put the blocks' rankings back together.
 */

/** One block's ranking, in the block's row order (uid order); ranks are the block's own. */
export interface BlockRanking<S extends string = string> {
  uids: BigInt64Array;
  rank: Int32Array;
  by: (string | null)[];
  gain: Float32Array;
  /** Signal columns by name (null: not computed, e.g. uncertainty in a block without labels); merged as NaN there. */
  signals: Record<S, Float32Array | null>;
  /** Rows ranked first as labelled (`labelled_first`): ranks 0 .. first - 1. */
  first: number;
  tasks: LabelTask[];
  exact: boolean;
}

/**
 * The blocks' rankings as one: labelled-first rows (uid order) ahead, then the blocks' picks
 * interleaved by the share of its block's ranking each has reached, so every block leads the order
 * in proportion to its picks (the blocks are a fixed split of one pool, alike in distribution).
 * With `maxPicks`, only the first maxPicks keep a rank. One block comes back as it is.
 */
export function mergeBlocks<S extends string>(parts: BlockRanking<S>[], maxPicks: number): BlockRanking<S> {
  if (parts.length === 1) return parts[0]!;
  const n = parts.reduce((a, p) => a + p.uids.length, 0);
  const at = parts.map((_, b) => parts.slice(0, b).reduce((a, p) => a + p.uids.length, 0));
  const cat = <T extends Float32Array | Int32Array | BigInt64Array>(make: (n: number) => T, get: (p: BlockRanking<S>) => T): T => {
    const out = make(n);
    parts.forEach((p, b) => out.set(get(p) as never, at[b]));
    return out;
  };
  const signals = Object.fromEntries(
    (Object.keys(parts[0]!.signals) as S[]).map((s) => [
      s,
      // A block without the signal (no labels fell in it) must not erase it from the others' rows.
      parts.some((p) => p.signals[s])
        ? cat(
            (m) => new Float32Array(m),
            (p) => p.signals[s] ?? new Float32Array(p.uids.length).fill(NaN),
          )
        : null,
    ]),
  ) as Record<S, Float32Array | null>;
  const out: BlockRanking<S> = {
    uids: cat(
      (m) => new BigInt64Array(m),
      (p) => p.uids,
    ),
    rank: new Int32Array(n).fill(-1),
    by: parts.flatMap((p) => p.by),
    gain: cat(
      (m) => new Float32Array(m),
      (p) => p.gain,
    ),
    signals,
    first: 0,
    tasks: [],
    exact: parts.every((p) => p.exact),
  };
  // Each block's rows in its rank order (global positions).
  const order = parts.map((p, b) => {
    const byRank = new Int32Array(p.uids.length).fill(-1);
    let m = 0;
    p.rank.forEach((r, i) => {
      if (r >= 0) {
        byRank[r] = at[b]! + i;
        m++;
      }
    });
    return byRank.subarray(0, m);
  });
  const first = order.flatMap((o, b) => Array.from(o.subarray(0, parts[b]!.first))).sort((x, y) => (out.uids[x]! < out.uids[y]! ? -1 : 1));
  let next = 0;
  for (const i of first) out.rank[i] = next++;
  const pos = parts.map((p) => p.first);
  const limit = maxPicks > 0 ? maxPicks : n;
  for (;;) {
    let best = -1;
    let key = Infinity;
    order.forEach((o, b) => {
      if (pos[b]! >= o.length) return;
      const share = (pos[b]! - parts[b]!.first + 0.5) / (o.length - parts[b]!.first);
      if (share < key) [best, key] = [b, share];
    });
    if (best < 0) break;
    const i = order[best]![pos[best]!++]!;
    if (next < limit) out.rank[i] = next++;
    else {
      out.by[i] = null;
      out.gain[i] = NaN;
    }
  }
  return out;
}

/**
 * Rows (in merged order) each block's coverage greedy picked exactly, its first `perBlock` picks
 * past the labelled ones: what GreeDi's second round ranks again together.
 */
export function exactPrefixes(parts: BlockRanking[], perBlock: number): Uint8Array {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.uids.length, 0));
  let at = 0;
  for (const p of parts) {
    p.rank.forEach((r, i) => {
      if (r >= p.first && r < p.first + perBlock) out[at + i] = 1;
    });
    at += p.uids.length;
  }
  return out;
}
