import type { Batch } from '../core/batch.js';
import type { SourceConfig } from '../config/schema.js';
import type { InputFile } from './discover.js';
import { lineRecords } from './line-records.js';
import { BatchBuilder, type ReadContext } from './record.js';
import type { RowPredicate } from './where.js';

export interface FileReadStats {
  blankLines: number;
}

/**
 * JSON Lines (plain or gzip). Read line by line outside DuckDB on purpose: DuckDB's JSON reader
 * either fails the whole file on one bad line or drops bad lines silently (ignore_errors), and
 * winnow must account for every line with its number. Blank lines are not records; they are
 * counted per file in the manifest.
 */
export async function* readJsonl(file: InputFile, src: SourceConfig, ctx: ReadContext, where: RowPredicate | null, stats: FileReadStats): AsyncGenerator<Batch> {
  const b = new BatchBuilder(ctx, src, file, where);
  yield* lineRecords(file, ctx, b, stats, (lineNo, text) => parseLine(b, lineNo, text));
}

function parseLine(b: BatchBuilder, lineNo: number, text: string): void {
  let obj: unknown;
  try {
    obj = JSON.parse(text);
  } catch (err) {
    b.malformed(lineNo, 'invalid_json', (err as Error).message, text);
    return;
  }
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) {
    b.malformed(lineNo, 'invalid_json', `expected a JSON object, got ${Array.isArray(obj) ? 'an array' : obj === null ? 'null' : typeof obj}`, text);
    return;
  }
  const o = obj as Record<string, unknown>;
  b.record(
    lineNo,
    (c) => o[c],
    () => text,
    o,
  );
}
