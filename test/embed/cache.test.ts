import { existsSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cacheEntries, pruneCache } from '../../src/embed/cache-prune.js';
import { runYaml } from '../backbone/run-helpers.js';
import { fixture, runCli, tempDir, writeJsonl } from '../helpers.js';

describe('embedding cache: capped, least recently used first', () => {
  it('pruning removes the least recently used files (with their WAL) until the cache fits, never the one in use', async () => {
    const dir = tempDir();
    const file = (name: string, bytes: number, daysAgo: number): string => {
      const f = path.join(dir, `embeddings-${name}-float32.duckdb`);
      writeFileSync(f, Buffer.alloc(bytes));
      const t = new Date(Date.now() - daysAgo * 86_400_000);
      utimesSync(f, t, t);
      return f;
    };
    file('a', 4000, 4);
    writeFileSync(path.join(dir, 'embeddings-a-float32.duckdb.wal'), Buffer.alloc(1000));
    file('b', 3000, 3);
    const c = file('c', 9000, 2);
    file('d', 2000, 1);
    writeFileSync(path.join(dir, 'notes.txt'), 'not a cache file');
    expect((await cacheEntries(dir)).map((e) => path.basename(e.file))).toEqual([
      'embeddings-d-float32.duckdb',
      'embeddings-c-float32.duckdb',
      'embeddings-b-float32.duckdb',
      'embeddings-a-float32.duckdb',
    ]);
    // 19,000 bytes against a 12,000 cap: a (5,000 with its WAL) and b go; c is kept though older than d.
    const removed = await pruneCache(dir, 12_000, c);
    expect(removed.map((e) => path.basename(e.file))).toEqual(['embeddings-a-float32.duckdb', 'embeddings-b-float32.duckdb']);
    expect(readdirSync(dir).sort()).toEqual(['embeddings-c-float32.duckdb', 'embeddings-d-float32.duckdb', 'notes.txt']);
    // The file in use stays even when it alone is over the cap.
    await pruneCache(dir, 1000, c);
    expect(readdirSync(dir).sort()).toEqual(['embeddings-c-float32.duckdb', 'notes.txt']);
  });

  it('a run prunes the cache to stages.embed.cache_limit; winnow cache lists it and winnow cache clear empties it', async () => {
    const dir = tempDir();
    const cache = path.join(dir, 'cache');
    writeJsonl(
      path.join(dir, 'in.jsonl'),
      fixture('sib200/hau_Latn')
        .slice(0, 60)
        .map((r) => ({ id: r.id, text: r.text })),
    );
    const yaml = (dim: number): string => `sources: [{ name: s, path: in.jsonl }]\nstages:\n  embed: { cache: cache, cache_limit: 1KB, builtin: { dim: ${dim} } }\n`;
    await runYaml(dir, yaml(32));
    const first = readdirSync(cache).filter((f) => f.endsWith('.duckdb'));
    expect(first).toHaveLength(1);
    await runYaml(dir, yaml(48));
    const second = readdirSync(cache).filter((f) => f.endsWith('.duckdb'));
    // Another encoder, another file; the first encoder's file was the least recently used.
    expect(second).toHaveLength(1);
    expect(second[0]).not.toBe(first[0]);
    const list = await runCli(['cache', '--dir', cache]);
    expect(list.code).toBe(0);
    expect(list.stdout).toContain(`embedding cache ${cache}: 1 file(s)`);
    expect(list.stdout).toContain(second[0]);
    const clear = await runCli(['cache', 'clear', '--dir', cache]);
    expect(clear.stdout).toMatch(/^removed 1 file\(s\)/);
    expect(existsSync(path.join(cache, second[0]!))).toBe(false);
  });
});
