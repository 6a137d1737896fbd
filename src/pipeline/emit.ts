import { ALIVE } from '../core/reasons.js';
import type { LoadedPipeline } from '../config/load.js';
import { ConfigError, WinnowError } from '../core/errors.js';
import { writeArrowFile } from '../emit/arrow.js';
import { selectionColumns } from '../emit/columns.js';
import { writeReport } from '../report/write.js';
import type { FileStats } from '../sources/read.js';
import type { FileFingerprint } from '../sources/fingerprint.js';
import type { StageCounters } from '../stages/runner.js';
import type { BarrierManifests } from './manifest.js';
import type { RunStore } from '../store/run-store.js';
import { quoteIdent, quoteLiteral } from '../store/sql.js';
import type { Logger } from '../util/log.js';
import { WINNOW_VERSION } from '../util/versions.js';
import type { PhaseClock } from './phase-clock.js';
import { configHash, type RunRole } from './plan.js';
import type { OutputName } from './outputs.js';
import type { RunCounts } from './run.js';

export interface IdOrigins {
  /** The id column of each source that has one. */
  columns: Record<string, string>;
  from_column: number;
  derived: number;
}

/** Every row's outcome, checked against the rows read: a run that lost rows writes nothing. */
export async function checkedCounts(store: RunStore, rowsRead: number, log: Logger): Promise<RunCounts> {
  const counts = await countOutcomes(store);
  if (counts.selected === 0 && counts.input > 0)
    log.warn(
      `no row was selected: all ${counts.input} were rejected (by reason: ${Object.entries(counts.rejected)
        .map(([r, n]) => `${r} ${n}`)
        .join(', ')}); the outputs are empty but complete`,
    );
  if (counts.input !== rowsRead) {
    throw new WinnowError(`internal: ${rowsRead} rows were read but the run store holds ${counts.input}; outputs were not written`, 1);
  }
  return counts;
}

export interface EmitInput {
  store: RunStore;
  loaded: LoadedPipeline;
  role: RunRole;
  runId: string;
  startedAt: Date;
  outDir: string;
  attempts: number;
  counts: RunCounts;
  counters: StageCounters[];
  barrierManifest: BarrierManifests;
  fileStats: FileStats[];
  fingerprints: Map<string, FileFingerprint>;
  temps: Record<OutputName, string>;
  clock: PhaseClock;
}

/**
 * The run's record in the store (runs, stages, files, the selection view) and, except for a shard
 * (whose output is its store), selection.arrow, selection.parquet and report.html under temporary
 * names. Returns which outputs the run has and where its ids came from.
 */
export async function emitOutputs(a: EmitInput): Promise<{ written: OutputName[]; ids: IdOrigins }> {
  const { store, loaded, role, temps, clock } = a;
  const config = loaded.config;
  const metadata = [...new Set(config.sources.flatMap((s) => s.columns.metadata))];
  const embedDim = config.output.embeddings ? await embeddingDim(store) : null;
  const synthetic = 'augment' in a.barrierManifest;
  const columns = selectionColumns(metadata, quoteIdent, quoteLiteral, embedDim, 'select' in a.barrierManifest, synthetic);
  // Kept augmentations join the real rows in the outputs, flagged is_synthetic.
  if (synthetic) {
    await store.conn.run(`CREATE VIEW output_rows AS
      SELECT *, false AS is_synthetic, NULL::VARCHAR AS parent_id, NULL::VARCHAR AS aug_operator FROM samples
      UNION ALL BY NAME
      SELECT uid, id, source, file, "row", lang, label, text, text_chars, meta, status, reason, reason_detail, tokens, 'synthetic' AS select_by, is_synthetic, parent_id, aug_operator FROM augmentations`);
  }
  const rowsFrom = synthetic ? 'output_rows' : 'samples';
  const from = embedDim === null ? rowsFrom : `${rowsFrom} LEFT JOIN embeddings USING (uid)`;
  // A shard has no budget yet (no tokens column): the merge makes the selection.
  if (role !== 'shard') await store.conn.run(`CREATE VIEW selection AS SELECT ${['uid', ...columns.map((c) => c.sql)].join(', ')} FROM ${from} WHERE ${ALIVE}`);
  await recordRun(store, { runId: a.runId, startedAt: a.startedAt, config: loaded, counts: a.counts, counters: a.counters, fileStats: a.fileStats, fingerprints: a.fingerprints });
  const ids = await idOrigins(store, config);
  // A join, a union or rows re-appended after a resume may reorder rows, so ORDER BY is needed
  // then; an uninterrupted plain scan keeps insertion order.
  const ordered = embedDim !== null || synthetic || a.attempts > 1;
  const selectionQuery = `SELECT ${columns.map((c) => c.sql).join(', ')} FROM ${from} WHERE ${ALIVE}${ordered ? ' ORDER BY uid' : ''}`;
  clock.done('record');
  if (role === 'shard') return { written: ['store', 'manifest'], ids };
  await writeArrowFile(store.conn, selectionQuery, columns, temps.arrow);
  clock.done('emit_arrow');
  await store.conn.run(`COPY (${selectionQuery}${ordered ? '' : ' ORDER BY uid'}) TO ${quoteLiteral(temps.parquet)} (FORMAT parquet, COMPRESSION zstd)`);
  clock.done('emit_parquet');
  const m = a.barrierManifest;
  await writeReport(
    store.conn,
    {
      outDir: a.outDir,
      name: config.name,
      runId: a.runId,
      counts: a.counts,
      stages: a.counters,
      budget: m.budget,
      select: m.select,
      augment: m.augment,
    },
    temps.report,
  );
  clock.done('report');
  return { written: ['arrow', 'parquet', 'store', 'report', 'manifest'], ids };
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

async function recordRun(
  store: RunStore,
  r: { runId: string; startedAt: Date; config: LoadedPipeline; counts: RunCounts; counters: StageCounters[]; fileStats: FileStats[]; fingerprints: Map<string, FileFingerprint> },
): Promise<void> {
  const c = store.conn;
  await c.run(`INSERT INTO runs VALUES ($1, $2::TIMESTAMP, now()::TIMESTAMP, 'completed', $3, $4, $5, $6, $7, $8, $9)`, [
    r.runId,
    r.startedAt.toISOString(),
    r.config.origin,
    configHash(r.config.config),
    r.config.config.seed,
    WINNOW_VERSION,
    r.counts.input,
    r.counts.selected,
    r.counts.rejected_total,
  ]);
  for (const s of r.counters) {
    await c.run(`INSERT INTO stages VALUES ($1, $2, $3, $4::JSON, $5)`, [s.stage, s.in, s.out, JSON.stringify(s.rejected), s.seconds]);
  }
  for (const f of r.fileStats) {
    const fp = r.fingerprints.get(f.abs)!;
    await c.run(`INSERT INTO files VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, [f.source, f.file, f.abs, f.format, fp.size, fp.mtime, fp.sha256, f.rows, f.blankLines]);
  }
}

/** Counts rows whose id came from the input against rows with a derived id (source:file:row). */
async function idOrigins(store: RunStore, config: LoadedPipeline['config']): Promise<IdOrigins> {
  const r = await store.conn.runAndReadAll(`SELECT count(*) FILTER (id = source::VARCHAR || ':' || file::VARCHAR || ':' || "row")::BIGINT, count(*)::BIGINT FROM samples`);
  const [derived, all] = r.getRows()[0]!.map(Number) as [number, number];
  const columns = Object.fromEntries(config.sources.flatMap((s) => (s.columns.id ? [[s.name, s.columns.id]] : [])));
  return { columns, from_column: all - derived, derived };
}
