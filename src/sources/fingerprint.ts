import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';

export interface FileFingerprint {
  path: string;
  size: number;
  mtime: string;
  sha256: string;
}

/** Size, modification time and content hash: enough to tell a changed file from an unchanged one. */
export async function fingerprint(file: string): Promise<FileFingerprint> {
  const st = await stat(file);
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return { path: file, size: st.size, mtime: st.mtime.toISOString(), sha256: hash.digest('hex') };
}
