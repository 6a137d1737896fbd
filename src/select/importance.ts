import { NgramCounter, type HashingParams } from '../embed/ngram-hash.js';
import { quantiles } from '../math/quantile.js';

/**
 * Hashed n-gram features of the importance weights: character 2-4-grams within words and whole
 * words, so that they work in every script and need no tokenizer (DSIR, Xie et al. 2023, hashes word
 * unigrams and bigrams; low-resource, agglutinative languages share more subwords than words).
 */
const FEATURES: HashingParams = { buckets: 1 << 15, minN: 2, maxN: 4, lowercase: true, words: true };

/** Add-alpha smoothing of each bag-of-n-grams model. */
const ALPHA = 1;
/**
 * Pseudo-count of features pulling a row's mean log ratio toward the pool's: a 10-character row has
 * few features, so its mean is noisy, and unshrunk it would reach the extremes more often than a
 * long row, i.e. the weights would sort rows by length. (Toward the pool's mean, not 0: a pool is
 * mostly more target-like than raw, so shrinking to 0 would put every short row below the median.)
 */
const SHRINK = 20;
/** Weights are clipped to exp(-LIMIT)..exp(LIMIT): one odd row never outweighs the whole ranking. */
const LIMIT = 3;

export interface ImportanceResult {
  /** Weight of each pool row, exp(shrunk mean log ratio - its median), clipped. */
  weight: Float32Array;
  /** Shrunk mean log ratio of each row (nats per feature). */
  logRatio: Float32Array;
}

/**
 * Importance weights of pool rows for a target distribution against a raw one, on hashed n-gram
 * features (DSIR): log w_i = mean over the row's features of log p_target(f) - log p_raw(f). The
 * mean, not DSIR's sum, so a row's weight does not grow with its length; the budget fill spends by
 * value, and a length-dependent weight would make the selection's lengths differ from the pool's.
 */
export function importanceWeights(pool: readonly string[], target: { counts: Float64Array<ArrayBufferLike> }, raw: { counts: Float64Array<ArrayBufferLike> }): ImportanceResult {
  const counter = new NgramCounter(FEATURES);
  const lr = logRatios(target.counts, raw.counts);
  const sums = new Float64Array(pool.length);
  const sizes = new Float64Array(pool.length);
  for (let i = 0; i < pool.length; i++) {
    const { ids, counts } = counter.count(pool[i]!);
    for (let k = 0; k < ids.length; k++) {
      sums[i]! += counts[k]! * lr[ids[k]!]!;
      sizes[i]! += counts[k]!;
    }
  }
  const prior =
    sums.reduce((a, b) => a + b, 0) /
    Math.max(
      1,
      sizes.reduce((a, b) => a + b, 0),
    );
  const logRatio = Float32Array.from(sums, (s, i) => (s + SHRINK * prior) / (sizes[i]! + SHRINK));
  const [median] = quantiles(logRatio, [0.5]) as [number];
  const weight = Float32Array.from(logRatio, (m) => Math.exp(Math.max(-LIMIT, Math.min(LIMIT, m - median))));
  return { weight, logRatio };
}

/** Hashed n-gram counts of a set of texts, added one text at a time (texts can stream past). */
export class NgramBag {
  readonly counts = new Float64Array(FEATURES.buckets);
  private readonly counter = new NgramCounter(FEATURES);
  texts = 0;

  add(text: string): this {
    NgramBag.addTo(text, this, null);
    return this;
  }

  /** Adds counts made elsewhere (a worker thread's bag of the same features): sums of whole counts, exact in any order. */
  merge(counts: Float64Array, texts: number): void {
    for (let k = 0; k < counts.length; k++) this.counts[k]! += counts[k]!;
    this.texts += texts;
  }

  /** Adds a text to one bag or two, hashing it once. */
  static addTo(text: string, a: NgramBag | null, b: NgramBag | null): void {
    const { ids, counts } = (a ?? b)!.counter.count(text);
    for (const bag of [a, b]) {
      if (!bag) continue;
      for (let k = 0; k < ids.length; k++) bag.counts[ids[k]!]! += counts[k]!;
      bag.texts++;
    }
  }
}

function logRatios(target: Float64Array<ArrayBufferLike>, raw: Float64Array<ArrayBufferLike>): Float64Array {
  const b = target.length;
  let nt = 0;
  let nr = 0;
  for (let f = 0; f < b; f++) {
    nt += target[f]!;
    nr += raw[f]!;
  }
  const out = new Float64Array(b);
  for (let f = 0; f < b; f++) out[f] = Math.log((target[f]! + ALPHA) / (nt + ALPHA * b)) - Math.log((raw[f]! + ALPHA) / (nr + ALPHA * b));
  return out;
}

/** The bags of a window of texts: every text (when `all`) and the flagged ones. */
export interface WindowBags {
  all: Float64Array | null;
  allTexts: number;
  flagged: Float64Array;
  flaggedTexts: number;
}

export function countWindow(texts: readonly string[], flags: Uint8Array, all: boolean): WindowBags {
  const a = all ? new NgramBag() : null;
  const f = new NgramBag();
  texts.forEach((t, i) => {
    if (a || flags[i]) NgramBag.addTo(t, a, flags[i] ? f : null);
  });
  return { all: a?.counts ?? null, allTexts: a?.texts ?? 0, flagged: f.counts, flaggedTexts: f.texts };
}
