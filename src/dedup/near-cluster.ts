import { sortedJaccard } from './shingle-set.js';
import { UnionFind } from './union-find.js';

export interface NearClusterInput {
  /** Documents, indexed 0..n-1. */
  n: number;
  /** Band hashes, (n x bands) row-major. */
  bandHashes: Uint32Array;
  bands: number;
  /** 1 for documents that take part (exact-duplicate representatives), 0 otherwise. */
  active: Uint8Array;
  threshold: number;
  /**
   * How candidate pairs are checked: `jaccard` loads the documents' shingle hashes and computes the
   * true Jaccard; `signature` estimates it from 8-bit MinHash fingerprints held in memory (b-bit
   * minwise hashing, Li & König 2010); `none` merges every candidate.
   */
  verify: 'jaccard' | 'signature' | 'none';
  loadShingles: (docs: Int32Array) => Promise<Map<number, Uint32Array>>;
  /** With `signature`: (n x numPerm) low bytes of each document's MinHash signature. */
  fingerprints?: Uint8Array;
  numPerm?: number;
}

export interface NearClusterResult {
  uf: UnionFind;
  /** Jaccard (or NaN without verification) of the link that joined each document, else 0. */
  linkScore: Float32Array;
  /** Index of the document each one was linked to, else -1. */
  linkedTo: Int32Array;
  candidatePairs: number;
  candidateDocs: number;
}

/** Members linked to earlier members of an LSH bucket are checked against at most this many. */
const MAX_CHECKS = 8;

/** Documents whose shingles are held at once while verifying candidate pairs. */
const SLICE_DOCS = 50_000;

/**
 * Near-duplicate clusters by MinHash LSH: documents sharing a band hash are candidates; a candidate
 * joins an earlier bucket member when their Jaccard reaches the threshold (or unchecked without
 * verification); union-find turns links into clusters. Buckets come from a native sort of packed
 * (band hash, doc) 64-bit keys per band, so memory stays a few bytes per document and band.
 */
export async function clusterNear(input: NearClusterInput): Promise<NearClusterResult> {
  const { n, bands } = input;
  const uf = new UnionFind(n);
  const linkScore = new Float32Array(n);
  const linkedTo = new Int32Array(n).fill(-1);
  const groups: Int32Array[] = [];
  const isCandidate = new Uint8Array(n);
  let candidatePairs = 0;
  let active = 0;
  for (let i = 0; i < n; i++) active += input.active[i]!;
  // Without shingle loading, runs are checked as they come out of each band's sort: memory stays the
  // sort keys, whatever the number of buckets.
  const inline = input.verify !== 'jaccard';
  const estimate = (a: number, b: number): number => {
    if (input.verify === 'none') return NaN;
    const p = input.numPerm!;
    const fp = input.fingerprints!;
    let same = 0;
    for (let k = 0; k < p; k++) if (fp[a * p + k] === fp[b * p + k]) same++;
    // Unrelated 8-bit values agree 1/256 of the time; correct for it.
    return Math.max(0, (same / p - 1 / 256) / (1 - 1 / 256));
  };
  const link = (doc: number, other: number, score: number): boolean => {
    if (input.verify !== 'none' && !(score >= input.threshold)) return false;
    uf.union(doc, other);
    if (linkedTo[doc] === -1) {
      linkedTo[doc] = other;
      linkScore[doc] = score;
    }
    return true;
  };
  // (band hash, doc) packed into one exactly representable float64 (32 + 21 bits) sorts natively;
  // beyond 2^21 documents the packing needs 64-bit integers.
  const packed = n < 1 << 21;
  const keys = packed ? new Float64Array(active) : new BigUint64Array(active);
  const DOC = 2 ** 21;
  for (let b = 0; b < bands; b++) {
    let k = 0;
    if (packed) {
      const f = keys as Float64Array;
      for (let i = 0; i < n; i++) if (input.active[i]) f[k++] = input.bandHashes[i * bands + b]! * DOC + i;
    } else {
      const g = keys as BigUint64Array;
      for (let i = 0; i < n; i++) if (input.active[i]) g[k++] = (BigInt(input.bandHashes[i * bands + b]!) << 32n) | BigInt(i);
    }
    keys.sort();
    const hashOf = (j: number): number => (packed ? Math.floor((keys as Float64Array)[j]! / DOC) : Number((keys as BigUint64Array)[j]! >> 32n));
    const docOf = (j: number): number => (packed ? (keys as Float64Array)[j]! % DOC : Number((keys as BigUint64Array)[j]! & 0xffffffffn));
    for (let s = 0; s < keys.length;) {
      const h = hashOf(s);
      let e = s + 1;
      while (e < keys.length && hashOf(e) === h) e++;
      if (e - s > 1) {
        if (inline) {
          for (let m = s + 1; m < e; m++) {
            const doc = docOf(m);
            isCandidate[doc] = 1;
            isCandidate[docOf(s)] = 1;
            let checks = 0;
            for (let o = s; o < m && checks < MAX_CHECKS; o++) {
              const other = docOf(o);
              if (uf.find(doc) === uf.find(other)) break;
              checks++;
              candidatePairs++;
              if (link(doc, other, estimate(doc, other))) break;
            }
          }
        } else {
          const g = new Int32Array(e - s);
          for (let j = s; j < e; j++) {
            g[j - s] = docOf(j);
            isCandidate[g[j - s]!] = 1;
          }
          groups.push(g);
        }
      }
      s = e;
    }
  }
  let candidateDocs = 0;
  for (let i = 0; i < n; i++) candidateDocs += isCandidate[i]!;
  // Groups are verified in slices whose documents' shingles are loaded together, so memory holds the
  // shingles of one slice (at most SLICE_DOCS documents), not of every candidate.
  for (let g0 = 0; g0 < groups.length;) {
    const needed = new Set<number>();
    let g1 = g0;
    while (g1 < groups.length && (needed.size < SLICE_DOCS || g1 === g0)) {
      for (const d of groups[g1]!) needed.add(d);
      g1++;
    }
    const shingles = await input.loadShingles(Int32Array.from([...needed].sort((a, b) => a - b)));
    for (let gi = g0; gi < g1; gi++) {
      const g = groups[gi]!;
      for (let m = 1; m < g.length; m++) {
        const doc = g[m]!;
        let checks = 0;
        for (let o = 0; o < m && checks < MAX_CHECKS; o++) {
          const other = g[o]!;
          if (uf.find(doc) === uf.find(other)) break;
          checks++;
          candidatePairs++;
          if (link(doc, other, sortedJaccard(shingles.get(doc)!, shingles.get(other)!))) break;
        }
      }
    }
    g0 = g1;
  }
  return { uf, linkScore, linkedTo, candidatePairs, candidateDocs };
}
