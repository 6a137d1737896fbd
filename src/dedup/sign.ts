import { xxh64 } from '@node-rs/xxhash';
import { dedupKey, type DedupKeyOptions } from './dedup-key.js';
import { bandHashes, MinHasher } from './minhash.js';

/** What signing needs, plain data so a worker thread can be sent it. */
export interface SignParams {
  numPerm: number;
  shingle: number;
  seed: number;
  bands: number;
  rows: number;
  key: DedupKeyOptions;
  /** MinHash bands (near-duplicate detection on); else only the exact key hash. */
  near: boolean;
  /** Keep each signature's low bytes (the fingerprint a pair is verified on). */
  hold: boolean;
}

/** The signing of a window of texts: a key hash each, `bands` band hashes each, a fingerprint each when held. */
export interface Signed {
  keyHash: BigUint64Array;
  bands: Uint32Array;
  prints: Uint8Array;
}

/** Signs texts: the dedup key's 64-bit hash, and with `near` its MinHash band hashes (and fingerprint). */
export function signTexts(texts: readonly string[], p: SignParams, hasher = new MinHasher(p.numPerm, p.shingle, p.seed)): Signed {
  const n = texts.length;
  const out: Signed = { keyHash: new BigUint64Array(n), bands: new Uint32Array(p.near ? n * p.bands : 0), prints: new Uint8Array(p.near && p.hold ? n * p.numPerm : 0) };
  const sig = new Uint32Array(p.numPerm);
  for (let i = 0; i < n; i++) {
    const key = dedupKey(texts[i]!, p.key);
    out.keyHash[i] = xxh64(key);
    if (!p.near) continue;
    hasher.signature(key, sig);
    bandHashes(sig, p.bands, p.rows, out.bands, i * p.bands);
    if (p.hold) for (let k = 0; k < p.numPerm; k++) out.prints[i * p.numPerm + k] = sig[k]! & 0xff;
  }
  return out;
}

export function signedTransferables(s: Signed): ArrayBuffer[] {
  return [s.keyHash.buffer, s.bands.buffer, s.prints.buffer] as ArrayBuffer[];
}
