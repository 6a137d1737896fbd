import { DuckDBDataChunk, type DuckDBAppender, type DuckDBType, type DuckDBValue } from '@duckdb/node-api';

/**
 * The one place that knows how rows reach a DuckDB appender: in data chunks of at most one DuckDB
 * vector (2,048 rows; a bigger chunk fails with "A data chunk cannot have more than 2048 rows").
 * Every table of the run store is appended through here.
 */
export const CHUNK_ROWS = 2048;

/**
 * Appends `total` rows in chunks; `fill` sets the columns of rows off..off+n-1 on each chunk
 * (typed arrays go in as subarrays, no whole-table copy).
 */
export function appendChunks(app: DuckDBAppender, types: DuckDBType[], total: number, fill: (chunk: DuckDBDataChunk, off: number, n: number) => void): void {
  for (let off = 0; off < total; off += CHUNK_ROWS) {
    const n = Math.min(CHUNK_ROWS, total - off);
    const chunk = DuckDBDataChunk.create(types, n);
    fill(chunk, off, n);
    app.appendDataChunk(chunk);
  }
}

/** Appends equal-length columns of plain values. */
export function appendColumns(app: DuckDBAppender, types: DuckDBType[], columns: readonly (readonly DuckDBValue[])[]): void {
  const total = columns[0]?.length ?? 0;
  appendChunks(app, types, total, (chunk, off, n) => chunk.setColumns(off === 0 && n === total ? columns : columns.map((c) => c.slice(off, off + n))));
}
