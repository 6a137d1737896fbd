import { readdir, rm, stat, utimes } from 'node:fs/promises';
import path from 'node:path';

/** One cache file (a DuckDB file of one encoder's vectors) with its write-ahead log. */
export interface CacheEntry {
  file: string;
  bytes: number;
  /** Last used (the file's mtime: touched on every use). */
  used: Date;
}

const CACHE_FILE = /^embeddings-.+\.duckdb$/;

/** The cache's files, most recently used first. */
export async function cacheEntries(dir: string): Promise<CacheEntry[]> {
  const names = await readdir(dir).catch(() => [] as string[]);
  const out: CacheEntry[] = [];
  for (const name of names.filter((n) => CACHE_FILE.test(n))) {
    const file = path.join(dir, name);
    const st = await stat(file).catch(() => null);
    if (!st) continue;
    const wal = await stat(`${file}.wal`).catch(() => null);
    out.push({ file, bytes: st.size + (wal?.size ?? 0), used: st.mtime });
  }
  return out.sort((a, b) => b.used.getTime() - a.used.getTime() || (a.file < b.file ? -1 : 1));
}

/** Marks a cache file used now, so least-recently-used pruning keeps it. */
export async function touchCacheFile(file: string): Promise<void> {
  const now = new Date();
  await utimes(file, now, now).catch(() => undefined);
}

/**
 * Removes least-recently-used cache files until the cache fits in `limit` bytes; `keep` (the file
 * this run just used) stays even when it alone is larger. Another run holding a removed file open
 * keeps writing into it unseen: it loses cached vectors, never results.
 */
export async function pruneCache(dir: string, limit: number, keep: string | null = null): Promise<CacheEntry[]> {
  const entries = await cacheEntries(dir);
  let total = entries.reduce((a, e) => a + e.bytes, 0);
  const removed: CacheEntry[] = [];
  for (const e of [...entries].reverse()) {
    if (total <= limit) break;
    if (e.file === keep) continue;
    await rm(e.file, { force: true });
    await rm(`${e.file}.wal`, { force: true });
    total -= e.bytes;
    removed.push(e);
  }
  return removed;
}
