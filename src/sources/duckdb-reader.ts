import type { DuckDBConnection } from '@duckdb/node-api';
import type { Batch } from '../core/batch.js';
import type { Reason } from '../core/reasons.js';
import type { SourceConfig } from '../config/schema.js';
import { ConfigError } from '../core/errors.js';
import { quoteIdent, quoteLiteral } from '../store/sql.js';
import type { InputFile } from './discover.js';
import { readCsvHeader } from './csv-header.js';
import { BatchBuilder, type ReadContext } from './record.js';

let scanCounter = 0;

/** The DuckDB table function that reads one CSV/TSV/Parquet file. */
export async function tableFunction(file: InputFile, src: SourceConfig, ctx: ReadContext, rejects?: { table: string; scan: string }): Promise<string> {
  const p = quoteLiteral(file.abs);
  if (file.format === 'parquet') return `read_parquet(${p}, file_row_number = true)`;
  const delim = src.csv?.delimiter ?? (file.format === 'tsv' ? '\t' : ',');
  const quote = src.csv?.quote ?? (file.format === 'tsv' ? '' : '"');
  const header = src.csv?.header ?? true;
  const names = await readCsvHeader(file.abs, file.gzip, delim, quote, header);
  const opts = [
    `delim = ${quoteLiteral(delim)}`,
    `header = ${header}`,
    `quote = ${quoteLiteral(quote)}`,
    `escape = ${quoteLiteral(quote)}`,
    'auto_detect = false',
    `columns = {${names.map((n) => `${quoteLiteral(n)}: 'VARCHAR'`).join(', ')}}`,
    `max_line_size = ${Math.max(ctx.maxRowBytes, 1 << 16)}`,
  ];
  if (rejects) opts.push('store_rejects = true', `rejects_table = ${quoteLiteral(rejects.table)}`, `rejects_scan = ${quoteLiteral(rejects.scan)}`);
  return `read_csv(${p}, ${opts.join(', ')})`;
}

/**
 * CSV/TSV and Parquet, read by DuckDB and streamed chunk by chunk. CSV rows DuckDB cannot parse are
 * caught by its rejects table (with their line numbers) and quarantined instead of failing the file.
 * The `where` filter runs inside the same query. For CSV, `row` counts parsed records (1-based);
 * a quarantined CSV row carries its physical line number.
 */
export async function* readWithDuckDB(file: InputFile, src: SourceConfig, ctx: ReadContext, conn: DuckDBConnection): AsyncGenerator<Batch> {
  const n = ++scanCounter;
  const rejects = file.format === 'parquet' ? undefined : { table: `__rej_${n}`, scan: `__scan_${n}` };
  const from = await tableFunction(file, src, ctx, rejects);
  const described = await conn.runAndReadAll(`DESCRIBE SELECT * FROM ${from}`);
  const columns = new Set(described.getRows().map((r) => String(r[0])));
  const cols = src.columns;
  if (!columns.has(cols.text)) {
    ctx.warn(`source "${src.name}", ${file.rel}: no column "${cols.text}" (columns: ${[...columns].filter((c) => c !== 'file_row_number').join(', ')}); every row is rejected as missing_text. Set sources[].columns.text.`);
  }
  const wanted = [cols.text, cols.id, cols.lang, cols.label, ...cols.metadata].filter((c): c is string => c !== undefined && columns.has(c));
  const uniq = [...new Set(wanted)];
  const select = uniq.map((c) => quoteIdent(c));
  select.push(src.where ? `coalesce((${src.where}), false) AS __keep` : 'true AS __keep');
  if (file.format === 'parquet') select.push('file_row_number AS __row');
  let result;
  try {
    result = await conn.stream(`SELECT ${select.join(', ')} FROM ${from}`);
  } catch (err) {
    if (src.where) throw new ConfigError(`sources "${src.name}" where: ${(err as Error).message.split('\n')[0]}`);
    throw err;
  }
  const b = new BatchBuilder(ctx, src, file);
  const keepIdx = uniq.length;
  let ordinal = 0;
  for (;;) {
    const chunk = await result.fetchChunk();
    if (chunk === null || chunk.rowCount === 0) break;
    const data = chunk.getColumns();
    const byName = new Map(uniq.map((c, j) => [c, data[j]!]));
    for (let r = 0; r < chunk.rowCount; r++) {
      const row = file.format === 'parquet' ? Number(data[keepIdx + 1]![r]) + 1 : ++ordinal;
      const get = (c: string): unknown => {
        const v = byName.get(c)?.[r];
        return v === undefined ? undefined : typeof v === 'bigint' ? Number(v) : v;
      };
      const i = b.record(row, get, () => JSON.stringify(Object.fromEntries(uniq.map((c) => [c, String(get(c))]))));
      if (data[keepIdx]![r] !== true) b.rejectAt(i, 'where_filter', src.where ?? null);
      if (b.full) yield b.take();
    }
  }
  if (rejects) {
    const rej = await conn.runAndReadAll(
      `SELECT line, list(error_type ORDER BY error_type)[1], first(error_message), first(csv_line) FROM ${quoteIdent(rejects.table)} GROUP BY line ORDER BY line`,
    );
    for (const [line, type, message, raw] of rej.getRows()) {
      b.malformed(Number(line), csvReason(String(type)), String(message).split('\n')[0]!, String(raw ?? ''));
      if (b.full) yield b.take();
    }
    await conn.run(`DROP TABLE IF EXISTS ${quoteIdent(rejects.table)}; DROP TABLE IF EXISTS ${quoteIdent(rejects.scan)}`);
  }
  if (b.size > 0) yield b.take();
}

function csvReason(errorType: string): Reason {
  const t = errorType.toUpperCase();
  if (t.includes('UNICODE') || t.includes('ENCODING')) return 'invalid_utf8';
  if (t.includes('LINE SIZE') || t.includes('MAXIMUM')) return 'oversized_row';
  return 'malformed_row';
}
