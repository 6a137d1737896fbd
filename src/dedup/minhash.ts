import { rng } from '../math/random.js';
import { shingleHashes } from './shingle-set.js';

/**
 * MinHash over character shingles. Shingles of the dedup key (character n-grams, so scripts without
 * spaces work too) are hashed once to 32 bits and finalized with murmur3's fmix32, so the bits are
 * well mixed; each of the `numPerm` permutations is then an affine map a*x + b mod 2^32 (a odd), two
 * integer operations per shingle and permutation. Signatures are Uint32Arrays.
 */
export class MinHasher {
  private readonly mulA: Uint32Array;
  private readonly xorB: Uint32Array;
  constructor(
    readonly numPerm: number,
    readonly shingle: number,
    seed: number,
  ) {
    const r = rng(seed ^ 0x5bd1e995);
    this.mulA = Uint32Array.from({ length: numPerm }, () => (Math.floor(r() * 0x7fffffff) * 2 + 1) >>> 0);
    this.xorB = Uint32Array.from({ length: numPerm }, () => Math.floor(r() * 0xffffffff) >>> 0);
  }

  /** The signature of `key` into `out` (numPerm values). */
  signature(key: string, out: Uint32Array): void {
    const hs = shingleHashes(key, this.shingle);
    const n = hs.length;
    for (let i = 0; i < n; i++) {
      let x = hs[i]!;
      x ^= x >>> 16;
      x = Math.imul(x, 0x85ebca6b);
      x ^= x >>> 13;
      x = Math.imul(x, 0xc2b2ae35);
      hs[i] = (x ^ (x >>> 16)) >>> 0;
    }
    for (let p = 0; p < this.numPerm; p++) {
      const a = this.mulA[p]!;
      const b = this.xorB[p]!;
      let min = 0xffffffff;
      for (let i = 0; i < n; i++) {
        const x = (Math.imul(hs[i]!, a) + b) >>> 0;
        if (x < min) min = x;
      }
      out[p] = min;
    }
  }
}

/** Probability that two documents with Jaccard s share at least one band (b bands of r rows). */
function collision(s: number, b: number, r: number): number {
  return 1 - Math.pow(1 - Math.pow(s, r), b);
}

function integrate(f: (x: number) => number, a: number, b: number, steps = 200): number {
  const h = (b - a) / steps;
  let sum = 0;
  for (let i = 0; i < steps; i++) sum += f(a + (i + 0.5) * h) * h;
  return sum;
}

/**
 * Bands x rows for a Jaccard threshold: the pair minimizing the weighted false-positive area below
 * the threshold plus the false-negative area above it (as datasketch chooses them).
 */
export function optimalBands(threshold: number, numPerm: number, fpWeight = 0.5, fnWeight = 0.5): { bands: number; rows: number } {
  let best = { bands: 1, rows: numPerm, error: Infinity };
  for (let b = 1; b <= numPerm; b++) {
    const maxR = Math.floor(numPerm / b);
    for (let r = 1; r <= maxR; r++) {
      const fp = integrate((s) => collision(s, b, r), 0, threshold);
      const fn = integrate((s) => 1 - collision(s, b, r), threshold, 1);
      const error = fpWeight * fp + fnWeight * fn;
      if (error < best.error) best = { bands: b, rows: r, error };
    }
  }
  return { bands: best.bands, rows: best.rows };
}

/** One 32-bit hash per band of a signature, into `out` (bands values). */
export function bandHashes(sig: Uint32Array, bands: number, rows: number, out: Uint32Array, outOffset = 0): void {
  for (let b = 0; b < bands; b++) {
    let h = 0x811c9dc5 ^ b;
    for (let r = 0; r < rows; r++) h = Math.imul(h ^ sig[b * rows + r]!, 0x01000193) >>> 0;
    out[outOffset + b] = h >>> 0;
  }
}
