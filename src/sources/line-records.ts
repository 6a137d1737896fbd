import type { Batch } from '../core/batch.js';
import type { InputFile } from './discover.js';
import type { FileReadStats } from './jsonl.js';
import { readLines, TruncatedFileError } from './line-reader.js';
import type { BatchBuilder, ReadContext } from './record.js';

/**
 * The line loop shared by line-based formats: undecodable and oversized lines become malformed
 * rows, blank lines are counted (not records), a broken-off compressed file leaves one
 * truncated_file row, and every other line goes to `onLine`. Yields full batches.
 */
export async function* lineRecords(file: InputFile, ctx: ReadContext, b: BatchBuilder, stats: FileReadStats, onLine: (lineNo: number, text: string) => void): AsyncGenerator<Batch> {
  try {
    for await (const lines of readLines(file.abs, { gzip: file.gzip, maxBytes: ctx.maxRowBytes, previewChars: ctx.previewChars })) {
      for (const line of lines) {
        if ('error' in line) {
          b.malformed(line.lineNo, line.error, line.error === 'oversized_row' ? `${line.bytes} bytes > ${ctx.maxRowBytes}` : null, line.preview);
        } else if (line.text.trim() === '') {
          stats.blankLines++;
          continue;
        } else onLine(line.lineNo, line.text);
        if (b.full) yield await b.flush();
      }
    }
  } catch (err) {
    if (!(err instanceof TruncatedFileError)) throw err;
    b.malformed(err.lineNo, 'truncated_file', err.message, '');
  }
  if (b.size > 0) yield await b.flush();
}
