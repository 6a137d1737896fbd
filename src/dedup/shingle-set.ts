/** Sorted distinct 32-bit hashes of a key's character shingles: an exact-enough Jaccard set, 4 bytes a shingle. */
export function shingleHashes(key: string, k: number): Uint32Array {
  const n = Math.max(1, key.length - k + 1);
  const out = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    let h = 0x811c9dc5;
    const end = Math.min(key.length, i + k);
    for (let j = i; j < end; j++) h = Math.imul(h ^ key.charCodeAt(j), 0x01000193);
    out[i] = h >>> 0;
  }
  out.sort();
  let w = 0;
  for (let i = 0; i < n; i++) if (i === 0 || out[i] !== out[i - 1]) out[w++] = out[i]!;
  return out.slice(0, w);
}

/** Jaccard of two sorted distinct hash arrays, by merging. */
export function sortedJaccard(a: Uint32Array, b: Uint32Array): number {
  let i = 0;
  let j = 0;
  let inter = 0;
  while (i < a.length && j < b.length) {
    if (a[i] === b[j]) {
      inter++;
      i++;
      j++;
    } else if (a[i]! < b[j]!) i++;
    else j++;
  }
  const union = a.length + b.length - inter;
  return union === 0 ? 1 : inter / union;
}
