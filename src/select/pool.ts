/** L2-normalized embeddings of the rows a strategy chooses among, (n x d) row-major. */
export interface Pool {
  x: Float32Array;
  n: number;
  d: number;
}

/** Dot product of rows i and j of the pool (cosine similarity, the rows being unit length). */
export function rowDot(p: Pool, i: number, j: number): number {
  const { x, d } = p;
  let s = 0;
  const a = i * d;
  const b = j * d;
  for (let c = 0; c < d; c++) s += x[a + c]! * x[b + c]!;
  return s;
}

/** The rows `idx` of the pool as a new (idx.length x d) matrix. */
export function gatherRows(p: Pool, idx: ArrayLike<number>): Float32Array {
  const out = new Float32Array(idx.length * p.d);
  for (let r = 0; r < idx.length; r++) out.set(p.x.subarray(idx[r]! * p.d, idx[r]! * p.d + p.d), r * p.d);
  return out;
}
