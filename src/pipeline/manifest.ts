import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { LoadedPipeline } from '../config/load.js';
import type { Pipeline } from '../config/schema.js';
import { InputError } from '../core/errors.js';
import type { AugmentManifest } from '../stages/augment.js';
import type { BudgetManifest } from '../stages/budget.js';
import type { SelectManifest } from '../stages/select.js';
import type { FileFingerprint } from '../sources/fingerprint.js';
import type { FileStats, PlannedSource } from '../sources/read.js';
import type { StageCounters } from '../stages/runner.js';
import { packageVersions, WINNOW_VERSION } from '../util/versions.js';
import type { IdOrigins } from './emit.js';
import { configHash } from './plan.js';
import { OUTPUT_FILES, type OutputName } from './outputs.js';
import type { RunCounts, RunOptions } from './run.js';

/** Barrier stages' parts of manifest.json, each under its stage's name (the others are free-form records). */
export interface BarrierManifests extends StageManifests {
  [stage: string]: object | undefined;
}

/** The stage manifests readers of manifest.json use (the report, summaries, jobs). */
interface StageManifests {
  select?: SelectManifest;
  budget?: BudgetManifest;
  augment?: AugmentManifest;
}

/** One input file as the manifest records it: its fingerprint, where it came from, what was read. */
export type ManifestInput = FileFingerprint & { source: string; file: string; format: string; rows: number; blank_lines: number };

/** What a shard's manifest records for the merge. */
export interface ShardInfo {
  index: number;
  count: number;
  /** Hash of the config as given (before the shard's own settings), equal across shards. */
  config_hash: string;
  base_dir: string;
  /** Every input file of the job in reading order (all shards list the same). */
  all_files: { source: string; file: string; abs: string; format: string }[];
  /** How many of the shard's top-ranked rows it offers the merge (null: all it ranked). */
  candidates: number | null;
}

/** manifest.json: the run's own fields, and each barrier stage's manifest under its name. */
export type RunManifest = StageManifests & {
  [stage: string]: unknown;
  winnow_version: string;
  run_id: string;
  started_at: string;
  finished_at: string;
  seconds: number;
  attempts: number;
  pipeline: { origin: string; config: Pipeline; config_hash: string };
  inputs: ManifestInput[];
  counts: RunCounts & { reconciled: boolean };
  /** Absent in manifests of versions before 0.1. */
  ids?: IdOrigins;
  stages: StageCounters[];
  phases: Record<string, number>;
  /** Output name -> file name inside the output folder. */
  outputs: Partial<Record<OutputName, string>>;
  shard?: ShardInfo;
  merged_shards?: { dir: string; run_id: string; index: number }[];
  versions: Record<string, string | null>;
};

const counters = z.object({ stage: z.string(), in: z.number(), out: z.number(), rejected: z.record(z.string(), z.number()), seconds: z.number() });

/**
 * What a reader of manifest.json relies on, checked when it is read: a folder's manifest may come
 * from another version or another tool, and a field a reader needs must not turn up as undefined
 * deep inside it. The rest passes through as written.
 */
const MANIFEST_SCHEMA = z.looseObject({
  run_id: z.string(),
  seconds: z.number(),
  pipeline: z.looseObject({ origin: z.string(), config: z.looseObject({ name: z.string() }), config_hash: z.string() }),
  counts: z.looseObject({ input: z.number(), selected: z.number(), rejected: z.record(z.string(), z.number()), rejected_total: z.number() }),
  stages: z.array(counters),
  inputs: z.array(
    z.looseObject({ path: z.string(), size: z.number(), mtime: z.string(), sha256: z.string(), source: z.string(), file: z.string(), format: z.string(), rows: z.number(), blank_lines: z.number() }),
  ),
  phases: z.record(z.string(), z.number()),
  outputs: z.record(z.string(), z.string()),
  shard: z.optional(
    z.looseObject({
      index: z.number(),
      count: z.number(),
      config_hash: z.string(),
      base_dir: z.string(),
      all_files: z.array(z.object({ source: z.string(), file: z.string(), abs: z.string(), format: z.string() })),
      candidates: z.number().nullable(),
    }),
  ),
});

/** Reads a finished run's manifest.json; null when the folder has none, an InputError naming the field when it is not winnow's. */
export function readRunManifest(dir: string): RunManifest | null {
  const file = path.join(dir, 'manifest.json');
  if (!existsSync(file)) return null;
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new InputError(`${file} is not JSON (${(err as Error).message}); a run's manifest.json is written whole or not at all, so this file was changed by hand or by another tool`);
  }
  const parsed = MANIFEST_SCHEMA.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new InputError(`${file} is not a winnow run manifest: ${issue.path.join('.') || '(top level)'}: ${issue.message}`);
  }
  // The checked fields are the ones readers use; the rest is what buildManifest wrote.
  return parsed.data as unknown as RunManifest;
}

/** manifest.json: what ran on what, every count, and for a shard what the merge needs. */
export function buildManifest(m: {
  loaded: LoadedPipeline;
  opts: RunOptions;
  runId: string;
  startedAt: Date;
  seconds: number;
  attempts: number;
  all: PlannedSource[];
  fileStats: FileStats[];
  fingerprints: Map<string, FileFingerprint>;
  counts: RunCounts;
  ids: IdOrigins;
  counters: StageCounters[];
  barrierManifest: BarrierManifests;
  phases: Record<string, number>;
  written: OutputName[];
}): RunManifest {
  const { loaded, opts } = m;
  const config = loaded.config;
  return {
    winnow_version: WINNOW_VERSION,
    run_id: m.runId,
    started_at: m.startedAt.toISOString(),
    finished_at: new Date().toISOString(),
    seconds: m.seconds,
    attempts: m.attempts,
    pipeline: { origin: loaded.origin, config, config_hash: configHash(config) },
    inputs: m.fileStats.map((s) => ({ ...m.fingerprints.get(s.abs)!, source: s.source, file: s.file, format: s.format, rows: s.rows, blank_lines: s.blankLines })),
    counts: { ...m.counts, reconciled: m.counts.input === m.counts.selected + m.counts.rejected_total },
    ids: m.ids,
    stages: m.counters,
    ...m.barrierManifest,
    phases: m.phases,
    outputs: Object.fromEntries(m.written.map((k) => [k, OUTPUT_FILES[k]])),
    ...(opts.shard
      ? {
          shard: {
            index: opts.shard.index,
            count: opts.shard.count,
            config_hash: opts.shard.configHash,
            base_dir: loaded.baseDir,
            all_files: m.all.flatMap((p) => p.files.map((f) => ({ source: f.source, file: f.rel, abs: f.abs, format: f.format }))),
            candidates: config.stages.select.max_picks > 0 ? config.stages.select.max_picks : null,
          },
        }
      : {}),
    ...(opts.merge ? { merged_shards: opts.merge.map((s) => ({ dir: s.dir, run_id: s.manifest.run_id, index: s.manifest.shard.index })) } : {}),
    versions: packageVersions(),
  };
}
