import type { LoadedPipeline } from '../config/load.js';
import type { FileFingerprint } from '../sources/fingerprint.js';
import type { FileStats, PlannedSource } from '../sources/read.js';
import type { StageCounters } from '../stages/runner.js';
import { packageVersions, WINNOW_VERSION } from '../util/versions.js';
import type { IdOrigins } from './emit.js';
import { configHash } from './plan.js';
import { OUTPUT_FILES, type OutputName } from './outputs.js';
import type { RunCounts, RunOptions } from './run.js';

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
  barrierManifest: Record<string, unknown>;
  phases: Record<string, number>;
  written: OutputName[];
}): Record<string, unknown> {
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
