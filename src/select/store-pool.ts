import type { DuckDBConnection } from '@duckdb/node-api';
import { readEmbeddingColumn } from '../embed/vector-chunk.js';
import type { Pool } from './pool.js';

export interface StorePool {
  pool: Pool;
  uids: BigInt64Array;
  /** Input ids of each row, when asked for. */
  ids?: string[];
  /** Label of each row, null when unlabelled. */
  labels: (string | null)[];
  /** Source name of each row. */
  sources: string[];
  /** Text of each row, when asked for. */
  texts?: string[];
}

/** A pool's size before it is read: rows, dimensions, and the mean text length when its texts are read (else 0). */
export interface PoolShape {
  rows: number;
  dim: number;
  textChars: number;
}

/** The rows of a pool: samples (alias s) with an embedding (alias e) that match `where`. */
export function poolRows(where: string): string {
  return `FROM samples s JOIN embeddings e USING (uid) WHERE ${where}`;
}

/**
 * Reads rows and their embeddings out of a run store into one (n x d) matrix, chunk by chunk.
 * `where` filters samples (alias s); rows come in uid order so the pool is deterministic.
 * `check` sees the pool's shape before anything is allocated (and may refuse it by throwing).
 */
export async function readStorePool(conn: DuckDBConnection, where: string, opts: { texts?: boolean; ids?: boolean; check?: (shape: PoolShape) => void } = {}): Promise<StorePool> {
  const [[dimRaw]] = (await conn.runAndReadAll('SELECT dim FROM embedding_model')).getRows() as [[number]];
  const d = Number(dimRaw);
  const sql = `SELECT s.uid, s.label, e.embedding, s.source::VARCHAR, ${opts.texts ? 's.text' : 'NULL AS text'}${opts.ids ? ', s.id' : ''} ${poolRows(where)} ORDER BY s.uid`;
  const [[rows, chars]] = (await conn.runAndReadAll(`SELECT count(*), coalesce(avg(length(text)), 0) FROM (${sql})`)).getRows() as [[bigint, number]];
  const n = Number(rows);
  opts.check?.({ rows: n, dim: d, textChars: Number(chars) });
  const x = new Float32Array(n * d);
  const uids = new BigInt64Array(n);
  const labels: (string | null)[] = [];
  const sources: string[] = [];
  const texts: string[] | undefined = opts.texts ? [] : undefined;
  const ids: string[] | undefined = opts.ids ? [] : undefined;
  const result = await conn.stream(sql);
  for (;;) {
    const chunk = await result.fetchChunk();
    if (chunk === null || chunk.rowCount === 0) break;
    const at = labels.length;
    x.set(readEmbeddingColumn(chunk, 2), at * d);
    uids.set(chunk.getColumnValues(0) as bigint[], at);
    labels.push(...(chunk.getColumnValues(1) as (string | null)[]));
    sources.push(...(chunk.getColumnValues(3) as string[]));
    if (texts) for (const t of chunk.getColumnValues(4) as (string | null)[]) texts.push(t ?? '');
    if (ids) ids.push(...(chunk.getColumnValues(5) as string[]));
  }
  return { pool: { x, n, d }, uids, labels, sources, texts, ids };
}

/** Class ids of the labelled rows of a pool (classes sorted by name). */
export function labelledSet(labels: readonly (string | null)[]): { labelled: Int32Array; y: Int32Array; classes: string[] } {
  const classes = [...new Set(labels.filter((l): l is string => l !== null))].sort();
  const index = new Map(classes.map((c, i) => [c, i]));
  const labelled: number[] = [];
  labels.forEach((l, i) => {
    if (l !== null) labelled.push(i);
  });
  return { labelled: Int32Array.from(labelled), y: Int32Array.from(labelled, (i) => index.get(labels[i]!)!), classes };
}

/**
 * Embeddings of the given rows, in the given order ((uids.length x d) row-major), read chunk by chunk
 * from the rows matching `where` (alias s); rows without a vector stay zero.
 */
export async function embeddingsFor(conn: DuckDBConnection, uids: readonly bigint[], where: string): Promise<{ x: Float32Array; d: number }> {
  const [[dimRaw]] = (await conn.runAndReadAll('SELECT dim FROM embedding_model')).getRows() as [[number]];
  const d = Number(dimRaw);
  const x = new Float32Array(uids.length * d);
  const pos = new Map(uids.map((u, i) => [u, i]));
  const result = await conn.stream(`SELECT s.uid, e.embedding ${poolRows(where)}`);
  for (;;) {
    const chunk = await result.fetchChunk();
    if (chunk === null || chunk.rowCount === 0) break;
    const ids = chunk.getColumnValues(0) as bigint[];
    const vectors = readEmbeddingColumn(chunk, 1);
    ids.forEach((u, r) => {
      const at = pos.get(u);
      if (at !== undefined) x.set(vectors.subarray(r * d, (r + 1) * d), at * d);
    });
  }
  return { x, d };
}
