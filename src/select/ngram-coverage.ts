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
/** See commonFeatures. */
const COMMON_SHARE = 0.02;
const COMMON_MIN = 50;
/**
 * Picks made by (lazy) greedy; the rows after them are ordered by their last evaluated gain. Each
 * pick costs about 15 re-evaluations of ~40 us, so this bounds the stage at ~15 s whatever the pool:
 * budgets that take more rows than this get an approximate tail.
 */
const EXACT_PICKS = 20_000;

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
 * `weight` (importance, uncertainty) scales a row's marginal gain. Features are hashed again when a
 * gain is re-evaluated instead of being kept: memory stays O(rows), not O(n-grams in the corpus).
 */
export function coverageRank(texts: readonly string[], count: number, opts: { weight?: Float32Array; blocked?: Uint8Array } = {}): CoverageResult {
  const n = texts.length;
  const counter = new NgramCounter(FEATURES);
  const mass = new Float64Array(FEATURES.buckets);
  const common = commonFeatures(texts, counter);
  const length = Float64Array.from(texts, (t) => Math.max(t.length, 1));
  let evaluations = 0;
  const gainOf = (i: number, { ids, counts } = counter.count(texts[i]!)): number => {
    evaluations++;
    let g = 0;
    for (let k = 0; k < ids.length; k++) {
      if (common[ids[k]!]) continue;
      const m = mass[ids[k]!]!;
      g += Math.sqrt(m + counts[k]!) - Math.sqrt(m);
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
    const features = counter.count(texts[i]!);
    const fresh = gainOf(i, features);
    // Gains only shrink as the set grows, so a fresh gain still at the top is the true maximum; within
    // SLACK of it is taken too (each pick nicks every row's gain through the common n-grams, and exact
    // lazy greedy would re-evaluate nearly the whole pool each time).
    if (heap.size > 0 && fresh < heap.topKey() * (1 - SLACK) - 1e-12) {
      heap.push(i, fresh);
      continue;
    }
    const { ids, counts } = features;
    for (let k = 0; k < ids.length; k++) mass[ids[k]!]! += counts[k]!;
    picks[made] = i;
    gains[made++] = fresh;
  }
  return { picks, gain: gains, evaluations };
}

/**
 * N-grams in more than COMMON_SHARE of the rows (and at least COMMON_MIN rows): any selection teaches
 * them, and as each pick would nick the gain of nearly every row through them, lazy greedy would have
 * to re-evaluate the whole pool after every pick. Left out of the gains.
 */
function commonFeatures(texts: readonly string[], counter: NgramCounter): Uint8Array {
  const df = new Int32Array(FEATURES.buckets);
  for (const t of texts) for (const id of counter.count(t).ids) df[id]!++;
  const cap = Math.max(COMMON_MIN, COMMON_SHARE * texts.length);
  return Uint8Array.from(df, (v) => (v > cap ? 1 : 0));
}
