/**
 * Hashed character n-grams, the features of the built-in encoder. Script-agnostic: it needs no
 * tokenizer, no word list and no pretrained model, so it works for any language and any script.
 *
 * Each word is padded with boundary marks (\u0002 word \u0003), so a prefix or suffix n-gram differs
 * from the same letters inside a word; n-grams never cross words. Hashes are FNV-1a over UTF-16 code
 * units, extended one unit at a time, so all n for one start position cost n steps, not n^2.
 */
export interface HashingParams {
  buckets: number;
  minN: number;
  maxN: number;
  lowercase: boolean;
  /** Also hash each whole word (with its boundary marks) as one feature. */
  words: boolean;
}

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;
const BOW = 0x0002;
const EOW = 0x0003;
const WORD_SALT = 0x9e3779b1;

function isSpace(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13) || c === 0xa0 || c === 0x3000 || (c >= 0x2000 && c <= 0x200a) || c === 0x1680 || c === 0x202f || c === 0x205f;
}

/**
 * Reusable per-thread counting state: a dense count per bucket plus the list of buckets touched, so
 * counting a text costs its n-grams, not a hash map, and resetting costs only what was touched.
 */
export class NgramCounter {
  private readonly counts: Uint16Array;
  private readonly touched: Int32Array;
  private size = 0;
  constructor(private readonly p: HashingParams) {
    this.counts = new Uint16Array(p.buckets);
    this.touched = new Int32Array(1 << 16);
  }

  /** Unique bucket ids of `text` in ascending order, with their counts. */
  count(text: string): { ids: Int32Array; counts: Float32Array } {
    const t = this.p.lowercase ? text.toLowerCase() : text;
    const n = t.length;
    this.size = 0;
    let i = 0;
    while (i < n) {
      while (i < n && isSpace(t.charCodeAt(i))) i++;
      if (i >= n) break;
      const start = i;
      while (i < n && !isSpace(t.charCodeAt(i))) i++;
      addWord(t, start, i, this.p, this);
    }
    // Sorted ids make the feature list, and so every float sum over it, independent of text order.
    const ids = this.touched.slice(0, this.size).sort();
    const counts = new Float32Array(ids.length);
    for (let k = 0; k < ids.length; k++) {
      counts[k] = this.counts[ids[k]!]!;
      this.counts[ids[k]!] = 0;
    }
    return { ids, counts };
  }

  add(bucket: number): void {
    if (this.counts[bucket] === 0) {
      if (this.size < this.touched.length) this.touched[this.size++] = bucket;
      else return; // more than 65,536 distinct n-grams in one text: the rest are dropped
    }
    if (this.counts[bucket]! < 0xffff) this.counts[bucket]!++;
  }
}

/** Convenience wrapper for one-off use (tests, fitting); hot loops keep one NgramCounter. */
export function ngramCounts(text: string, p: HashingParams, counter = new NgramCounter(p)): { ids: Int32Array; counts: Float32Array } {
  return counter.count(text);
}

function addWord(t: string, start: number, end: number, p: HashingParams, acc: NgramCounter): void {
  // Padded word: BOW, chars..., EOW. Position j in [0, len+2).
  const len = end - start + 2;
  const at = (j: number): number => (j === 0 ? BOW : j === len - 1 ? EOW : t.charCodeAt(start + j - 1));
  const mod = p.buckets;
  for (let j = 0; j < len; j++) {
    let h = FNV_OFFSET;
    const maxN = Math.min(p.maxN, len - j);
    for (let k = 0; k < maxN; k++) {
      h = Math.imul(h ^ at(j + k), FNV_PRIME);
      if (k + 1 >= p.minN) {
        // A lone boundary mark carries no information.
        if (k === 0 && (j === 0 || j === len - 1)) continue;
        acc.add((h >>> 0) % mod);
      }
    }
  }
  if (p.words && len - 2 > p.maxN - 2) {
    let h = FNV_OFFSET ^ WORD_SALT;
    for (let j = 0; j < len; j++) h = Math.imul(h ^ at(j), FNV_PRIME);
    acc.add((h >>> 0) % mod);
  }
}

/** Sublinear term frequency (1 + ln tf), as in scikit-learn's TfidfVectorizer(sublinear_tf=True). */
export function sublinearTf(counts: Float32Array): Float32Array {
  const out = new Float32Array(counts.length);
  for (let i = 0; i < counts.length; i++) out[i] = 1 + Math.log(counts[i]!);
  return out;
}
