/** Compressed sparse rows: row i holds indices[indptr[i]..indptr[i+1]) with their values. */
export interface Csr {
  rows: number;
  cols: number;
  indptr: Int32Array;
  indices: Int32Array;
  values: Float32Array;
}

export function csrFromRows(rows: { ids: Int32Array; values: Float32Array }[], cols: number): Csr {
  const indptr = new Int32Array(rows.length + 1);
  for (let i = 0; i < rows.length; i++) indptr[i + 1] = indptr[i]! + rows[i]!.ids.length;
  const nnz = indptr[rows.length]!;
  const indices = new Int32Array(nnz);
  const values = new Float32Array(nnz);
  rows.forEach((r, i) => {
    indices.set(r.ids, indptr[i]!);
    values.set(r.values, indptr[i]!);
  });
  return { rows: rows.length, cols, indptr, indices, values };
}

/** CSR of X^T. */
export function transpose(x: Csr): Csr {
  const nnz = x.indptr[x.rows]!;
  const indptr = new Int32Array(x.cols + 1);
  for (let p = 0; p < nnz; p++) indptr[x.indices[p]! + 1]!++;
  for (let j = 0; j < x.cols; j++) indptr[j + 1]! += indptr[j]!;
  const next = indptr.slice(0, x.cols);
  const indices = new Int32Array(nnz);
  const values = new Float32Array(nnz);
  for (let i = 0; i < x.rows; i++) {
    for (let p = x.indptr[i]!; p < x.indptr[i + 1]!; p++) {
      const q = next[x.indices[p]!]!++;
      indices[q] = i;
      values[q] = x.values[p]!;
    }
  }
  return { rows: x.cols, cols: x.rows, indptr, indices, values };
}
