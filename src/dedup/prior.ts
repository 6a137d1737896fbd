import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { ConfigError } from '../core/errors.js';
import { hasTable, hasView } from '../store/catalog.js';
import { quoteLiteral } from '../store/sql.js';

/** Kept texts of earlier runs, as a dedup index: what this run must not admit again. */
export interface PriorIndex {
  ids: string[];
  keyHash: bigint[];
  texts: string[];
  /** Band hashes (count x bands), present when the earlier runs used the same MinHash settings. */
  bandHashes: Uint32Array | null;
}

export interface NearParams {
  numPerm: number;
  bands: number;
  rows: number;
  shingle: number;
  seed: number;
}

export function storeFile(run: string, baseDir: string): string {
  const p = path.resolve(baseDir, run);
  const file = existsSync(p) && statSync(p).isDirectory() ? path.join(p, 'results.duckdb') : p;
  if (!existsSync(file)) throw new ConfigError(`stages.dedup.against: ${run} has no results.duckdb (give an earlier run's output folder)`);
  return file;
}

/**
 * Reads the `dedup_index` of earlier runs (each run's index carries the ones before it forward, so
 * naming the latest run is enough). Band hashes are reused only when the MinHash settings match;
 * otherwise the texts are re-signed by the caller.
 */
export async function loadPrior(conn: DuckDBConnection, runs: readonly string[], baseDir: string, params: NearParams): Promise<PriorIndex> {
  const prior: PriorIndex = { ids: [], keyHash: [], texts: [], bandHashes: null };
  const bandParts: Uint32Array[] = [];
  let sameParams = true;
  for (const [i, run] of runs.entries()) {
    const file = storeFile(run, baseDir);
    const alias = `prior${i}`;
    await conn.run(`ATTACH ${quoteLiteral(file)} AS ${alias} (READ_ONLY)`);
    try {
      // A run store holds a table; a --state store a view (its index minus files being re-read).
      const hasIndex = (await hasTable(conn, 'dedup_index', alias)) || (await hasView(conn, 'dedup_index', alias));
      if (!hasIndex) throw new ConfigError(`stages.dedup.against: ${run} has no dedup index (was it run with dedup enabled?)`);
      const p = (await conn.runAndReadAll(`SELECT num_perm, bands, "rows", shingle, seed FROM ${alias}.dedup_params`)).getRows()[0]!.map(Number);
      sameParams &&= p[0] === params.numPerm && p[1] === params.bands && p[2] === params.rows && p[3] === params.shingle && p[4] === params.seed;
      const result = await conn.stream(`SELECT id, key_hash, text, bands FROM ${alias}.dedup_index ORDER BY ord`);
      for (;;) {
        const chunk = await result.fetchChunk();
        if (chunk === null || chunk.rowCount === 0) break;
        const [ids, hashes, texts, bands] = chunk.getColumns() as [string[], bigint[], string[], { items: number[] }[]];
        for (let r = 0; r < chunk.rowCount; r++) {
          prior.ids.push(ids[r]!);
          prior.keyHash.push(hashes[r]!);
          prior.texts.push(texts[r]!);
          if (sameParams) bandParts.push(Uint32Array.from(bands[r]!.items));
        }
      }
    } finally {
      await conn.run(`DETACH ${alias}`);
    }
  }
  if (sameParams && bandParts.length === prior.ids.length) {
    prior.bandHashes = new Uint32Array(bandParts.length * params.bands);
    bandParts.forEach((b, i) => prior.bandHashes!.set(b, i * params.bands));
  }
  return prior;
}
