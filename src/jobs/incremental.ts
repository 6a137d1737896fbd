import { existsSync } from 'node:fs';
import { cp, mkdir, readlink, rename, rm, symlink } from 'node:fs/promises';
import path from 'node:path';
import { overlay } from '../config/overlay.js';
import { DuckDBInstance } from '@duckdb/node-api';
import type { LoadedPipeline } from '../config/load.js';
import { readRunManifest } from '../pipeline/manifest.js';
import { MODEL_DIR, OUTPUT_FILES, runPipeline, type RunSummary } from '../pipeline/run.js';
import { fingerprintReusing, type FileFingerprint } from '../sources/fingerprint.js';
import { planSources, type PlannedSource } from '../sources/read.js';
import type { Logger } from '../util/log.js';
import { acquireLock, takeoverMessage } from './lock.js';
import { STATE_DB, StateStore, type FileChange } from './state-store.js';

/** What an incremental run did to the state, beside the run's own summary. */
export interface StateInfo {
  state_dir: string;
  seq: number;
  status: 'completed' | 'no_changes';
  files: Record<FileChange | 'missing', number>;
  superseded_rows: number;
  /** The dated output folder of this run (null when nothing was new). */
  out_dir: string | null;
  latest: string | null;
  /** A run interrupted earlier was finished (resumed or folded in) by this one. */
  resumed_pending: boolean;
}

export interface IncrementalResult {
  summary: RunSummary | null;
  state: StateInfo;
}

/**
 * `winnow run --state DIR`: one step of a job over a growing set of input files. Only new or changed
 * files are read; new rows are deduplicated against every row kept so far (the state's index); the
 * run writes a dated folder under DIR/runs and `DIR/latest` moves to it atomically; the rows of a
 * changed file's earlier version are superseded, not counted again. The state folder is locked for
 * the whole step, and a step that was killed is resumed (or, if its outputs are complete, folded in)
 * by the next one before anything new is read.
 */
export async function runIncremental(loaded: LoadedPipeline, opts: { stateDir: string; log: Logger; workers?: number | 'auto'; memory?: string }): Promise<IncrementalResult> {
  const stateDir = path.resolve(opts.stateDir);
  const lock = await acquireLock(stateDir, `winnow run ${loaded.origin} --state ${stateDir}`);
  if (lock.tookOverFrom) opts.log.warn(takeoverMessage(lock.tookOverFrom));
  try {
    return await step(loaded, stateDir, opts.log, opts);
  } finally {
    await lock.release();
  }
}

async function step(loaded: LoadedPipeline, stateDir: string, log: Logger, { workers, memory }: { workers?: number | 'auto'; memory?: string }): Promise<IncrementalResult> {
  const { config } = loaded;
  const scratch = await DuckDBInstance.create(':memory:');
  const conn = await scratch.connect();
  let planned: PlannedSource[];
  try {
    planned = await planSources(config, loaded.baseDir, conn);
  } finally {
    conn.closeSync();
    scratch.closeSync();
  }
  let state = await StateStore.open(stateDir, { create: true });
  const active = await state.activeFiles();
  const files: Record<FileChange | 'missing', number> = { new: 0, changed: 0, unchanged: 0, missing: 0 };
  const delta = new Set<string>();
  const changed: { source: string; file: string }[] = [];
  const fingerprints = new Map<string, FileFingerprint>();
  const seen = new Set<string>();
  for (const f of planned.flatMap((p) => p.files)) {
    const key = `${f.source}\u0000${f.rel}`;
    seen.add(key);
    const known = active.get(key);
    const fp = await fingerprintReusing(f.abs, known);
    fingerprints.set(f.abs, fp);
    const change: FileChange = !known ? 'new' : known.sha256 !== fp.sha256 ? 'changed' : 'unchanged';
    files[change]++;
    if (change !== 'unchanged') delta.add(f.abs);
    if (change === 'changed') changed.push({ source: f.source, file: f.rel });
  }
  files.missing = [...active.keys()].filter((k) => !seen.has(k)).length;
  if (files.missing > 0) log.warn(`${files.missing} input file(s) read by earlier runs are gone; their rows stay in the earlier outputs (see \`winnow runs ${stateDir}\`)`);

  const manifestOf = (dir: string): string => path.join(dir, OUTPUT_FILES.manifest);
  let pending = await state.pending();
  if (pending && delta.size === 0 && !existsSync(manifestOf(pending.out_dir!))) {
    // The interrupted run's files are gone or back to the versions the state holds: nothing of it is owed.
    await state.markAbandoned(pending.seq);
    log.warn(`run ${pending.seq} was interrupted and its input files no longer differ from the state's; it is recorded as abandoned`);
    pending = null;
  }
  if (!pending && delta.size === 0) {
    const seq = await state.nextSeq();
    await state.recordNoChanges(seq, files.unchanged, files.missing);
    state.close();
    const latest = await pointLatest(stateDir, null);
    log.info(`nothing new: ${files.unchanged} file(s) unchanged since the last run; latest stays ${latest ?? '(none)'}`);
    return { summary: null, state: { state_dir: stateDir, seq, status: 'no_changes', files, superseded_rows: 0, out_dir: null, latest, resumed_pending: false } };
  }

  let seq: number;
  let outDir: string;
  if (pending) {
    seq = pending.seq;
    outDir = pending.out_dir!;
    log.info(`finishing run ${seq} of ${stateDir}, which was interrupted`);
  } else {
    seq = await state.nextSeq();
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    outDir = path.join(stateDir, 'runs', `${stamp}-run${seq}`);
    await state.begin(seq, outDir, files);
    await state.excludeFromIndex(seq, changed);
  }
  const hasIndex = await state.hasIndex();
  // The run attaches state.duckdb read-only for its dedup index; this process must not hold it open.
  state.close();

  const { dedup, embed } = loaded.config.stages;
  // One encoder for the whole job: vectors of different runs must be comparable.
  const stateModel = path.join(stateDir, MODEL_DIR);
  const run = overlay(
    loaded,
    {
      stages: {
        dedup: hasIndex && (dedup.exact.enabled || dedup.near.enabled) ? { against: [...dedup.against, path.join(stateDir, STATE_DB)], carry_index: false } : undefined,
        embed: {
          model: embed.model === 'builtin' && existsSync(stateModel) ? stateModel : undefined,
          cache: embed.cache === true ? path.join(stateDir, 'embed-cache') : undefined,
        },
      },
    },
    '--state',
  );

  let summary: RunSummary | null = null;
  const manifestFile = manifestOf(outDir);
  if (pending && existsSync(manifestFile)) {
    log.info(`run ${seq} had completed its outputs; folding them into the state`);
  } else {
    summary = await runPipeline(run, { outDir, log, lockHeld: true, only: delta, fingerprints, workers, memory });
  }
  if (existsSync(path.join(outDir, MODEL_DIR)) && !existsSync(stateModel)) {
    const tmp = path.join(stateDir, '.model.tmp');
    await rm(tmp, { recursive: true, force: true });
    await cp(path.join(outDir, MODEL_DIR), tmp, { recursive: true });
    await rename(tmp, stateModel);
  }
  state = await StateStore.open(stateDir, { create: true });
  let superseded: number;
  try {
    ({ superseded } = await state.foldIn(seq, path.join(outDir, OUTPUT_FILES.store)));
  } finally {
    state.close();
  }
  const latest = await pointLatest(stateDir, outDir);
  summary ??= summaryFromManifest(outDir);
  return {
    summary,
    state: { state_dir: stateDir, seq, status: 'completed', files, superseded_rows: superseded, out_dir: outDir, latest, resumed_pending: pending !== null },
  };
}

/**
 * Moves `latest` to `outDir` (or, given null, to the last completed run, repairing a pointer a crash
 * left behind): a new symlink under a temporary name renamed over the old one, which is atomic.
 */
async function pointLatest(stateDir: string, outDir: string | null): Promise<string | null> {
  const link = path.join(stateDir, 'latest');
  let target = outDir;
  if (target === null) {
    const state = await StateStore.open(stateDir, { create: false });
    try {
      const last = (await state.runs()).filter((r) => r.status === 'completed').at(-1);
      target = last?.out_dir ?? null;
    } finally {
      state.close();
    }
  }
  if (target === null) return null;
  const rel = path.relative(stateDir, target);
  if ((await readlink(link).catch(() => null)) === rel) return link;
  await mkdir(stateDir, { recursive: true });
  const tmp = path.join(stateDir, `.latest.tmp-${process.pid}`);
  await rm(tmp, { force: true });
  await symlink(rel, tmp);
  await rename(tmp, link);
  return link;
}

function summaryFromManifest(outDir: string): RunSummary {
  const m = readRunManifest(outDir)!;
  // The files the run wrote, as its manifest lists them (by name inside the output folder).
  const outputs = Object.fromEntries(Object.entries(m.outputs).map(([k, v]) => [k, path.join(outDir, v)]));
  return { runId: m.run_id, outDir, counts: m.counts, ids: m.ids, stages: m.stages, budget: m.budget, augment: m.augment, phases: m.phases, outputs, seconds: m.seconds };
}
