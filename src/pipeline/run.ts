import { existsSync, rmdirSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import type { LoadedPipeline } from '../config/load.js';
import { isOutOfMemory, limitHeapGrowth, memoryPlan, outOfMemory, type MemoryPlan } from '../core/memory.js';
import { removeStalePartials } from '../emit/atomic.js';
import { commitOutputs, finishCommit } from '../emit/commit.js';
import { acquireLock, takeoverMessage } from '../jobs/lock.js';
import type { ShardInput } from '../jobs/merge.js';
import { checkOutDir } from '../jobs/out-dir.js';
import type { ShardSpec } from '../jobs/shard.js';
import { WorkDir } from '../jobs/work-dir.js';
import type { FileFingerprint } from '../sources/fingerprint.js';
import { STREAMING_STAGES } from '../stages/registry.js';
import type { AugmentManifest } from '../stages/augment.js';
import type { BudgetManifest } from '../stages/budget.js';
import type { StageCounters } from '../stages/runner.js';
import { RunStore } from '../store/run-store.js';
import type { Logger } from '../util/log.js';
import { runBarriers } from './barriers.js';
import { checkedCounts, emitOutputs, type IdOrigins } from './emit.js';
import { buildManifest } from './manifest.js';
import { MODEL_DIR, outputPaths, type OutputName } from './outputs.js';
import { PhaseClock } from './phase-clock.js';
import { planRun, type RunPlan } from './plan.js';
import { streamIntoStore } from './stream.js';

export { configHash } from './plan.js';
export { MODEL_DIR, OUTPUT_FILES } from './outputs.js';
export type { IdOrigins } from './emit.js';

export interface RunCounts {
  input: number;
  selected: number;
  rejected: Record<string, number>;
  rejected_total: number;
}

export interface RunSummary {
  runId: string;
  outDir: string;
  counts: RunCounts;
  /** Where the rows' ids came from: the id column (per source) or derived from source, file and row (absent in manifests of older versions). */
  ids?: IdOrigins;
  stages: StageCounters[];
  /** The budget stage's plan and achieved totals. */
  budget?: BudgetManifest;
  /** The augment stage's manifest (synthetic tokens and the unique / repeated / synthetic split), when it ran. */
  augment?: AugmentManifest;
  /** Wall seconds of each phase of the run, for the manifest and benchmarks. */
  phases: Record<string, number>;
  outputs: Partial<Record<OutputName, string>>;
  seconds: number;
}

export interface RunOptions {
  outDir: string;
  log: Logger;
  /** Called with the complete run store before the outputs are written (used by `winnow embed`). */
  onStore?: (store: RunStore) => Promise<void>;
  /** The caller already holds a lock covering outDir (a `--state` run locks the state folder). */
  lockHeld?: boolean;
  /** Read only these input files (absolute paths) of the pipeline's sources: an incremental run's new and changed files. */
  only?: ReadonlySet<string>;
  /** Fingerprints the caller already computed, by absolute path. */
  fingerprints?: ReadonlyMap<string, FileFingerprint>;
  /** `--shard i/n`: read this shard's files, run dedup, embed and select on them, write shard artifacts. */
  shard?: ShardSpec & { configHash: string };
  /** `winnow merge`: assemble these shards' rows instead of reading, then run every barrier stage. */
  merge?: ShardInput[];
  /** `--workers`: overrides execution.workers (operational: a resumed run may use another number). */
  workers?: number | 'auto';
  /** `--memory`: overrides execution.memory (operational: a resumed run may use another budget). */
  memory?: string;
}

/**
 * One run: plan (every check that can fail before work), stream sources through the stages into
 * the run store, then emit the selection. Outputs appear under their final names only at the end.
 * The output folder is locked for the run; an interrupted run (killed, crashed, machine lost)
 * resumes from its last checkpoint when started again with the same config and inputs.
 */
export async function runPipeline(loaded: LoadedPipeline, opts: RunOptions): Promise<RunSummary> {
  const outDir = path.resolve(opts.outDir);
  checkOutDir(outDir, loaded.config, loaded.baseDir);
  const made = !existsSync(outDir);
  const memory = memoryPlan(loaded.config.execution.memory, loaded.config.store.memory_limit, opts.memory);
  limitHeapGrowth();
  const lock = opts.lockHeld ? null : await acquireLock(outDir, `winnow run ${loaded.origin}`);
  if (lock?.tookOverFrom) opts.log.warn(takeoverMessage(lock.tookOverFrom));
  let failed = false;
  try {
    return await runLocked(loaded, { ...opts, outDir }, memory);
  } catch (err) {
    failed = true;
    throw isOutOfMemory(err) ? outOfMemory(err, memory) : err;
  } finally {
    await lock?.release();
    // A run that failed before writing anything (a config or input error) leaves no empty folder it
    // made; rmdir refuses a folder with a work folder in it, which a rerun resumes from.
    if (failed && made) removeIfEmpty(outDir);
  }
}

function removeIfEmpty(dir: string): void {
  try {
    rmdirSync(dir);
  } catch {
    // not empty (a work folder to resume from, partial outputs) or already gone: leave it
  }
}

/**
 * The conductor: plan, open (or resume) the work folder and store, stream, barrier stages, emit,
 * manifest, commit. Each step is its own module; this function only orders them and owns cleanup.
 */
async function runLocked(loaded: LoadedPipeline, opts: RunOptions, memory: MemoryPlan): Promise<RunSummary> {
  const { config } = loaded;
  const { log, outDir } = opts;
  const clock = new PhaseClock(log);
  const scratch = await DuckDBInstance.create(':memory:', { threads: String(config.store.threads ?? 2) });
  const conn = await scratch.connect();
  try {
    const plan = await planRun(loaded, opts, conn, log);
    // A commit a killed run left half done is finished first: its temporaries are not stale.
    if (await finishCommit(outDir)) log.warn(`${outDir}: the previous run was killed while putting its outputs in place; its commit was completed`);
    await removeStalePartials(outDir);
    const work = await WorkDir.open(outDir, plan.key, log);
    const progress = work.progress;
    Object.assign(clock.phases, progress.phases);
    announceResume(work, log);
    clock.done('plan');
    const { finals, temps } = outputPaths(outDir);
    log.event('memory', { budget_mb: Math.round(memory.budget / 1e6), duckdb_memory_limit: memory.duckdb, from: memory.from });
    const store = await openStore(work, plan, config, memory);
    // From here on the run can be resumed: its progress file and store exist.
    log.event('run_start', { run_id: progress.run_id, out_dir: outDir, files: plan.fingerprints.size });
    try {
      if (progress.phase === 'stream') await streamIntoStore({ store, plan, conn, loaded, opts, work, clock, previousStore: finals.store });
      const { counters, manifest: barrierManifest } = await runBarriers({ store, loaded, work, log, role: plan.role, clock, memory, workers: opts.workers ?? config.execution.workers });
      const { fileStats, rows } = progress.stream!;
      const counts = await checkedCounts(store, rows, log);
      await opts.onStore?.(store);
      log.event('stage_start', { stage: 'emit' });
      const startedAt = new Date(progress.started_at);
      const run = { runId: progress.run_id, startedAt, attempts: progress.attempts, counts, counters, barrierManifest, fileStats, fingerprints: plan.fingerprints };
      const { written, ids } = await emitOutputs({ ...run, store, loaded, role: plan.role, outDir, temps, clock });
      await store.close();
      clock.done('close_store');
      const seconds = clock.seconds;
      const manifest = buildManifest({ ...run, loaded, opts, seconds, all: plan.all, ids, phases: clock.phases, written });
      await writeFile(temps.manifest, JSON.stringify(manifest, null, 2) + '\n');
      // Data files first, manifest last, through a journal: a killed commit is finished by the next command.
      const model = existsSync(work.modelDir) ? [{ from: work.modelDir, to: path.join(outDir, MODEL_DIR), dir: true }] : [];
      await commitOutputs(outDir, { moves: [...model, ...written.map((k) => ({ from: k === 'store' ? work.storePath : temps[k], to: finals[k] }))], cleanup: [work.dir] });
      log.event('run_done', { run_id: progress.run_id, seconds, counts });
      return {
        runId: progress.run_id,
        outDir,
        counts,
        ids,
        stages: counters,
        budget: barrierManifest.budget,
        augment: barrierManifest.augment,
        phases: clock.phases,
        outputs: Object.fromEntries(written.map((k) => [k, finals[k]])) as RunSummary['outputs'],
        seconds,
      };
    } catch (err) {
      // The work folder stays: starting the same run again resumes from its last checkpoint.
      await store.close().catch(() => undefined);
      await Promise.all(Object.values(temps).map((t) => rm(t, { force: true })));
      throw err;
    }
  } finally {
    conn.closeSync();
    scratch.closeSync();
  }
}

function announceResume(work: WorkDir, log: Logger): void {
  if (!work.resumed) return;
  const p = work.progress;
  log.info(`resuming run ${p.run_id} (attempt ${p.attempts}) from its last checkpoint: ${p.phase === 'stream' ? 'streaming' : `after ${p.barriers.at(-1)?.name ?? 'streaming'}`}`);
  log.event('resume', { run_id: p.run_id, attempt: p.attempts, phase: p.phase, barriers_done: p.barriers.map((b) => b.name) });
}

/** A new store, the interrupted stream's store, or the last barrier snapshot put back in place. */
async function openStore(work: WorkDir, plan: RunPlan, config: LoadedPipeline['config'], memory: MemoryPlan): Promise<RunStore> {
  const storeOpts = {
    memoryLimit: memory.duckdb,
    threads: config.store.threads,
    sources: config.sources.map((s) => s.name),
    files: plan.planned.flatMap((p) => p.files.map((f) => f.rel)),
    extraColumns: STREAMING_STAGES.filter((d) => d.enabled(config)).flatMap((d) => d.columns ?? []),
  };
  const phase = work.progress.phase;
  if (phase === 'barriers') await work.restoreSnapshot();
  const store = phase === 'stream' && !work.resumed ? await RunStore.create(work.storePath, storeOpts) : await RunStore.open(work.storePath, storeOpts);
  if (!work.resumed) await work.save();
  return store;
}
