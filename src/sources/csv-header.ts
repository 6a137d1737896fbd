import { createReadStream } from 'node:fs';
import { createGunzip } from 'node:zlib';
import { InputError } from '../core/errors.js';

/**
 * The column names of a CSV/TSV file, from its first line. DuckDB's dialect sniffer gives up on a
 * whole file when one row is broken, so winnow reads the header itself and tells DuckDB the exact
 * columns; broken rows then go to the rejects table instead of failing the file.
 */
export async function readCsvHeader(file: string, gzip: boolean, delim: string, quote: string, header: boolean): Promise<string[]> {
  const first = await readFirstLine(file, gzip);
  const fields = splitCsvLine(first.replace(/^\uFEFF/, '').replace(/\r$/, ''), delim, quote);
  if (!header) return fields.map((_, i) => `column${i}`);
  const seen = new Map<string, number>();
  return fields.map((f) => {
    const name = f.trim() === '' ? 'column' : f;
    const n = seen.get(name) ?? 0;
    seen.set(name, n + 1);
    return n === 0 ? name : `${name}_${n}`;
  });
}

async function readFirstLine(file: string, gzip: boolean): Promise<string> {
  const raw = createReadStream(file, { highWaterMark: 64 * 1024 });
  const stream = gzip ? raw.pipe(createGunzip()) : raw;
  const parts: Buffer[] = [];
  let total = 0;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      const nl = chunk.indexOf(10);
      parts.push(nl >= 0 ? chunk.subarray(0, nl) : chunk);
      total += chunk.length;
      if (nl >= 0 || total > 1 << 20) break;
    }
  } catch (err) {
    throw new InputError(`${file}: cannot read the header line (${(err as Error).message})`);
  } finally {
    raw.destroy();
  }
  return Buffer.concat(parts).toString('utf8');
}

export function splitCsvLine(line: string, delim: string, quote: string): string[] {
  const out: string[] = [];
  let cur = '';
  let inQuote = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quote !== '' && c === quote) {
      if (inQuote && line[i + 1] === quote) {
        cur += quote;
        i++;
      } else inQuote = !inQuote;
    } else if (!inQuote && line.startsWith(delim, i)) {
      out.push(cur);
      cur = '';
      i += delim.length - 1;
    } else cur += c;
  }
  out.push(cur);
  return out;
}
