import { ARRAY, DuckDBDataChunk, FLOAT, USMALLINT, type DuckDBType, type DuckDBVector } from '@duckdb/node-api';
import { fromHalfBits } from './float16.js';

/**
 * DuckDB ARRAY columns (embeddings, band hashes) filled straight from typed arrays. The public node-api path converts every
 * element through a JS value (an array of numbers per row); the vector's child buffer takes the
 * whole batch with one copy. Pinned @duckdb/node-api version: the child buffer is checked at runtime.
 */
export function arrayType(dtype: 'float32' | 'float16', dim: number): DuckDBType {
  return ARRAY(dtype === 'float32' ? FLOAT : USMALLINT, dim);
}

interface ArrayVectorInternals {
  childData: { items: Float32Array | Uint16Array | Uint32Array | Uint8Array };
  flush(): void;
}

function internals(vector: DuckDBVector): ArrayVectorInternals {
  const v = vector as unknown as ArrayVectorInternals;
  if (!v.childData || !(v.childData.items instanceof Float32Array || v.childData.items instanceof Uint16Array || v.childData.items instanceof Uint32Array || v.childData.items instanceof Uint8Array)) {
    throw new Error('unexpected @duckdb/node-api vector layout; winnow pins the version it was built against');
  }
  return v;
}

/** Writes n rows of `values` ((n x dim) row-major) into column `col` of `chunk`. */
export function setArrayColumn(chunk: DuckDBDataChunk, col: number, values: Float32Array | Uint16Array | Uint32Array | Uint8Array): void {
  const v = internals(chunk.getColumnVector(col));
  v.childData.items.set(values);
  v.flush();
}

/** The (rows x dim) values of an ARRAY column of a result chunk. */
export function readArrayColumn(chunk: DuckDBDataChunk, col: number): Float32Array | Uint16Array | Uint32Array | Uint8Array {
  return internals(chunk.getColumnVector(col)).childData.items;
}

/**
 * The embeddings of an ARRAY column as float32 (rows x dim), whichever dtype the store holds:
 * float32 copied out of the vector, float16 bit patterns widened.
 */
export function readEmbeddingColumn(chunk: DuckDBDataChunk, col: number): Float32Array {
  const raw = readArrayColumn(chunk, col);
  return raw instanceof Uint16Array ? Float32Array.from(raw, fromHalfBits) : Float32Array.from(raw);
}
