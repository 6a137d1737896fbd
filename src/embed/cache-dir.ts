import os from 'node:os';
import path from 'node:path';

/** The user cache folder: $XDG_CACHE_HOME/winnow, else ~/.cache/winnow. */
export function defaultCacheDir(): string {
  return path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'winnow');
}

/** Where embeddings are cached for `cache: true | false | path` (null when caching is off). */
export function embeddingCacheDir(cache: boolean | string, baseDir: string): string | null {
  if (cache === false) return null;
  if (cache === true) return path.join(defaultCacheDir(), 'embeddings');
  return path.resolve(baseDir, cache);
}
