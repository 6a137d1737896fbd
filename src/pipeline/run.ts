import { createHash } from 'node:crypto';
import { existsSync, rmdirSync, statSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import type { LoadedPipeline } from '../config/load.js';
import { ConfigError, WinnowError } from '../core/errors.js';
import { isOutOfMemory, memoryPlan, outOfMemory, type MemoryPlan } from '../core/memory.js';
import { writeArrowFile } from '../emit/arrow.js';
import { removeStalePartials, tempPathFor } from '../emit/atomic.js';
import { commitOutputs, finishCommit } from '../emit/commit.js';
import { selectionColumns } from '../emit/columns.js';
import { assertUnchanged, fingerprint, type FileFingerprint } from '../sources/fingerprint.js';
import { planSources, readSources, type FileStats, type PlannedSource } from '../sources/read.js';
import type { ReadContext } from '../sources/record.js';
import { prefetch } from '../stages/concurrency.js';
import type { Batch } from '../core/batch.js';
import { acquireLock, takeoverMessage } from '../jobs/lock.js';
import { checkOutDir } from '../jobs/out-dir.js';
import { assembleShards, fingerprintsFromShards, plannedFromShards, type ShardInput } from '../jobs/merge.js';
import { assignFiles, type ShardSpec } from '../jobs/shard.js';
import { embeddingCacheDir } from '../embed/cache-dir.js';
import type { InputFile } from '../sources/discover.js';
import { WorkDir, type Progress } from '../jobs/work-dir.js';
import { BARRIER_STAGES, STREAMING_STAGES } from '../stages/registry.js';
import { executeStreaming, workerCount } from '../executors/local-pool.js';
import { addCounts, countsOf, type StageCounters } from '../stages/runner.js';
import type { RunInfo } from '../report/collect.js';
import { writeReport } from '../report/write.js';
import { carryLabels } from '../store/labels.js';
import { duplicateIdWarning } from '../store/duplicate-ids.js';
import { RunStore } from '../store/run-store.js';
import { quoteIdent, quoteLiteral } from '../store/sql.js';
import type { Logger } from '../util/log.js';
import { packageVersions, WINNOW_VERSION } from '../util/versions.js';

export const OUTPUT_FILES = {
  arrow: 'selection.arrow',
  parquet: 'selection.parquet',
  store: 'results.duckdb',
  report: 'report.html',
  manifest: 'manifest.json',
} as const;

/** Folder of the built-in encoder fitted by the run (reusable with `embed.model: <out>/model`). */
export const MODEL_DIR = 'model';

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
  budget?: Record<string, unknown>;
  /** The augment stage's manifest (synthetic tokens and the unique / repeated / synthetic split), when it ran. */
  augment?: Record<string, unknown>;
  /** Wall seconds of each phase of the run, for the manifest and benchmarks. */
  phases: Record<string, number>;
  outputs: Partial<Record<keyof typeof OUTPUT_FILES, string>>;
  seconds: number;
}

export interface IdOrigins {
  /** The id column of each source that has one. */
  columns: Record<string, string>;
  from_column: number;
  derived: number;
}

/** Counts rows whose id came from the input against rows with a derived id (source:file:row). */
async function idOrigins(store: RunStore, config: LoadedPipeline['config']): Promise<IdOrigins> {
  const r = await store.conn.runAndReadAll(`SELECT count(*) FILTER (id = source::VARCHAR || ':' || file::VARCHAR || ':' || "row")::BIGINT, count(*)::BIGINT FROM samples`);
  const [derived, all] = r.getRows()[0]!.map(Number) as [number, number];
  const columns = Object.fromEntries(config.sources.flatMap((s) => (s.columns.id ? [[s.name, s.columns.id]] : [])));
  return { columns, from_column: all - derived, derived };
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

/** Barrier stages a shard runs; the merge runs them all again over the whole job. */
const SHARD_STAGES = new Set(['dedup', 'embed', 'select']);

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

async function runLocked(loaded: LoadedPipeline, opts: RunOptions, memory: MemoryPlan): Promise<RunSummary> {
  const { config } = loaded;
  const { log, outDir } = opts;
  const t0 = performance.now();
  let mark = performance.now();
  const phases: Record<string, number> = {};
  const phase = (name: string): void => {
    const now = performance.now();
    phases[name] = (phases[name] ?? 0) + (now - mark) / 1000;
    mark = now;
    // Memory after each phase (peak: the whole process so far, worker threads included), so a user
    // sees which stage needs more.
    const rss = { rss_mb: Math.round(process.memoryUsage.rss() / 1e6), peak_rss_mb: Math.round((process.resourceUsage().maxRSS * 1024) / 1e6) };
    log.event('phase_done', { phase: name, seconds: Math.round(phases[name]! * 1000) / 1000, ...rss });
  };
  const scratch = await DuckDBInstance.create(':memory:', { threads: String(config.store.threads ?? 2) });
  const conn = await scratch.connect();
  try {
    const role = opts.shard ? 'shard' : opts.merge ? 'merge' : 'run';
    const all = opts.merge ? plannedFromShards(opts.merge, loaded) : await planSources(config, loaded.baseDir, conn);
    for (const d of STREAMING_STAGES) if (d.enabled(config) && d.preflight) await d.preflight(config, { baseDir: loaded.baseDir });
    const assignment = opts.shard ? assignFiles(all.flatMap((p) => p.files.map((f) => ({ key: `${f.source}/${f.rel}`, size: statSync(f.abs).size }))), opts.shard.count) : null;
    const keep = (f: InputFile): boolean => (!opts.only || opts.only.has(f.abs)) && (!assignment || assignment.get(`${f.source}/${f.rel}`) === opts.shard!.index);
    const planned = all.map((p) => ({ ...p, files: p.files.filter(keep) }));
    // More shards than files (a small night of a lake sized for many): the idle shard completes
    // empty so that the merge, which needs every shard, still runs.
    if (opts.shard && planned.every((p) => p.files.length === 0)) {
      log.warn(`--shard ${opts.shard.index}/${opts.shard.count}: the job has only ${all.flatMap((p) => p.files).length} input file(s) and a shard reads whole files, so this shard has none; it completes empty`);
    }
    // A commit a killed run left half done is finished first: its temporaries are not stale.
    if (await finishCommit(outDir)) log.warn(`${outDir}: the previous run was killed while putting its outputs in place; its commit was completed`);
    await removeStalePartials(outDir);
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
    const work = await WorkDir.open(outDir, key, log);
    const progress = work.progress;
    Object.assign(phases, progress.phases);
    if (work.resumed) {
      log.info(`resuming run ${progress.run_id} (attempt ${progress.attempts}) from its last checkpoint: ${progress.phase === 'stream' ? 'streaming' : `after ${progress.barriers.at(-1)?.name ?? 'streaming'}`}`);
      log.event('resume', { run_id: progress.run_id, attempt: progress.attempts, phase: progress.phase, barriers_done: progress.barriers.map((b) => b.name) });
    }
    const runId = progress.run_id;
    const startedAt = new Date(progress.started_at);
    phase('plan');

    const finals = Object.fromEntries(Object.entries(OUTPUT_FILES).map(([k, v]) => [k, path.join(outDir, v)])) as Record<keyof typeof OUTPUT_FILES, string>;
    const temps = Object.fromEntries(Object.entries(finals).map(([k, v]) => [k, tempPathFor(v)])) as Record<keyof typeof OUTPUT_FILES, string>;
    log.event('memory', { budget_mb: Math.round(memory.budget / 1e6), duckdb_memory_limit: memory.duckdb, from: memory.from });
    const storeOpts = {
      memoryLimit: memory.duckdb,
      threads: config.store.threads,
      sources: config.sources.map((s) => s.name),
      files: planned.flatMap((p) => p.files.map((f) => f.rel)),
      extraColumns: STREAMING_STAGES.filter((d) => d.enabled(config)).flatMap((d) => d.columns ?? []),
    };
    const resumeStream = progress.phase === 'stream' && work.resumed;
    if (progress.phase === 'barriers') await work.restoreSnapshot();
    const store = progress.phase === 'stream' && !work.resumed ? await RunStore.create(work.storePath, storeOpts) : await RunStore.open(work.storePath, storeOpts);
    if (!work.resumed) await work.save();
    // From here on the run can be resumed: its progress file and store exist.
    log.event('run_start', { run_id: progress.run_id, out_dir: outDir, files: fingerprints.size });
    try {
      if (progress.phase === 'stream') {
        progress.stream = opts.merge
          ? await assembleShards(store, opts.merge, planned, ['read', ...STREAMING_STAGES.filter((d) => d.enabled(config)).map((d) => d.name)], storeOpts.extraColumns.map((c) => c.name), embeddingCacheDir(config.stages.embed.cache, loaded.baseDir) ?? path.join(outDir, 'embed-cache'))
          : await streamPhase(store, planned, conn, loaded, log, resumeStream, workerCount(opts.workers ?? config.execution.workers, inputBytes(planned)));
        if (!opts.merge) for (const f of planned.flatMap((p) => p.files)) await assertUnchanged(fingerprints.get(f.abs)!);
        const dupIds = config.limits.duplicate_ids === 'warn' ? await duplicateIdWarning(store.conn) : null;
        if (dupIds) log.warn(dupIds);
        phase('stream');
        // Labels imported into the previous run of this output folder feed this run's selection.
        if (existsSync(finals.store)) {
          const carried = await carryLabels(store.conn, finals.store);
          if (carried > 0) log.info(`labels: ${carried} imported labels carried over from the previous run in ${outDir}`);
        }
        progress.phase = 'barriers';
        progress.phases = phases;
        await work.snapshot(store, 'stream');
        phase('checkpoint');
      }
      const { fileStats, rows } = progress.stream!;
      const counters: StageCounters[] = [...progress.stream!.counters];
      const barrierManifest: Record<string, unknown> = {};
      for (const stage of BARRIER_STAGES.filter((b) => b.enabled(config) && (role !== 'shard' || SHARD_STAGES.has(b.name)))) {
        let done = progress.barriers.find((b) => b.name === stage.name);
        if (!done) {
          log.event('stage_start', { stage: stage.name });
          const result = await stage.run({ store, config, baseDir: loaded.baseDir, artifactDir: work.modelDir, log, role });
          done = { name: stage.name, counters: result.counters, manifest: result.manifest };
          progress.barriers.push(done);
          phase(stage.name);
          progress.phases = phases;
          await work.snapshot(store, stage.name);
          phase('checkpoint');
        }
        counters.push(done.counters);
        if (done.manifest) barrierManifest[stage.name] = done.manifest;
      }

      const counts = await countOutcomes(store);
      if (counts.selected === 0 && counts.input > 0) log.warn(`no row was selected: all ${counts.input} were rejected (by reason: ${Object.entries(counts.rejected).map(([r, n]) => `${r} ${n}`).join(', ')}); the outputs are empty but complete`);
      if (counts.input !== rows) {
        throw new WinnowError(`internal: ${rows} rows were read but the run store holds ${counts.input}; outputs were not written`, 1);
      }
      await opts.onStore?.(store);
      log.event('stage_start', { stage: 'emit' });
      const metadata = [...new Set(config.sources.flatMap((s) => s.columns.metadata))];
      const embedDim = config.output.embeddings ? await embeddingDim(store) : null;
      const synthetic = 'augment' in barrierManifest;
      const columns = selectionColumns(metadata, quoteIdent, quoteLiteral, embedDim, 'select' in barrierManifest, synthetic);
      // Kept augmentations join the real rows in the outputs, flagged is_synthetic.
      if (synthetic) {
        await store.conn.run(`CREATE VIEW output_rows AS
          SELECT *, false AS is_synthetic, NULL::VARCHAR AS parent_id, NULL::VARCHAR AS aug_operator FROM samples
          UNION ALL BY NAME
          SELECT uid, id, source, file, "row", lang, label, text, text_chars, meta, status, reason, reason_detail, tokens, 'synthetic' AS select_by, is_synthetic, parent_id, aug_operator FROM augmentations`);
      }
      const rowsFrom = synthetic ? 'output_rows' : 'samples';
      const from = embedDim === null ? rowsFrom : `${rowsFrom} LEFT JOIN embeddings USING (uid)`;
      const selectList = ['uid', ...columns.map((c) => c.sql)].join(', ');
      // A shard has no budget yet (no tokens column): the merge makes the selection.
      if (role !== 'shard') await store.conn.run(`CREATE VIEW selection AS SELECT ${selectList} FROM ${from} WHERE status = 'selected'`);
      await recordRun(store, { runId, startedAt, config: loaded, counts, counters, fileStats, fingerprints });
      const ids = await idOrigins(store, config);

      // A join, a union or rows re-appended after a resume may reorder rows, so ORDER BY is needed
      // then; an uninterrupted plain scan keeps insertion order.
      const ordered = embedDim !== null || synthetic || progress.attempts > 1;
      const selectionQuery = `SELECT ${columns.map((c) => c.sql).join(', ')} FROM ${from} WHERE status = 'selected'${ordered ? ' ORDER BY uid' : ''}`;
      phase('record');
      // A shard's outputs are its store (rows, signatures, embeddings, picks) for the merge.
      const written: (keyof typeof OUTPUT_FILES)[] = role === 'shard' ? ['store', 'manifest'] : ['arrow', 'parquet', 'store', 'report', 'manifest'];
      if (role !== 'shard') {
        await writeArrowFile(store.conn, selectionQuery, columns, temps.arrow);
        phase('emit_arrow');
        await store.conn.run(`COPY (${selectionQuery}${ordered ? '' : ' ORDER BY uid'}) TO ${quoteLiteral(temps.parquet)} (FORMAT parquet, COMPRESSION zstd)`);
        phase('emit_parquet');
        await writeReport(store.conn, { outDir, name: config.name, runId, counts, stages: counters, budget: barrierManifest.budget as RunInfo['budget'], select: barrierManifest.select as RunInfo['select'], augment: barrierManifest.augment as RunInfo['augment'] }, temps.report);
        phase('report');
      }
      await store.close();
      phase('close_store');

      const seconds = (performance.now() - t0) / 1000;
      const manifest = {
        winnow_version: WINNOW_VERSION,
        run_id: runId,
        started_at: startedAt.toISOString(),
        finished_at: new Date().toISOString(),
        seconds,
        attempts: progress.attempts,
        pipeline: { origin: loaded.origin, config: config, config_hash: configHash(config) },
        inputs: fileStats.map((s) => ({ ...fingerprints.get(s.abs)!, source: s.source, file: s.file, format: s.format, rows: s.rows, blank_lines: s.blankLines })),
        counts: { ...counts, reconciled: counts.input === counts.selected + counts.rejected_total },
        ids,
        stages: counters,
        ...barrierManifest,
        phases,
        outputs: Object.fromEntries(written.map((k) => [k, OUTPUT_FILES[k]])),
        ...(opts.shard
          ? {
              shard: {
                index: opts.shard.index,
                count: opts.shard.count,
                config_hash: opts.shard.configHash,
                base_dir: loaded.baseDir,
                all_files: all.flatMap((p) => p.files.map((f) => ({ source: f.source, file: f.rel, abs: f.abs, format: f.format }))),
                candidates: config.stages.select.max_picks > 0 ? config.stages.select.max_picks : null,
              },
            }
          : {}),
        ...(opts.merge ? { merged_shards: opts.merge.map((s) => ({ dir: s.dir, run_id: s.manifest.run_id, index: s.manifest.shard.index })) } : {}),
        versions: packageVersions(),
      };
      await writeFile(temps.manifest, JSON.stringify(manifest, null, 2) + '\n');
      // Data files first, manifest last, through a journal: a killed commit is finished by the next command.
      const model = existsSync(work.modelDir) ? [{ from: work.modelDir, to: path.join(outDir, MODEL_DIR), dir: true }] : [];
      await commitOutputs(outDir, { moves: [...model, ...written.map((k) => ({ from: k === 'store' ? work.storePath : temps[k], to: finals[k] }))], cleanup: [work.dir] });
      log.event('run_done', { run_id: runId, seconds, counts });
      return { runId, outDir, counts, ids, stages: counters, budget: barrierManifest.budget as Record<string, unknown> | undefined, augment: barrierManifest.augment as Record<string, unknown> | undefined, phases, outputs: Object.fromEntries(written.map((k) => [k, finals[k]])) as RunSummary['outputs'], seconds };
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

/**
 * Reads every source through the streaming stages into the store. On a resume the sources are read
 * again from the start (cheap next to the stages) but batches already stored are skipped before
 * the stages; the counts restart from the checkpoint's.
 */
async function streamPhase(
  store: RunStore,
  planned: PlannedSource[],
  conn: DuckDBConnection,
  loaded: LoadedPipeline,
  log: Logger,
  resume: boolean,
  workers: number,
): Promise<NonNullable<Progress['stream']>> {
  const { config, baseDir } = loaded;
  const ctx: ReadContext = {
    nextUid: 0,
    batchSize: config.limits.batch_size,
    maxRowBytes: config.limits.max_row_bytes,
    previewChars: config.limits.quarantine_chars,
    warn: log.warn,
    bytesRead: 0,
  };
  const fileStats: FileStats[] = [];
  const readCounters: StageCounters = { stage: 'read', in: 0, out: 0, rejected: {}, seconds: 0 };
  const stages = STREAMING_STAGES.filter((d) => d.enabled(config)).map((d) => ({ name: d.name, stage: d.create(config, { baseDir }) }));
  const rewind = resume ? await store.rewindStream() : { nextUid: 0, counters: null };
  const committed = (rewind.counters as StageCounters[] | null) ?? ['read', ...stages.map((s) => s.name)].map((stage) => ({ stage, in: 0, out: 0, rejected: {}, seconds: 0 }));
  if (resume) log.event('stream_resume', { next_uid: rewind.nextUid });
  if (workers > 1) log.event('workers', { workers });
  const { output, counters: live, close } = executeStreaming(
    skipStored(prefetch(readSources(planned, ctx, conn, fileStats), config.limits.max_in_flight), rewind.nextUid),
    stages,
    { seed: config.seed, warn: log.warn },
    readCounters,
    { workers, config, baseDir },
  );
  try {
    const read = { done: () => ctx.bytesRead, total: inputBytes(planned) };
    return await drain(store, output, committed, live, rewind.nextUid, config, log, fileStats, read);
  } finally {
    await close();
  }
}

/** Appends the stages' output to the store, checkpointing the counts of what is stored. */
async function drain(
  store: RunStore,
  output: AsyncIterable<Batch>,
  committed: StageCounters[],
  live: StageCounters[],
  firstUid: number,
  config: LoadedPipeline['config'],
  log: Logger,
  fileStats: FileStats[],
  read: { done: () => number; total: number },
): Promise<NonNullable<Progress['stream']>> {
  let rows = firstUid;
  let lastCheckpoint = performance.now();
  for await (const batch of output) {
    await store.appendBatch(batch);
    addCounts(committed, countsOf(batch));
    rows = batch.uid[batch.size - 1]! + 1;
    if (performance.now() - lastCheckpoint >= config.limits.checkpoint_seconds * 1000) {
      await store.checkpointStream(rows, committed);
      lastCheckpoint = performance.now();
    }
    // Bytes read lead the rows stored by the batches in flight: the bar shows the reader's position.
    log.progress('read', rows, { done: Math.min(read.done(), read.total), total: read.total, unit: 'bytes' });
  }
  log.endProgress();
  store.flush();
  // Seconds are this attempt's, added to the interrupted attempts' (kept in the checkpoint).
  committed.forEach((c, k) => (c.seconds += live[k]?.seconds ?? 0));
  return { counters: committed, fileStats, rows: fileStats.reduce((a, f) => a + f.rows, 0) };
}

/** Bytes of the input files to read (what decides how many workers pay off). */
function inputBytes(planned: PlannedSource[]): number {
  return planned.reduce((a, p) => a + p.files.reduce((b, f) => b + (existsSync(f.abs) ? statSync(f.abs).size : 0), 0), 0);
}

/** Drops batches whose rows are all below `nextUid` (stored before the run was interrupted). */
async function* skipStored(batches: AsyncIterable<Batch>, nextUid: number): AsyncGenerator<Batch> {
  for await (const b of batches) {
    if (b.size === 0 || b.uid[b.size - 1]! < nextUid) continue;
    yield b;
  }
}

/** The embedding dimension of this run, or a config error when embeddings were asked for but not made. */
async function embeddingDim(store: RunStore): Promise<number> {
  const r = await store.conn.runAndReadAll(`SELECT dim FROM duckdb_tables() t, embedding_model WHERE t.table_name = 'embedding_model' LIMIT 1`).catch(() => null);
  const dim = r?.getRows()[0]?.[0];
  if (dim === undefined || dim === null) throw new ConfigError('output.embeddings: true needs the embed stage (stages.embed.enabled: true)');
  return Number(dim);
}

async function countOutcomes(store: RunStore): Promise<RunCounts> {
  const r = await store.conn.runAndReadAll(`SELECT status, reason, count(*) FROM samples GROUP BY ALL ORDER BY ALL`);
  const counts: RunCounts = { input: 0, selected: 0, rejected: {}, rejected_total: 0 };
  for (const [status, reason, n] of r.getRows()) {
    const k = Number(n);
    counts.input += k;
    if (status === 'selected') counts.selected += k;
    else {
      counts.rejected[String(reason)] = k;
      counts.rejected_total += k;
    }
  }
  return counts;
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

async function recordRun(
  store: RunStore,
  r: { runId: string; startedAt: Date; config: LoadedPipeline; counts: RunCounts; counters: StageCounters[]; fileStats: FileStats[]; fingerprints: Map<string, FileFingerprint> },
): Promise<void> {
  const c = store.conn;
  await c.run(
    `INSERT INTO runs VALUES ($1, $2::TIMESTAMP, now()::TIMESTAMP, 'completed', $3, $4, $5, $6, $7, $8, $9)`,
    [r.runId, r.startedAt.toISOString(), r.config.origin, configHash(r.config.config), r.config.config.seed, WINNOW_VERSION, r.counts.input, r.counts.selected, r.counts.rejected_total],
  );
  for (const s of r.counters) {
    await c.run(`INSERT INTO stages VALUES ($1, $2, $3, $4::JSON, $5)`, [s.stage, s.in, s.out, JSON.stringify(s.rejected), s.seconds]);
  }
  for (const f of r.fileStats) {
    const fp = r.fingerprints.get(f.abs)!;
    await c.run(`INSERT INTO files VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, [f.source, f.file, f.abs, f.format, fp.size, fp.mtime, fp.sha256, f.rows, f.blankLines]);
  }
}
