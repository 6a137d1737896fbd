import { createReadStream } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { constants, crc32, createInflateRaw } from 'node:zlib';

/** Why a gzip file could not be read to its end. */
export class GzipError extends Error {
  constructor(
    readonly kind: 'truncated' | 'corrupt',
    message: string,
  ) {
    super(message);
  }
}

/**
 * A gzip file's decompressed bytes, member after member. Node's gunzip stream discards the output
 * of the write that fails, so a bad checksum or a few bytes of trailing garbage cost every row of
 * a small file; here each member is inflated raw, its data handed out as it comes, and the trailer
 * (CRC-32 and length) and what follows are checked afterwards: the error comes after the data.
 * A 0-byte file holds no data and yields nothing.
 */
export async function* gunzipFile(file: string, onBytes?: (n: number) => void): AsyncGenerator<Buffer> {
  const fh = await open(file, 'r');
  try {
    const size = (await fh.stat()).size;
    let pos = 0;
    for (let member = 0; pos < size; member++) {
      const head = await readAt(fh, pos, Math.min(size - pos, 64 * 1024));
      if (member > 0 && !(head[0] === 0x1f && head[1] === 0x8b)) throw new GzipError('corrupt', `${size - pos} byte(s) after the end of the gzip data (at byte ${pos}) are not gzip`);
      const start = pos + headerLength(head, size - pos);
      const inflate = createInflateRaw({ finishFlush: constants.Z_SYNC_FLUSH });
      const input = createReadStream(file, { start, highWaterMark: 1 << 20 });
      if (onBytes) input.on('data', (d) => onBytes(d.length));
      input.pipe(inflate);
      let crc = 0;
      let length = 0;
      try {
        for await (const chunk of inflate as AsyncIterable<Buffer>) {
          crc = crc32(chunk, crc);
          length += chunk.length;
          yield chunk;
        }
      } catch (err) {
        throw new GzipError('corrupt', `the compressed data is damaged at or before byte ${start + inflate.bytesWritten}: ${(err as Error).message}`);
      } finally {
        input.destroy();
      }
      const end = start + inflate.bytesWritten;
      if (end + 8 > size) throw new GzipError('truncated', `the file ends inside its compressed data (byte ${size})`);
      const trailer = await readAt(fh, end, 8);
      if (trailer.readUInt32LE(0) !== crc >>> 0 || trailer.readUInt32LE(4) !== length % 2 ** 32) throw new GzipError('corrupt', `the data fails its gzip check (CRC-32 or length) at byte ${end}`);
      pos = end + 8;
    }
  } finally {
    await fh.close();
  }
}

async function readAt(fh: FileHandle, pos: number, n: number): Promise<Buffer> {
  const buf = Buffer.alloc(n);
  const { bytesRead } = await fh.read(buf, 0, n, pos);
  return buf.subarray(0, bytesRead);
}

const FEXTRA = 4;
const FNAME = 8;
const FCOMMENT = 16;
const FHCRC = 2;

/** The length of a gzip member header (RFC 1952 section 2.3) at the start of `b`. */
function headerLength(b: Buffer, left: number): number {
  if (b.length < 10) throw new GzipError(left < 10 && b[0] === 0x1f ? 'truncated' : 'corrupt', 'not a gzip file (no complete gzip header)');
  if (b[0] !== 0x1f || b[1] !== 0x8b || b[2] !== 8) throw new GzipError('corrupt', 'not a gzip file (its first bytes are not a gzip header)');
  const flags = b[3]!;
  let p = 10;
  if (flags & FEXTRA) p += 2 + (b.length >= 12 ? b.readUInt16LE(p) : 0);
  for (const flag of [FNAME, FCOMMENT]) {
    if (!(flags & flag)) continue;
    const z = b.indexOf(0, p);
    if (z < 0) throw new GzipError('corrupt', 'a gzip header field is longer than 64 KB');
    p = z + 1;
  }
  if (flags & FHCRC) p += 2;
  return p;
}
