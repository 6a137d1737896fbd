import { InputError } from '../core/errors.js';
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

/**
 * Fails when a file is not what was fingerprinted before it was read (a writer appended to it,
 * truncated or replaced it meanwhile): its rows may be partial, and recording them under the old
 * fingerprint would make an incremental job skip the file's real content for good.
 */
export async function assertUnchanged(fp: FileFingerprint): Promise<void> {
  const st = await stat(fp.path).catch(() => null);
  if (st === null || st.size !== fp.size || st.mtime.toISOString() !== fp.mtime) {
    const now = st === null ? 'it is gone' : `size ${fp.size} -> ${st.size} bytes, modified ${fp.mtime} -> ${st.mtime.toISOString()}`;
    throw new InputError(`${fp.path} changed while it was being read (${now}), so its rows may be partial; run again once nothing is writing to it`);
  }
}
