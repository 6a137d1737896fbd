import type { Batch } from '../core/batch.js';
import type { SourceConfig } from '../config/schema.js';
import type { InputFile } from './discover.js';
import { CsvRecords, type CsvEvent } from './csv-records.js';
import type { FileReadStats } from './jsonl.js';
import { lineRecords } from './line-records.js';
import { BatchBuilder, type ReadContext } from './record.js';
import type { RowPredicate } from './where.js';

/** No record spans more physical lines than this (a quoted field with line breaks in it). */
export const MAX_RECORD_LINES = 1000;

/**
 * CSV and TSV, read line by line outside DuckDB like JSONL: a malformed record costs its own line
 * (see CsvRecords), never the rest of the file, and `row` is the physical line a record starts on
 * (the header is line 1), so (file, row) is unique and points at the line in an editor. Every field
 * is text; an empty unquoted field is null.
 */
export async function* readCsv(file: InputFile, src: SourceConfig, ctx: ReadContext, where: RowPredicate | null, stats: FileReadStats): AsyncGenerator<Batch> {
  const b = new BatchBuilder(ctx, src, file, where);
  const header = src.csv?.header ?? true;
  const csv = new CsvRecords({
    delimiter: src.csv?.delimiter ?? (file.format === 'tsv' ? '\t' : ','),
    quote: src.csv?.quote ?? (file.format === 'tsv' ? '' : '"'),
    maxLines: MAX_RECORD_LINES,
    maxBytes: ctx.maxRowBytes,
  });
  const head: { names: string[] | null } = { names: null };
  const events: CsvEvent[] = [];
  const drain = (): void => {
    for (const e of events) {
      if (e.kind === 'malformed') b.malformed(e.lineNo, 'malformed_row', e.detail, e.raw);
      else if (head.names === null && header) head.names = columnNames(e.fields);
      else {
        head.names ??= e.fields.map((_, i) => `column${i}`);
        const obj: Record<string, string | null> = {};
        head.names.forEach((n, i) => (obj[n] = e.fields[i] ?? null));
        b.record(
          e.lineNo,
          (c) => obj[c],
          () => e.raw,
          obj,
        );
      }
    }
    events.length = 0;
  };
  const onLine = (lineNo: number, text: string): void => {
    csv.push({ lineNo, text }, events);
    drain();
  };
  yield* lineRecords(file, ctx, b, stats, onLine, {
    blankIsData: () => csv.open,
    interrupt: () => {
      csv.end(events);
      drain();
    },
  });
  const names = head.names;
  if (names === null && header) ctx.warn(`source "${src.name}", ${file.rel}: no header line (the file is empty)`);
  else if (names !== null && !names.includes(src.columns.text)) {
    ctx.warn(`source "${src.name}", ${file.rel}: no column "${src.columns.text}" (columns: ${names.join(', ')}); every row is rejected as missing_text. Set sources[].columns.text.`);
  }
}

/** Header fields as column names: blank names become "column", repeated names get _1, _2... */
function columnNames(fields: (string | null)[]): string[] {
  const seen = new Map<string, number>();
  return fields.map((f) => {
    const name = f === null || f.trim() === '' ? 'column' : f;
    const n = seen.get(name) ?? 0;
    seen.set(name, n + 1);
    return n === 0 ? name : `${name}_${n}`;
  });
}
