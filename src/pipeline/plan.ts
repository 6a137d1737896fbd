import { createHash } from 'node:crypto';
import { statSync } from 'node:fs';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { LoadedPipeline } from '../config/load.js';
import { fingerprintsFromShards, plannedFromShards } from '../jobs/merge.js';
import { assignFiles } from '../jobs/shard.js';
import type { InputFile } from '../sources/discover.js';
import { fingerprint, type FileFingerprint } from '../sources/fingerprint.js';
import { planSources, type PlannedSource } from '../sources/read.js';
import { STREAMING_STAGES } from '../stages/registry.js';
import type { Logger } from '../util/log.js';
import { WINNOW_VERSION } from '../util/versions.js';
import type { RunOptions } from './run.js';

export type RunRole = 'run' | 'shard' | 'merge';

/** Everything decided before any work: which files this run reads, their fingerprints, its identity. */
export interface RunPlan {
  role: RunRole;
  /** Every file of the job (a shard's manifest lists them for the merge). */
  all: PlannedSource[];
  /** The files this run reads (a shard's, an incremental run's new and changed ones). */
  planned: PlannedSource[];
  fingerprints: Map<string, FileFingerprint>;
  /** The run's identity: a rerun with the same key resumes from the checkpoints. */
  key: string;
}

/** Every check that can fail before work: paths, globs, `where`, models (preflight), shard assignment. */
export async function planRun(loaded: LoadedPipeline, opts: RunOptions, conn: DuckDBConnection, log: Logger): Promise<RunPlan> {
  const { config } = loaded;
  const role: RunRole = opts.shard ? 'shard' : opts.merge ? 'merge' : 'run';
  const all = opts.merge ? plannedFromShards(opts.merge, loaded) : await planSources(config, loaded.baseDir, conn);
  for (const d of STREAMING_STAGES) if (d.enabled(config) && d.preflight) await d.preflight(config, { baseDir: loaded.baseDir });
  const assignment = opts.shard
    ? assignFiles(
        all.flatMap((p) => p.files.map((f) => ({ key: `${f.source}/${f.rel}`, size: statSync(f.abs).size }))),
        opts.shard.count,
      )
    : null;
  const keep = (f: InputFile): boolean => (!opts.only || opts.only.has(f.abs)) && (!assignment || assignment.get(`${f.source}/${f.rel}`) === opts.shard!.index);
  const planned = all.map((p) => ({ ...p, files: p.files.filter(keep) }));
  // More shards than files (a small night of a lake sized for many): the idle shard completes
  // empty so that the merge, which needs every shard, still runs.
  if (opts.shard && planned.every((p) => p.files.length === 0)) {
    log.warn(
      `--shard ${opts.shard.index}/${opts.shard.count}: the job has only ${all.flatMap((p) => p.files).length} input file(s) and a shard reads whole files, so this shard has none; it completes empty`,
    );
  }
  const fingerprints = new Map<string, FileFingerprint>(opts.merge ? fingerprintsFromShards(opts.merge) : []);
  for (const f of planned.flatMap((p) => p.files)) if (!fingerprints.has(f.abs)) fingerprints.set(f.abs, opts.fingerprints?.get(f.abs) ?? (await fingerprint(f.abs)));
  const key = configHash({
    // How many workers run the stages and how much memory they get change no result, so they do not
    // change the run's identity: a run that ran out of memory resumes with more.
    config: { ...config, execution: null, store: null },
    version: WINNOW_VERSION,
    inputs: planned.flatMap((p) => p.files.map((f) => [f.source, f.rel, fingerprints.get(f.abs)!.sha256])),
    shard: opts.shard ?? null,
    shards: opts.merge?.map((s) => s.manifest.run_id) ?? null,
  });
  return { role, all, planned, fingerprints, key };
}

export function configHash(config: unknown): string {
  return createHash('sha256').update(canonicalJson(config)).digest('hex');
}

/** JSON with sorted keys, so the hash does not depend on key order in the YAML. */
function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    return `{${Object.keys(v)
      .sort()
      .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}
