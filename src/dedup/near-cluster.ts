import { UnionFind } from './union-find.js';

/** How close two documents are, for the documents a loader was asked for. */
export type PairScore = (a: number, b: number) => number;

export interface NearClusterInput {
  /** Documents, indexed 0..n-1. */
  n: number;
  /** Band hashes, (n x bands) row-major. */
  bandHashes: Uint32Array;
  bands: number;
  /** 1 for documents that take part (exact-duplicate representatives), 0 otherwise. */
  active: Uint8Array;
  threshold: number;
  /** Whether a candidate pair must score at least `threshold` to merge (false: every candidate merges). */
  verify: boolean;
  /**
   * What it takes to score pairs among these documents (shingles, MinHash fingerprints), loaded
   * for at most about `sliceDocs` documents at a time, so memory holds one slice.
   */
  loadScorer: (docs: Int32Array) => Promise<PairScore>;
  /**
   * Documents whose scoring data may be held at once (the caller sizes it from the memory budget).
   * A corpus whose candidates all fit is loaded once; in smaller slices a document in the buckets of
   * several slices (up to one per band) is loaded once per slice: the same links, more work.
   */
  sliceDocs: number;
}

export interface NearClusterResult {
  uf: UnionFind;
  /** Score (NaN without verification) of the first link each document took part in, else 0. */
  linkScore: Float32Array;
  /** The document at the other end of that link, else -1. */
  linkedTo: Int32Array;
  candidatePairs: number;
  candidateDocs: number;
  /** Documents the scorer was loaded for, summed over slices (candidateDocs when they all fit one). */
  loadedDocs: number;
}

/** Members linked to earlier members of an LSH bucket are checked against at most this many. */
const MAX_CHECKS = 8;

/** LSH buckets with two or more members, their members end to end in one growing typed array. */
class Buckets {
  members: Int32Array = new Int32Array(1024);
  ends: Int32Array = new Int32Array(256);
  size = 0;
  private used = 0;

  add(from: number, to: number, docOf: (j: number) => number): void {
    const need = this.used + (to - from);
    if (need > this.members.length) this.members = grown(this.members, need);
    for (let j = from; j < to; j++) this.members[this.used++] = docOf(j);
    if (this.size === this.ends.length) this.ends = grown(this.ends, this.size + 1);
    this.ends[this.size++] = this.used;
  }

  start(g: number): number {
    return g === 0 ? 0 : this.ends[g - 1]!;
  }
}

function grown(a: Int32Array, need: number): Int32Array {
  const b = new Int32Array(Math.max(need, a.length * 2));
  b.set(a);
  return b;
}

/**
 * Near-duplicate clusters by MinHash LSH: documents sharing a band hash are candidates; a candidate
 * joins an earlier bucket member when their score reaches the threshold (or unchecked without
 * verification); union-find turns links into clusters. Buckets come from a native sort of packed
 * (band hash, doc) keys per band, so memory is a few bytes per document and band plus the members
 * of buckets with two or more documents; pairs are scored a slice of documents at a time.
 */
export async function clusterNear(input: NearClusterInput): Promise<NearClusterResult> {
  const { n } = input;
  const buckets = bucketsOf(input);
  const isCandidate = new Uint8Array(n);
  for (let j = 0; j < buckets.start(buckets.size); j++) isCandidate[buckets.members[j]!] = 1;
  let candidateDocs = 0;
  for (let i = 0; i < n; i++) candidateDocs += isCandidate[i]!;
  const result: NearClusterResult = { uf: new UnionFind(n), linkScore: new Float32Array(n), linkedTo: new Int32Array(n).fill(-1), candidatePairs: 0, candidateDocs, loadedDocs: 0 };
  // Buckets are checked in band order, whatever the slicing, so the links do not depend on it.
  for (let g0 = 0; g0 < buckets.size;) {
    const needed = new Set<number>();
    let g1 = g0;
    while (g1 < buckets.size && (needed.size < input.sliceDocs || g1 === g0)) {
      for (let j = buckets.start(g1); j < buckets.ends[g1]!; j++) needed.add(buckets.members[j]!);
      g1++;
    }
    const score = await input.loadScorer(Int32Array.from([...needed].sort((a, b) => a - b)));
    result.loadedDocs += needed.size;
    for (let g = g0; g < g1; g++) linkBucket(buckets.members.subarray(buckets.start(g), buckets.ends[g]!), score, input, result);
    g0 = g1;
  }
  return result;
}

/** Each member of one bucket against the earlier members, until it joins their cluster. */
function linkBucket(members: Int32Array, score: PairScore, input: NearClusterInput, out: NearClusterResult): void {
  const { uf, linkedTo, linkScore } = out;
  for (let m = 1; m < members.length; m++) {
    const doc = members[m]!;
    let checks = 0;
    for (let o = 0; o < m && checks < MAX_CHECKS; o++) {
      const other = members[o]!;
      if (uf.find(doc) === uf.find(other)) break;
      checks++;
      out.candidatePairs++;
      const s = input.verify ? score(doc, other) : NaN;
      if (input.verify && !(s >= input.threshold)) continue;
      uf.union(doc, other);
      // Both ends remember their first link, so every clustered document can say which pair put it there.
      for (const [a, b] of [
        [doc, other],
        [other, doc],
      ] as const) {
        if (linkedTo[a] !== -1) continue;
        linkedTo[a] = b;
        linkScore[a] = s;
      }
      break;
    }
  }
}

/** Every LSH bucket with two or more active members, band by band. */
function bucketsOf(input: NearClusterInput): Buckets {
  const { n, bands } = input;
  let active = 0;
  for (let i = 0; i < n; i++) active += input.active[i]!;
  // (band hash, doc) packed into one exactly representable float64 (32 + 21 bits) sorts natively;
  // beyond 2^21 documents the packing needs 64-bit integers.
  const packed = n < 1 << 21;
  const keys = packed ? new Float64Array(active) : new BigUint64Array(active);
  const DOC = 2 ** 21;
  const out = new Buckets();
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
      if (e - s > 1) out.add(s, e, docOf);
      s = e;
    }
  }
  return out;
}
