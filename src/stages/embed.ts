import { ALIVE } from '../core/reasons.js';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { xxh64 } from '@node-rs/xxhash';
import { BIGINT, UBIGINT, type DuckDBConnection } from '@duckdb/node-api';
import type { EmbedConfig } from '../config/schema.js';
import { embeddingCacheDir } from '../embed/cache-dir.js';
import { pruneCache, touchCacheFile } from '../embed/cache-prune.js';
import { formatSize, parseSize } from '../core/memory.js';
import type { Encoder } from '../embed/encoder.js';
import { toHalfArray } from '../embed/float16.js';
import { openEncoder } from '../embed/open-encoder.js';
import { arrayType, setArrayColumn } from '../embed/vector-chunk.js';
import { appendChunks, appendColumns, CHUNK_ROWS } from '../store/append.js';
import { quoteLiteral } from '../store/sql.js';
import { mapConcurrent } from './concurrency.js';
import type { BarrierContext, BarrierResult, BarrierStage } from './barrier.js';

/** Cache key of a text: its xxh64 (the text is already normalized by then). */
export function textKey(text: string): bigint {
  return xxh64(text);
}

/**
 * Embeds every row still alive. Identical texts are embedded once; texts whose vector is in the
 * embedding cache for this model are not embedded at all. Texts are sorted by length inside a
 * window so each batch pads little, and at most `in_flight` batches run at once.
 *
 * Tables written: embed_keys (uid, key), embedding_vectors (key, embedding), the view embeddings
 * (uid, embedding), and embedding_model (one row describing the encoder).
 */
export const embedStage: BarrierStage = {
  name: 'embed',
  enabled: (p) => p.stages.embed.enabled,
  perShard: true,
  writes: ['embedding_model', 'embedding_vectors', 'embed_keys', 'embeddings'],
  run: runEmbed,
};

async function runEmbed(ctx: BarrierContext): Promise<BarrierResult> {
  const t0 = performance.now();
  const cfg = ctx.config.stages.embed;
  const { store } = ctx;
  const c = store.conn;
  const alive = Number((await c.runAndReadAll(`SELECT count(*) FROM samples WHERE ${ALIVE}`)).getRows()[0]![0]);
  const counters = { stage: 'embed', in: alive, out: 0, rejected: {}, seconds: 0 };
  if (alive === 0) return { counters, manifest: { skipped: 'no rows left to embed' } };

  await writeKeys(ctx);
  const fitStart = performance.now();
  const encoder = await openEncoder(cfg, {
    baseDir: ctx.baseDir,
    seed: ctx.config.seed,
    sample: () => fitSample(ctx, alive, cfg.builtin.fit_sample),
    saveDir: ctx.artifactDir,
    notice: ctx.log.info,
  });
  const fitSeconds = (performance.now() - fitStart) / 1000;
  try {
    const vec = `${cfg.dtype === 'float32' ? 'FLOAT' : 'USMALLINT'}[${encoder.dim}]`;
    await c.run(`CREATE TABLE embedding_vectors (key UBIGINT, embedding ${vec})`);
    const cacheFile = await attachCache(ctx, cfg, encoder, vec);
    let cached = 0;
    if (cacheFile) {
      await c.run(`INSERT INTO embedding_vectors SELECT key, embedding FROM wcache.vectors WHERE key IN (SELECT key FROM embed_keys)`);
      cached = Number((await c.runAndReadAll('SELECT count(*) FROM embedding_vectors')).getRows()[0]![0]);
    }
    const encodeStart = performance.now();
    const encoded = await encodeMissing(ctx, cfg, encoder);
    const encodeSeconds = (performance.now() - encodeStart) / 1000;
    if (cacheFile) {
      await c.run(`INSERT INTO wcache.vectors SELECT key, embedding FROM embedding_vectors WHERE key NOT IN (SELECT key FROM wcache.vectors)`);
      await c.run('DETACH wcache');
      await touchCacheFile(cacheFile);
      const removed = await pruneCache(path.dirname(cacheFile), parseSize(cfg.cache_limit, 'stages.embed.cache_limit'), cacheFile);
      if (removed.length > 0)
        ctx.log.info(
          `embedding cache over stages.embed.cache_limit (${cfg.cache_limit}): removed ${removed.length} least recently used file(s), ${formatSize(removed.reduce((a, e) => a + e.bytes, 0))}`,
        );
    }
    await c.run(`CREATE VIEW embeddings AS SELECT k.uid, v.embedding FROM embed_keys k JOIN embedding_vectors v USING (key)`);
    await c.run('CREATE TABLE embedding_model (kind VARCHAR, fingerprint VARCHAR, dim INTEGER, dtype VARCHAR, description VARCHAR, provider VARCHAR)');
    await c.run('INSERT INTO embedding_model VALUES ($1, $2, $3, $4, $5, $6)', [encoder.kind, encoder.fingerprint, encoder.dim, cfg.dtype, encoder.description, encoder.provider]);
    const [[n]] = (await c.runAndReadAll('SELECT count(*) FROM embeddings')).getRows() as [[bigint]];
    counters.out = Number(n);
    counters.seconds = (performance.now() - t0) / 1000;
    return {
      counters,
      manifest: {
        model: encoder.description,
        kind: encoder.kind,
        fingerprint: encoder.fingerprint,
        provider: encoder.provider,
        dim: encoder.dim,
        dtype: cfg.dtype,
        texts: alive,
        distinct_texts: cached + encoded,
        from_cache: cached,
        encoded,
        cache: cacheFile,
        fit_seconds: fitSeconds,
        encode_seconds: encodeSeconds,
        texts_per_second: encoded / Math.max(encodeSeconds, 1e-9),
      },
    };
  } finally {
    await encoder.close();
  }
}

/** Hashes every alive text into embed_keys (uid, key), streaming through the store. */
async function writeKeys(ctx: BarrierContext): Promise<void> {
  const c = ctx.store.conn;
  await c.run('CREATE TABLE embed_keys (uid BIGINT, key UBIGINT)');
  const reader = await ctx.store.instance.connect();
  try {
    const result = await reader.stream(`SELECT uid, text FROM samples WHERE ${ALIVE}`);
    const app = await c.createAppender('embed_keys');
    for (;;) {
      const chunk = await result.fetchChunk();
      if (chunk === null || chunk.rowCount === 0) break;
      const uids = chunk.getColumnValues(0) as bigint[];
      const texts = chunk.getColumnValues(1) as string[];
      appendColumns(app, [BIGINT, UBIGINT], [uids, texts.map(textKey)]);
    }
    app.closeSync();
  } finally {
    reader.closeSync();
  }
}

/**
 * An even stride through the `n` alive rows in ingest order: deterministic and spread over all sources.
 * Only uids go through the window (a window over the texts held every text in memory: 1.7 GB at 4M rows).
 */
async function fitSample(ctx: BarrierContext, n: number, size: number): Promise<string[]> {
  const r = await ctx.store.conn.runAndReadAll(
    `WITH a AS (SELECT uid, row_number() OVER (ORDER BY uid) - 1 AS i FROM samples WHERE ${ALIVE})
     SELECT s.text FROM a JOIN samples s USING (uid) WHERE a.i % greatest(1, ceil(${n} / ${size}))::BIGINT = 0 ORDER BY a.i LIMIT ${size}`,
  );
  return r.getRows().map((row) => String(row[0]));
}

async function attachCache(ctx: BarrierContext, cfg: EmbedConfig, encoder: Encoder, vec: string): Promise<string | null> {
  const dir = embeddingCacheDir(cfg.cache, ctx.baseDir);
  if (dir === null) return null;
  const file = path.join(dir, `embeddings-${encoder.fingerprint}-${cfg.dtype}.duckdb`);
  try {
    await mkdir(dir, { recursive: true });
    await ctx.store.conn.run(`ATTACH ${quoteLiteral(file)} AS wcache`);
    await ctx.store.conn.run(`CREATE TABLE IF NOT EXISTS wcache.vectors (key UBIGINT, embedding ${vec})`);
    return file;
  } catch (err) {
    // A cache another run holds open, or a read-only folder, costs speed, never the run.
    ctx.log.warn(`embedding cache ${file} unavailable (${(err as Error).message.split('\n')[0]}); embedding without it`);
    await ctx.store.conn.run('DETACH DATABASE IF EXISTS wcache').catch(() => undefined);
    return null;
  }
}

/** Rows read at once while embedding: their texts are all DuckDB sorts at a time. */
const READ_ROWS = 65_536;

/**
 * The `total` texts to embed (embed_todo's keys with their first row's text) in order, READ_ROWS at
 * a time in chunks of CHUNK_ROWS (what DuckDB's stream gave before). One query over every text
 * (group, then sort by first uid) held all of them in DuckDB: 2.5 GB at 4M rows, over its cap. A
 * window's rows are a contiguous uid range, so DuckDB reads only that range of samples.
 */
async function* textsToEmbed(reader: DuckDBConnection, total: number): AsyncGenerator<[bigint, string][]> {
  for (let a = 0; a < total; a += READ_ROWS) {
    const b = a + READ_ROWS;
    const [[lo, hi]] = (await reader.runAndReadAll(`SELECT min(uid), max(uid) FROM embed_todo WHERE i >= ${a} AND i < ${b}`)).getRows() as [[bigint, bigint]];
    const r = await reader.runAndReadAll(`SELECT t.key, s.text FROM embed_todo t JOIN samples s USING (uid) WHERE t.i >= ${a} AND t.i < ${b} AND s.uid BETWEEN ${lo} AND ${hi} ORDER BY t.i`);
    const rows = r.getRows() as [bigint, string][];
    for (let k = 0; k < rows.length; k += CHUNK_ROWS) yield rows.slice(k, k + CHUNK_ROWS);
  }
}

/** Embeds the distinct texts not found in the cache, in length-sorted batches, appending as they finish. */
async function encodeMissing(ctx: BarrierContext, cfg: EmbedConfig, encoder: Encoder): Promise<number> {
  const c = ctx.store.conn;
  const reader = await ctx.store.instance.connect();
  const app = await c.createAppender('embedding_vectors');
  const types = [UBIGINT, arrayType(cfg.dtype, encoder.dim)];
  let encoded = 0;
  let total = 0;
  const append = (keys: bigint[], vectors: Float32Array): void => {
    const d = encoder.dim;
    appendChunks(app, types, keys.length, (chunk, off, n) => {
      chunk.setColumnValues(0, keys.slice(off, off + n));
      const part = vectors.subarray(off * d, (off + n) * d);
      setArrayColumn(chunk, 1, cfg.dtype === 'float32' ? part : toHalfArray(part));
    });
    encoded += keys.length;
    ctx.log.progress('embed', encoded, { done: encoded, total, unit: 'rows' });
  };
  try {
    // Each distinct text missing from the cache once, by its first row (uid order), numbered in that order.
    await reader.run(`CREATE TEMP TABLE embed_todo AS
      SELECT key, uid, row_number() OVER (ORDER BY uid) - 1 AS i
      FROM (SELECT key, min(uid) AS uid FROM embed_keys WHERE key NOT IN (SELECT key FROM embedding_vectors) GROUP BY key) ORDER BY i`);
    total = Number((await reader.runAndReadAll('SELECT count(*) FROM embed_todo')).getRows()[0]![0]);
    const windowSize = cfg.batch_size * 16;
    let keys: bigint[] = [];
    let texts: string[] = [];
    const flushWindow = async (): Promise<void> => {
      if (keys.length === 0) return;
      const lengths = encoder.lengths(texts);
      const order = Array.from(keys.keys()).sort((a, b) => lengths[a]! - lengths[b]! || a - b);
      const batches: number[][] = [];
      for (let i = 0; i < order.length; i += cfg.batch_size) batches.push(order.slice(i, i + cfg.batch_size));
      const wk = keys;
      const wt = texts;
      for await (const { batch, vectors } of mapConcurrent(
        (async function* () {
          yield* batches;
        })(),
        async (batch: number[]) => ({ batch, vectors: await encoder.encode(batch.map((i) => wt[i]!)) }),
        cfg.in_flight,
      )) {
        append(
          batch.map((i) => wk[i]!),
          vectors,
        );
      }
      keys = [];
      texts = [];
    };
    for await (const rows of textsToEmbed(reader, total)) {
      for (const [k, t] of rows) {
        keys.push(k);
        texts.push(t);
      }
      if (keys.length >= windowSize) await flushWindow();
    }
    await flushWindow();
    ctx.log.endProgress();
  } finally {
    app.closeSync();
    reader.closeSync();
  }
  return encoded;
}
