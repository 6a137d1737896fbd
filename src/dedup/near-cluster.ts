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
  /** With `verify`, loads the sorted shingle hashes of the given documents. */
  verify: boolean;
  loadShingles: (docs: Int32Array) => Promise<Map<number, Uint32Array>>;
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
  let active = 0;
  for (let i = 0; i < n; i++) active += input.active[i]!;
  const keys = new BigUint64Array(active);
  for (let b = 0; b < bands; b++) {
    let k = 0;
    for (let i = 0; i < n; i++) if (input.active[i]) keys[k++] = (BigInt(input.bandHashes[i * bands + b]!) << 32n) | BigInt(i);
    keys.sort();
    for (let s = 0; s < keys.length; ) {
      const h = keys[s]! >> 32n;
      let e = s + 1;
      while (e < keys.length && keys[e]! >> 32n === h) e++;
      if (e - s > 1) {
        const g = new Int32Array(e - s);
        for (let j = s; j < e; j++) {
          g[j - s] = Number(keys[j]! & 0xffffffffn);
          isCandidate[g[j - s]!] = 1;
        }
        groups.push(g);
      }
      s = e;
    }
  }
  let candidateDocs = 0;
  for (let i = 0; i < n; i++) candidateDocs += isCandidate[i]!;
  let shingles = new Map<number, Uint32Array>();
  if (input.verify) {
    const docs = new Int32Array(candidateDocs);
    let k = 0;
    for (let i = 0; i < n; i++) if (isCandidate[i]) docs[k++] = i;
    shingles = await input.loadShingles(docs);
  }
  let candidatePairs = 0;
  for (const g of groups) {
    for (let m = 1; m < g.length; m++) {
      const doc = g[m]!;
      let checks = 0;
      for (let o = 0; o < m && checks < MAX_CHECKS; o++) {
        const other = g[o]!;
        if (uf.find(doc) === uf.find(other)) break;
        checks++;
        candidatePairs++;
        const score = input.verify ? sortedJaccard(shingles.get(doc)!, shingles.get(other)!) : NaN;
        if (!input.verify || score >= input.threshold) {
          uf.union(doc, other);
          if (linkedTo[doc] === -1) {
            linkedTo[doc] = other;
            linkScore[doc] = score;
          }
          break;
        }
      }
    }
  }
  return { uf, linkScore, linkedTo, candidatePairs, candidateDocs };
}
