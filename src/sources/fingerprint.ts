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

/**
 * Like `fingerprint`, but trusts a known content hash when size and modification time are unchanged
 * (as make and rsync do), so a nightly run over a large lake reads only new or touched files.
 */
export async function fingerprintReusing(file: string, known: Pick<FileFingerprint, 'size' | 'mtime' | 'sha256'> | undefined): Promise<FileFingerprint> {
  if (known) {
    const st = await stat(file);
    if (st.size === known.size && st.mtime.toISOString() === known.mtime) return { path: file, size: st.size, mtime: known.mtime, sha256: known.sha256 };
  }
  return fingerprint(file);
}
