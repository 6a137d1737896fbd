import { NgramCounter, type HashingParams } from '../embed/ngram-hash.js';
import { MaxHeap } from '../math/max-heap.js';

/**
 * Features of the coverage function: character 3-5-grams within words and whole words, hashed.
 * Shorter n-grams are in nearly every row (and would be left out as common). Case is kept: a
 * language model learns it too.
 */
const FEATURES: HashingParams = { buckets: 1 << 18, minN: 3, maxN: 5, lowercase: false, words: true };

/** Relative slack of the lazy evaluation: picks are within 2% of the best marginal gain. */
const SLACK = 0.02;
/** See rareFeatures. */
const COMMON_SHARE = 0.02;
const COMMON_MIN = 50;
/**
 * Picks made by (lazy) greedy; the rows after them are ordered by their last evaluated gain. A pick
 * costs more re-evaluations the larger the pool (27 at 50,000 short rows, ~110 at 250,000; ~1 us
 * each on cached features), so this and the select stage's blocks bound the time per row: budgets
 * that take more rows than this get an approximate tail.
 */
export const EXACT_PICKS = 20_000;

export interface CoverageResult {
  picks: Int32Array;
  /** Marginal gain per character of each pick when it was taken (past EXACT_PICKS: its upper bound). */
  gain: Float32Array;
  /** Gain evaluations made (n for the first pass, then lazy re-evaluations). */
  evaluations: number;
}

/**
 * Orders rows for a training set by a feature-based submodular function over hashed character
 * n-grams, F(S) = sum over n-grams u of sqrt(sum over rows i in S of count_i(u)) (Kirchhoff & Bilmes
 * 2014 select machine-translation data this way). The square root gives diminishing returns:
 * the hundredth copy of a common n-gram adds little, a row that brings n-grams the set lacks adds
 * much, so the set covers the language instead of repeating its commonest phrases. Lazy greedy on
 * marginal gain per character, what a token budget spends (a longer row repeats more of its own
 * n-grams, so this leans short; the budget's length quotas keep the selection's lengths the pool's).
 * `weight` (importance, uncertainty) scales a row's marginal gain. Each row's uncommon features are
 * kept, packed (~7 bytes per character of text), and the common ones left out of the gains.
 */
export function coverageRank(texts: readonly string[], count: number, opts: { weight?: Float32Array; blocked?: Uint8Array } = {}): CoverageResult {
  const n = texts.length;
  const { start, packed } = rareFeatures(texts);
  const mass = new Float64Array(FEATURES.buckets);
  const length = Float64Array.from(texts, (t) => Math.max(t.length, 1));
  let evaluations = 0;
  const gainOf = (i: number): number => {
    evaluations++;
    let g = 0;
    for (let t = start[i]!; t < start[i + 1]!; t++) {
      const m = mass[packed[t]! >>> COUNT_BITS]!;
      g += Math.sqrt(m + (packed[t]! & COUNT_MASK)) - Math.sqrt(m);
    }
    return ((opts.weight?.[i] ?? 1) * g) / length[i]!;
  };
  const heap = new MaxHeap(n);
  for (let i = 0; i < n; i++) if (!opts.blocked?.[i]) heap.push(i, gainOf(i));
  const picks = new Int32Array(Math.min(count, heap.size));
  const gains = new Float32Array(picks.length);
  let made = 0;
  while (made < picks.length) {
    const bound = heap.topKey();
    const i = heap.pop();
    if (made >= EXACT_PICKS) {
      // Past the exact prefix the rest go by their last evaluated gain: an upper bound, one pass.
      picks[made] = i;
      gains[made++] = bound;
      continue;
    }
    const fresh = gainOf(i);
    // Gains only shrink as the set grows, so a fresh gain still at the top is the true maximum; within
    // SLACK of it is taken too (each pick nicks every row's gain through the common n-grams, and exact
    // lazy greedy would re-evaluate nearly the whole pool each time).
    if (heap.size > 0 && fresh < heap.topKey() * (1 - SLACK) - 1e-12) {
      heap.push(i, fresh);
      continue;
    }
    for (let t = start[i]!; t < start[i + 1]!; t++) mass[packed[t]! >>> COUNT_BITS]! += packed[t]! & COUNT_MASK;
    picks[made] = i;
    gains[made++] = fresh;
  }
  return { picks, gain: gains, evaluations };
}

/** A feature's count in the low bits of its packed entry, its bucket (18 bits) above them. */
const COUNT_BITS = 14;
const COUNT_MASK = (1 << COUNT_BITS) - 1;

/**
 * Every row's features that are not common, in ascending bucket order, packed one per 32-bit word
 * (bucket, count) and laid end to end: row i's are packed[start[i] .. start[i+1]). Hashed once: a
 * row's gain is re-evaluated dozens of times, and hashing its text each time was nine tenths of the
 * ranking's time. Common n-grams are those in more than COMMON_SHARE of the rows (and at least
 * COMMON_MIN rows): any selection teaches them, and as each pick would nick the gain of nearly every
 * row through them, lazy greedy would have to re-evaluate the whole pool after every pick. They are
 * known only once every row is hashed, so all features are packed first (~8 bytes per character)
 * and the common ones dropped in place (~6 left).
 */
function rareFeatures(texts: readonly string[]): { start: Int32Array; packed: Uint32Array } {
  const counter = new NgramCounter(FEATURES);
  const df = new Int32Array(FEATURES.buckets);
  const start = new Int32Array(texts.length + 1);
  let packed = new Uint32Array(1 << 16);
  let used = 0;
  texts.forEach((text, i) => {
    const { ids, counts } = counter.count(text);
    if (used + ids.length > packed.length) {
      const grown = new Uint32Array(Math.max(2 * packed.length, used + ids.length));
      grown.set(packed.subarray(0, used));
      packed = grown;
    }
    for (let k = 0; k < ids.length; k++) {
      df[ids[k]!]!++;
      packed[used++] = (ids[k]! << COUNT_BITS) | Math.min(counts[k]!, COUNT_MASK);
    }
    start[i + 1] = used;
  });
  const cap = Math.max(COMMON_MIN, COMMON_SHARE * texts.length);
  let kept = 0;
  for (let i = 0, from = 0; i < texts.length; i++) {
    const end = start[i + 1]!;
    for (let t = from; t < end; t++) if (df[packed[t]! >>> COUNT_BITS]! <= cap) packed[kept++] = packed[t]!;
    from = end;
    start[i + 1] = kept;
  }
  return { start, packed: packed.slice(0, kept) };
}
