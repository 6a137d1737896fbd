import { existsSync, readdirSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { validatePipeline, type LoadedPipeline } from '../config/load.js';
import { ConfigError } from '../core/errors.js';
import type { FileFingerprint } from '../sources/fingerprint.js';
import type { FileFormat, InputFile } from '../sources/discover.js';
import type { FileStats, PlannedSource } from '../sources/read.js';
import type { StageCounters } from '../stages/runner.js';
import type { RunStore } from '../store/run-store.js';
import { hasColumn, hasTable } from '../store/catalog.js';
import { quoteIdent, quoteLiteral } from '../store/sql.js';
import { readRunManifest, type RunManifest, type ShardInfo } from '../pipeline/manifest.js';

/** A shard's manifest.json: a run manifest with what the merge needs. */
export type ShardManifest = RunManifest & { shard: ShardInfo };

export interface ShardInput {
  dir: string;
  manifest: ShardManifest;
}

/** Reads and checks the shard folders: complete, from one job, each index exactly once. */
export function readShards(dirs: readonly string[]): ShardInput[] {
  if (dirs.length === 0) throw new ConfigError('winnow merge needs the shard output folders (winnow merge out/shard-* --out out/merged)');
  const shards = dirs.map((d) => {
    const dir = path.resolve(d);
    const manifest = readRunManifest(dir);
    if (!manifest) throw new ConfigError(`${dir} has no manifest.json: the shard has not completed (run it again; it resumes)`);
    if (!manifest.shard) throw new ConfigError(`${dir} is not a shard output (it was not run with --shard i/n)`);
    return { dir, manifest: { ...manifest, shard: manifest.shard } };
  });
  const first = shards[0]!.manifest.shard;
  for (const s of shards) {
    if (s.manifest.shard.config_hash !== first.config_hash) throw new ConfigError(`${s.dir} was run with another pipeline config than ${shards[0]!.dir}; all shards of a merge must share one`);
    if (s.manifest.shard.count !== first.count) throw new ConfigError(`${s.dir} is shard ${s.manifest.shard.index}/${s.manifest.shard.count}, but ${shards[0]!.dir} is one of ${first.count}`);
  }
  const seen = new Map<number, string>();
  for (const s of shards) {
    const other = seen.get(s.manifest.shard.index);
    if (other) throw new ConfigError(`${s.dir} and ${other} are both shard ${s.manifest.shard.index}/${first.count}`);
    seen.set(s.manifest.shard.index, s.dir);
  }
  const missing = Array.from({ length: first.count }, (_, i) => i).filter((i) => !seen.has(i));
  if (missing.length > 0) throw new ConfigError(`shard(s) ${missing.map((i) => `${i}/${first.count}`).join(', ')} missing: a merge needs all ${first.count} (their rows would be lost)`);
  return shards.sort((a, b) => a.manifest.shard.index - b.manifest.shard.index);
}

/** The job's pipeline, as the shards ran it (paths resolve against the original config folder). */
export function shardPipeline(shards: readonly ShardInput[]): LoadedPipeline {
  const m = shards[0]!.manifest;
  const config = validatePipeline(m.pipeline.config, `${m.pipeline.origin} (from shard manifest)`);
  return { config, baseDir: m.shard.base_dir, origin: m.pipeline.origin };
}

/** The job's input files in reading order, as every shard listed them, grouped by source. */
export function plannedFromShards(shards: readonly ShardInput[], loaded: LoadedPipeline): PlannedSource[] {
  const all = shards[0]!.manifest.shard.all_files;
  return loaded.config.sources.map((config) => ({
    config,
    files: all.filter((f) => f.source === config.name).map((f): InputFile => ({ source: f.source, abs: f.abs, rel: f.file, format: f.format as FileFormat, gzip: /\.gz$/i.test(f.abs) })),
  }));
}

export function fingerprintsFromShards(shards: readonly ShardInput[]): Map<string, FileFingerprint> {
  return new Map(shards.flatMap((s) => s.manifest.inputs.map((i) => [i.path, { path: i.path, size: i.size, mtime: i.mtime, sha256: i.sha256 }] as const)));
}

/**
 * The merge's streaming phase: the shards' rows copied into one store and renumbered in the
 * single-process reading order (source, file, row), with shard-local dedup undone (the global dedup
 * decides again from the shards' signatures), the shards' signatures and picks carried along, and
 * their embedding caches joined so the embed stage finds every vector.
 */
export async function assembleShards(
  store: RunStore,
  shards: readonly ShardInput[],
  planned: readonly PlannedSource[],
  streamingStages: readonly string[],
  extraColumns: readonly string[],
  cacheDir: string,
): Promise<{ counters: StageCounters[]; fileStats: FileStats[]; rows: number }> {
  const c = store.conn;
  const files = planned.flatMap((p) => p.files);
  await c.run(`CREATE TEMP TABLE file_order (source VARCHAR, file VARCHAR, idx INTEGER)`);
  for (const [i, f] of files.entries()) await c.run(`INSERT INTO file_order VALUES ($1, $2, $3)`, [f.source, f.rel, i]);
  const alias = (k: number): string => `shard${k}`;
  for (const [k, s] of shards.entries()) await c.run(`ATTACH ${quoteLiteral(path.join(s.dir, 'results.duckdb'))} AS ${alias(k)} (READ_ONLY)`);
  try {
    const union = shards.map((_, k) => `SELECT ${k} AS shard, uid, source::VARCHAR AS source, file::VARCHAR AS file, "row" FROM ${alias(k)}.samples`).join(' UNION ALL ');
    await c.run(`CREATE TEMP TABLE uid_map AS SELECT u.shard, u.uid AS old_uid, row_number() OVER (ORDER BY fo.idx, u."row") - 1 AS uid FROM (${union}) u JOIN file_order fo USING (source, file)`);
    const extra = extraColumns.map((n) => `, ${quoteIdent(n)}`).join('');
    const dedupReasons = `reason IN ('exact_dup', 'near_dup')`;
    const hasSignatures = await hasTable(c, 'dedup_signatures', alias(0));
    if (hasSignatures) await c.run(`CREATE TABLE dedup_signatures AS SELECT uid, key_hash, bands FROM ${alias(0)}.dedup_signatures LIMIT 0`);
    for (const k of shards.keys()) {
      await c.run(`INSERT INTO samples SELECT m.uid, id, source, file, "row", lang, label, text, text_chars, meta,
          CASE WHEN ${dedupReasons} THEN 'selected' ELSE status END,
          CASE WHEN ${dedupReasons} THEN NULL ELSE reason END,
          CASE WHEN ${dedupReasons} THEN NULL ELSE reason_detail END${extra}
        FROM ${alias(k)}.samples s JOIN uid_map m ON m.shard = ${k} AND m.old_uid = s.uid ORDER BY m.uid`);
      await c.run(`INSERT INTO quarantine SELECT m.uid, q.source, q.file, q."row", q.reason, q.detail, q.raw FROM ${alias(k)}.quarantine q JOIN uid_map m ON m.shard = ${k} AND m.old_uid = q.uid`);
      if (hasSignatures) {
        await c.run(`INSERT INTO dedup_signatures SELECT m.uid, g.key_hash, g.bands FROM ${alias(k)}.dedup_signatures g JOIN uid_map m ON m.shard = ${k} AND m.old_uid = g.uid`);
      }
    }
    await c.run(`ALTER TABLE samples ADD COLUMN shard_candidate BOOLEAN DEFAULT false`);
    for (const [k, s] of shards.entries()) {
      if (!(await hasColumn(c, 'samples', 'select_rank', alias(k)))) continue;
      const top = s.manifest.shard.candidates === null ? '' : ` AND select_rank < ${s.manifest.shard.candidates}`;
      await c.run(
        `UPDATE samples SET shard_candidate = true FROM (SELECT m.uid FROM ${alias(k)}.samples s JOIN uid_map m ON m.shard = ${k} AND m.old_uid = s.uid WHERE select_rank IS NOT NULL${top}) p WHERE samples.uid = p.uid`,
      );
    }
  } finally {
    for (const k of shards.keys()) await c.run(`DETACH ${alias(k)}`);
  }
  await joinEmbeddingCaches(store, shards, cacheDir);
  return {
    counters: sumStreamingCounters(shards, streamingStages),
    fileStats: fileStatsFromShards(shards, files),
    rows: shards.reduce((a, s) => a + s.manifest.inputs.reduce((b, i) => b + i.rows, 0), 0),
  };
}

/** One cache file per (model, dtype): the shards' vectors for it, each text once. */
async function joinEmbeddingCaches(store: RunStore, shards: readonly ShardInput[], cacheDir: string): Promise<void> {
  const byName = new Map<string, string[]>();
  for (const s of shards) {
    const dir = path.join(s.dir, 'embed-cache');
    if (!existsSync(dir)) continue;
    for (const f of readdirSync(dir).filter((f) => f.endsWith('.duckdb'))) byName.set(f, [...(byName.get(f) ?? []), path.join(dir, f)]);
  }
  if (byName.size === 0) return;
  await mkdir(cacheDir, { recursive: true });
  const c = store.conn;
  for (const [name, files] of byName) {
    await c.run(`ATTACH ${quoteLiteral(path.join(cacheDir, name))} AS joined`);
    try {
      for (const [k, f] of files.entries()) {
        await c.run(`ATTACH ${quoteLiteral(f)} AS part${k} (READ_ONLY)`);
        if (k === 0) await c.run(`CREATE TABLE IF NOT EXISTS joined.vectors AS SELECT * FROM part0.vectors LIMIT 0`);
        await c.run(`INSERT INTO joined.vectors SELECT * FROM part${k}.vectors WHERE key NOT IN (SELECT key FROM joined.vectors)`);
        await c.run(`DETACH part${k}`);
      }
    } finally {
      await c.run('DETACH joined');
    }
  }
}

/** The streaming stages' counts of the whole job: the shards' counts added stage by stage. */
function sumStreamingCounters(shards: readonly ShardInput[], names: readonly string[]): StageCounters[] {
  return names.map((stage) => {
    const total: StageCounters = { stage, in: 0, out: 0, rejected: {}, seconds: 0 };
    for (const s of shards) {
      const c = s.manifest.stages.find((x) => x.stage === stage);
      if (!c) continue;
      total.in += c.in;
      total.out += c.out;
      total.seconds += c.seconds;
      for (const [r, n] of Object.entries(c.rejected)) total.rejected[r] = (total.rejected[r] ?? 0) + n;
    }
    return total;
  });
}

function fileStatsFromShards(shards: readonly ShardInput[], files: readonly InputFile[]): FileStats[] {
  const byKey = new Map(shards.flatMap((s) => s.manifest.inputs.map((i) => [`${i.source}\u0000${i.file}`, i] as const)));
  return files.flatMap((f) => {
    const i = byKey.get(`${f.source}\u0000${f.rel}`);
    return i ? [{ source: i.source, file: i.file, abs: i.path, format: i.format, rows: i.rows, blankLines: i.blank_lines }] : [];
  });
}
