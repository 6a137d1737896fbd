import { randomBytes } from 'node:crypto';
import { readdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';

/**
 * Outputs are written under a hidden temporary name in the same folder and renamed into place only
 * when complete, so a killed run never leaves a truncated file under a final name (rename within
 * one filesystem is atomic).
 */
export function tempPathFor(finalPath: string): string {
  return path.join(path.dirname(finalPath), `.${path.basename(finalPath)}.partial-${process.pid}-${randomBytes(3).toString('hex')}`);
}

export async function commit(tempPath: string, finalPath: string): Promise<void> {
  await rename(tempPath, finalPath);
}

/**
 * Puts a completed folder in place of `finalPath`. A folder cannot be renamed over a non-empty one,
 * so the old one is moved aside first and removed after; a crash in between leaves only hidden names.
 */
export async function commitDir(tempPath: string, finalPath: string, move: (from: string, to: string) => Promise<void> = rename): Promise<void> {
  const old = tempPathFor(finalPath);
  const hadOld = await move(finalPath, old).then(
    () => true,
    (e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') return false;
      throw e;
    },
  );
  await move(tempPath, finalPath);
  if (hadOld) await rm(old, { recursive: true, force: true });
}

/** Removes partial files a killed run left behind in `dir` (they never carry a final name). */
export async function removeStalePartials(dir: string): Promise<void> {
  const entries = await readdir(dir).catch(() => [] as string[]);
  await Promise.all(entries.filter((e) => /^\..+\.partial-\d+-[0-9a-f]+(\.wal)?$/.test(e)).map((e) => rm(path.join(dir, e), { recursive: true, force: true })));
}
