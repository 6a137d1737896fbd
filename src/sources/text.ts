import { readFile } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
import type { Batch } from '../core/batch.js';
import type { SourceConfig } from '../config/schema.js';
import type { InputFile } from './discover.js';
import type { FileReadStats } from './jsonl.js';
import { lineRecords } from './line-records.js';
import { BatchBuilder, type ReadContext } from './record.js';
import type { RowPredicate } from './where.js';

/** Plain text: one document per non-blank line (`text_unit: line`) or one per file (`text_unit: file`). */
export async function* readText(file: InputFile, src: SourceConfig, ctx: ReadContext, where: RowPredicate | null, stats: FileReadStats): AsyncGenerator<Batch> {
  const b = new BatchBuilder(ctx, src, file, where);
  // Plain text has one column, the text itself, exposed under the configured name for `where`.
  const textCol = src.columns.text;
  const add = (row: number, text: string): void => {
    b.record(
      row,
      (c) => (c === textCol ? text : undefined),
      () => text,
      { [textCol]: text },
    );
  };
  if (src.text_unit === 'file') {
    await readWholeFile(file, ctx, b, add);
    yield await b.flush();
    return;
  }
  yield* lineRecords(file, ctx, b, stats, add);
}

async function readWholeFile(file: InputFile, ctx: ReadContext, b: BatchBuilder, add: (row: number, text: string) => void): Promise<void> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file.abs);
    if (file.gzip) bytes = gunzipSync(bytes, { maxOutputLength: ctx.maxRowBytes + 1 });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ERR_BUFFER_TOO_LARGE') b.malformed(1, 'oversized_row', `decompresses past ${ctx.maxRowBytes} bytes`, '');
    else b.malformed(1, 'truncated_file', e.message, '');
    return;
  }
  if (bytes.length > ctx.maxRowBytes) {
    b.malformed(1, 'oversized_row', `${bytes.length} bytes > ${ctx.maxRowBytes}`, bytes.subarray(0, ctx.previewChars * 4).toString('utf8'));
    return;
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    b.malformed(1, 'invalid_utf8', null, bytes.toString('utf8'));
    return;
  }
  add(1, text.replace(/\r\n/g, '\n'));
}
