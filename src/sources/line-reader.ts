import { createReadStream } from 'node:fs';
import { isUtf8 } from 'node:buffer';
import { GzipError, gunzipFile } from './gunzip.js';

/** One physical line of a file, decoded, or the reason it could not be. */
export type Line = { lineNo: number; text: string } | { lineNo: number; error: 'invalid_utf8' | 'oversized_row'; preview: string; bytes: number };

export interface LineReaderOptions {
  gzip: boolean;
  maxBytes: number;
  /** How much of a bad line to keep for the quarantine table. */
  previewChars: number;
  /** Told the size of each piece of the file read (compressed bytes for gzip): progress by bytes. */
  onBytes?: (n: number) => void;
}

/** Thrown (after all complete lines were yielded) when a compressed file breaks off or fails its check. */
export class TruncatedFileError extends Error {
  readonly corrupt: boolean;
  constructor(
    readonly lineNo: number,
    cause: unknown,
  ) {
    const corrupt = cause instanceof GzipError && cause.kind === 'corrupt';
    super(`${corrupt ? 'file damaged' : 'file ended early'} after line ${lineNo - 1}: ${(cause as Error).message ?? String(cause)}`);
    this.corrupt = corrupt;
  }
}

const strict = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const lenient = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });

/**
 * Streams a (possibly gzipped) file as lines, yielding arrays of lines per read chunk. Memory is
 * bounded by the chunk size plus `maxBytes` (an oversized line is skipped, not buffered), and every
 * line keeps its 1-based number so a bad row can be reported where it is. CRLF and a leading BOM are
 * accepted; invalid UTF-8 is reported per line, never repaired silently.
 */
export async function* readLines(file: string, opts: LineReaderOptions): AsyncGenerator<Line[]> {
  const stream: AsyncIterable<Buffer> = opts.gzip ? gunzipFile(file, opts.onBytes) : countBytes(createReadStream(file, { highWaterMark: 1 << 20 }), opts.onBytes);
  let lineNo = 1;
  let pending: Buffer[] = [];
  let pendingLen = 0;
  let oversized = false;

  const decodeOne = (buf: Buffer, bytes: number): Line => {
    const no = lineNo++;
    let end = buf.length;
    if (end > 0 && buf[end - 1] === 13) end--;
    const body = buf.subarray(no === 1 && hasBom(buf) ? 3 : 0, end);
    if (oversized || bytes > opts.maxBytes) {
      return { lineNo: no, error: 'oversized_row', preview: lenient.decode(body.subarray(0, opts.previewChars * 4)).slice(0, opts.previewChars), bytes };
    }
    try {
      return { lineNo: no, text: strict.decode(body) };
    } catch {
      return { lineNo: no, error: 'invalid_utf8', preview: lenient.decode(body).slice(0, opts.previewChars), bytes };
    }
  };

  const takePending = (tail: Buffer): Line => {
    const bytes = pendingLen + tail.length;
    const buf = pending.length === 0 ? tail : Buffer.concat([...pending, tail]);
    const line = decodeOne(buf, bytes);
    pending = [];
    pendingLen = 0;
    oversized = false;
    return line;
  };

  try {
    for await (const chunk of stream) {
      const out: Line[] = [];
      let start = 0;
      const nl = chunk.indexOf(10, start);
      if (nl < 0) {
        keep(chunk);
        continue;
      }
      if (pendingLen > 0 || oversized) {
        out.push(takePending(chunk.subarray(0, nl)));
        start = nl + 1;
      }
      const last = chunk.lastIndexOf(10);
      if (last >= start) {
        // Fast path: decode every complete line of the chunk in one call; fall back per line on bad bytes.
        const block = chunk.subarray(start, last);
        const first = lineNo;
        // isUtf8 + toString is a native check and decode, several times cheaper than a fatal TextDecoder.
        const text = !(first === 1 && hasBom(block)) && isUtf8(block) ? block.toString('utf8') : null;
        if (text !== null) {
          const parts = text.split('\n');
          for (const p of parts) {
            const t = p.endsWith('\r') ? p.slice(0, -1) : p;
            // A line longer than maxBytes/3 UTF-16 units may exceed maxBytes in UTF-8: measure it.
            if (t.length * 3 > opts.maxBytes && Buffer.byteLength(t) > opts.maxBytes) {
              out.push({ lineNo: lineNo++, error: 'oversized_row', preview: t.slice(0, opts.previewChars), bytes: Buffer.byteLength(t) });
            } else out.push({ lineNo: lineNo++, text: t });
          }
        } else {
          let s = start;
          while (s <= last) {
            const e = chunk.indexOf(10, s);
            out.push(decodeOne(chunk.subarray(s, e), e - s));
            s = e + 1;
          }
        }
        start = last + 1;
      }
      if (start < chunk.length) keep(chunk.subarray(start));
      if (out.length > 0) yield out;
    }
  } catch (err) {
    throw new TruncatedFileError(lineNo, err);
  }
  if (pendingLen > 0 || oversized) yield [takePending(Buffer.alloc(0))];

  function keep(part: Buffer): void {
    if (oversized) {
      pendingLen += part.length;
      return;
    }
    if (pendingLen + part.length > opts.maxBytes) {
      // Keep only a preview; the rest of this line is counted, not held.
      const headroom = Math.max(0, opts.previewChars * 4 - pendingLen);
      if (headroom > 0) pending.push(Buffer.from(part.subarray(0, headroom)));
      pendingLen += part.length;
      oversized = true;
      return;
    }
    pending.push(Buffer.from(part));
    pendingLen += part.length;
  }
}

async function* countBytes(stream: AsyncIterable<Buffer>, onBytes?: (n: number) => void): AsyncGenerator<Buffer> {
  for await (const chunk of stream) {
    onBytes?.(chunk.length);
    yield chunk;
  }
}

function hasBom(b: Buffer): boolean {
  return b.length >= 3 && b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf;
}
