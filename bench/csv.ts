import { mkdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { SourceSchema } from '../src/config/schema.js';
import { readCsv } from '../src/sources/csv.js';
import { quoteLiteral } from '../src/store/sql.js';
import { PROJECT_ROOT } from '../src/util/versions.js';
import { writeShortTextCorpus } from './corpus.js';
import { fmt, table, writeSection } from './report.js';

const ROWS = 1_000_000;

/** winnow's CSV reader (records, ids, the batch builder) over the whole file. */
async function readWithWinnow(file: string): Promise<{ rows: number; seconds: number }> {
  const src = SourceSchema.parse({ name: 'b', path: file, columns: { id: 'id', lang: 'lang' } });
  const ctx = { nextUid: 0, batchSize: 4096, maxRowBytes: 1 << 20, previewChars: 200, warn: () => {}, bytesRead: 0 };
  const t0 = performance.now();
  let rows = 0;
  for await (const b of readCsv({ source: 'b', abs: file, rel: 'b.csv', format: 'csv', gzip: false }, src, ctx, null, { blankLines: 0 })) rows += b.size;
  return { rows, seconds: (performance.now() - t0) / 1000 };
}

/** The previous reader: DuckDB's read_csv with exact columns, its values fetched into JS chunk by chunk. */
async function readWithDuckDB(file: string): Promise<{ rows: number; seconds: number }> {
  const db = await DuckDBInstance.create(':memory:', { threads: '1' });
  const conn = await db.connect();
  const t0 = performance.now();
  const res = await conn.stream(
    `SELECT id, lang, text FROM read_csv(${quoteLiteral(file)}, delim = ',', header = true, quote = '"', escape = '"', auto_detect = false, columns = {'id': 'VARCHAR', 'lang': 'VARCHAR', 'text': 'VARCHAR'})`,
  );
  let rows = 0;
  let chars = 0;
  for (;;) {
    const chunk = await res.fetchChunk();
    if (chunk === null || chunk.rowCount === 0) break;
    const cols = chunk.getColumns();
    for (let r = 0; r < chunk.rowCount; r++) chars += String(cols[2]![r]).length;
    rows += chunk.rowCount;
  }
  const seconds = (performance.now() - t0) / 1000;
  conn.closeSync();
  db.closeSync();
  return { rows: chars >= 0 ? rows : 0, seconds };
}

/** CSV reading: winnow's line reader against DuckDB's read_csv (the previous reader), in one process. */
export async function benchCsv(): Promise<void> {
  const dir = path.join(PROJECT_ROOT, '.bench', 'csv');
  mkdirSync(dir, { recursive: true });
  const jsonl = path.join(dir, 'short.jsonl');
  const csv = path.join(dir, 'short.csv');
  await writeShortTextCorpus(jsonl, ROWS, 7);
  const db = await DuckDBInstance.create(':memory:');
  const conn = await db.connect();
  // Every text quoted (FORCE_QUOTE), as many exporters write them, so the quoted path is measured.
  await conn.run(`COPY (SELECT id, lang, text FROM read_json(${quoteLiteral(jsonl)})) TO ${quoteLiteral(csv)} (HEADER, FORCE_QUOTE (text))`);
  conn.closeSync();
  db.closeSync();
  const mb = statSync(csv).size / 1e6;
  const w = await readWithWinnow(csv);
  const d = await readWithDuckDB(csv);
  const rows = [
    ['winnow (line reader, CsvRecords)', fmt(w.rows), fmt(w.seconds, 2), fmt(w.rows / w.seconds), fmt(mb / w.seconds, 1)],
    ['DuckDB read_csv, 1 thread (previous reader)', fmt(d.rows), fmt(d.seconds, 2), fmt(d.rows / d.seconds), fmt(mb / d.seconds, 1)],
  ];
  writeSection(
    'csv',
    `## CSV reading

${fmt(ROWS)} short texts (${fmt(mb, 0)} MB, every text quoted) read into batches by winnow's CSV reader, which
accounts for every physical line (a broken record costs one line), against DuckDB's \`read_csv\` with exact
columns (the reader winnow used before, which let one unterminated quote swallow the rest of a file), its
values fetched into JS. One process, one thread each. Ratio winnow / DuckDB: **${fmt(w.rows / w.seconds / (d.rows / d.seconds), 2)}**.

${table(['reader', 'rows', 's', 'rows/s', 'MB/s'], rows)}`,
  );
}
