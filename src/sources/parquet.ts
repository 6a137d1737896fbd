import { statSync } from 'node:fs';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { Batch } from '../core/batch.js';
import type { SourceConfig } from '../config/schema.js';
import { ConfigError } from '../core/errors.js';
import { quoteIdent, quoteLiteral } from '../store/sql.js';
import type { InputFile } from './discover.js';
import { BatchBuilder, type ReadContext } from './record.js';

/**
 * Parquet, read by DuckDB and streamed chunk by chunk, with the `where` filter inside the same
 * query. `row` is the file's 1-based row number.
 */
export async function* readParquet(file: InputFile, src: SourceConfig, ctx: ReadContext, conn: DuckDBConnection): AsyncGenerator<Batch> {
  const from = `read_parquet(${quoteLiteral(file.abs)}, file_row_number = true)`;
  const described = await conn.runAndReadAll(`DESCRIBE SELECT * FROM ${from}`);
  const columns = new Set(described.getRows().map((r) => String(r[0])));
  const cols = src.columns;
  if (!columns.has(cols.text)) {
    ctx.warn(
      `source "${src.name}", ${file.rel}: no column "${cols.text}" (columns: ${[...columns].filter((c) => c !== 'file_row_number').join(', ')}); every row is rejected as missing_text. Set sources[].columns.text.`,
    );
  }
  const wanted = [cols.text, cols.id, cols.lang, cols.label, ...cols.metadata].filter((c): c is string => c !== undefined && columns.has(c));
  const uniq = [...new Set(wanted)];
  const select = uniq.map((c) => quoteIdent(c));
  select.push(src.where ? `coalesce((${src.where}), false) AS __keep` : 'true AS __keep');
  select.push('file_row_number AS __row');
  let result;
  try {
    result = await conn.stream(`SELECT ${select.join(', ')} FROM ${from}`);
  } catch (err) {
    if (src.where) throw new ConfigError(`sources "${src.name}" where: ${(err as Error).message.split('\n')[0]}`);
    throw err;
  }
  const b = new BatchBuilder(ctx, src, file);
  const keepIdx = uniq.length;
  for (;;) {
    const chunk = await result.fetchChunk();
    if (chunk === null || chunk.rowCount === 0) break;
    const data = chunk.getColumns();
    const byName = new Map(uniq.map((c, j) => [c, data[j]!]));
    for (let r = 0; r < chunk.rowCount; r++) {
      const row = Number(data[keepIdx + 1]![r]) + 1;
      const get = (c: string): unknown => {
        const v = byName.get(c)?.[r];
        return v === undefined ? undefined : typeof v === 'bigint' ? Number(v) : v;
      };
      const i = b.record(row, get, () => JSON.stringify(Object.fromEntries(uniq.map((c) => [c, String(get(c))]))));
      if (data[keepIdx]![r] !== true) b.rejectAt(i, 'where_filter', src.where ?? null);
      if (b.full) yield b.take();
    }
  }
  if (b.size > 0) yield b.take();
  ctx.bytesRead += statSync(file.abs).size;
}
