import type { Batch } from '../core/batch.js';
import type { InputFile } from './discover.js';
import type { FileReadStats } from './jsonl.js';
import { readLines, TruncatedFileError } from './line-reader.js';
import type { BatchBuilder, ReadContext } from './record.js';

/** A format whose records span lines (CSV) says when a blank line is data, and ends an open record. */
export interface MultiLineRecords {
  /** Whether a blank line now is part of a record rather than a blank line. */
  blankIsData(): boolean;
  /** Called before an undecodable line and at the end of the input: no record continues past it. */
  interrupt(): void;
}

/**
 * The line loop shared by line-based formats: undecodable and oversized lines become malformed
 * rows, blank lines are counted (not records), a broken-off compressed file leaves one
 * truncated_file row, and every other line goes to `onLine`. Yields full batches.
 */
export async function* lineRecords(
  file: InputFile,
  ctx: ReadContext,
  b: BatchBuilder,
  stats: FileReadStats,
  onLine: (lineNo: number, text: string) => void,
  multi?: MultiLineRecords,
): AsyncGenerator<Batch> {
  try {
    for await (const lines of readLines(file.abs, { gzip: file.gzip, maxBytes: ctx.maxRowBytes, previewChars: ctx.previewChars, onBytes: (n) => (ctx.bytesRead += n) })) {
      for (const line of lines) {
        if ('error' in line) {
          multi?.interrupt();
          b.malformed(line.lineNo, line.error, line.error === 'oversized_row' ? `${line.bytes} bytes > ${ctx.maxRowBytes}` : null, line.preview);
        } else if (line.text.trim() === '' && !multi?.blankIsData()) {
          stats.blankLines++;
          continue;
        } else onLine(line.lineNo, line.text);
        if (b.full) yield await b.flush();
      }
    }
  } catch (err) {
    if (!(err instanceof TruncatedFileError)) throw err;
    multi?.interrupt();
    b.malformed(err.lineNo, err.corrupt ? 'corrupt_file' : 'truncated_file', err.message, '');
  }
  multi?.interrupt();
  if (b.size > 0) yield await b.flush();
}
