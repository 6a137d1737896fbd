import { existsSync } from 'node:fs';
import path from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { LoadedPipeline } from '../config/load.js';
import type { Batch } from '../core/batch.js';
import { embeddingCacheDir } from '../embed/cache-dir.js';
import { executeStreaming, workerCount } from '../executors/local-pool.js';
import { assembleShards } from '../jobs/merge.js';
import type { Progress, WorkDir } from '../jobs/work-dir.js';
import { assertUnchanged } from '../sources/fingerprint.js';
import { readSources, type FileStats, type PlannedSource } from '../sources/read.js';
import type { ReadContext } from '../sources/record.js';
import { prefetch } from '../stages/concurrency.js';
import { STREAMING_STAGES } from '../stages/registry.js';
import { addCounts, countsOf, type StageCounters } from '../stages/runner.js';
import { duplicateIdWarning } from '../store/duplicate-ids.js';
import { carryLabels } from '../store/labels.js';
import type { RunStore } from '../store/run-store.js';
import type { Logger } from '../util/log.js';
import type { PhaseClock } from './phase-clock.js';
import type { RunPlan } from './plan.js';
import type { RunOptions } from './run.js';

/**
 * The streaming phase: the sources (or, for a merge, the shards' rows) through the streaming stages
 * into the run store; then the checks that need every row read (inputs unchanged, repeated ids),
 * labels imported into the previous run carried over, and a snapshot the barrier stages resume from.
 */
export async function streamIntoStore(a: {
  store: RunStore;
  plan: RunPlan;
  conn: DuckDBConnection;
  loaded: LoadedPipeline;
  opts: RunOptions;
  work: WorkDir;
  clock: PhaseClock;
  previousStore: string;
}): Promise<void> {
  const { store, plan, loaded, opts, work, clock } = a;
  const { config } = loaded;
  const { log, outDir } = opts;
  const progress = work.progress;
  const streaming = STREAMING_STAGES.filter((d) => d.enabled(config));
  // The planned files' sizes, from their fingerprints: what decides how many workers pay off, and the progress total.
  const bytes = plan.planned.flatMap((p) => p.files).reduce((a, f) => a + plan.fingerprints.get(f.abs)!.size, 0);
  progress.stream = opts.merge
    ? await assembleShards(
        store,
        opts.merge,
        plan.planned,
        ['read', ...streaming.map((d) => d.name)],
        streaming.flatMap((d) => d.columns ?? []).map((c) => c.name),
        embeddingCacheDir(config.stages.embed.cache, loaded.baseDir) ?? path.join(outDir, 'embed-cache'),
      )
    : await streamPhase(store, plan.planned, a.conn, loaded, log, work.resumed, workerCount(opts.workers ?? config.execution.workers, bytes), bytes);
  if (!opts.merge) for (const f of plan.planned.flatMap((p) => p.files)) await assertUnchanged(plan.fingerprints.get(f.abs)!);
  const dupIds = config.limits.duplicate_ids === 'warn' ? await duplicateIdWarning(store.conn) : null;
  if (dupIds) log.warn(dupIds);
  clock.done('stream');
  // Labels imported into the previous run of this output folder feed this run's selection.
  if (existsSync(a.previousStore)) {
    const carried = await carryLabels(store.conn, a.previousStore);
    if (carried > 0) log.info(`labels: ${carried} imported labels carried over from the previous run in ${outDir}`);
  }
  progress.phase = 'barriers';
  progress.phases = clock.phases;
  await work.snapshot(store, 'stream');
  clock.done('checkpoint');
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
  totalBytes: number,
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
  const {
    output,
    counters: live,
    close,
  } = executeStreaming(skipStored(prefetch(readSources(planned, ctx, conn, fileStats), config.limits.max_in_flight), rewind.nextUid), stages, { seed: config.seed, warn: log.warn }, readCounters, {
    workers,
    config,
    baseDir,
  });
  try {
    const read = { done: () => ctx.bytesRead, total: totalBytes };
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

/** Drops batches whose rows are all below `nextUid` (stored before the run was interrupted). */
async function* skipStored(batches: AsyncIterable<Batch>, nextUid: number): AsyncGenerator<Batch> {
  for await (const b of batches) {
    if (b.size === 0 || b.uid[b.size - 1]! < nextUid) continue;
    yield b;
  }
}
