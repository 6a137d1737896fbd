import { createHash, randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import type { LoadedPipeline } from '../config/load.js';
import { ConfigError, WinnowError } from '../core/errors.js';
import { writeArrowFile } from '../emit/arrow.js';
import { commit, commitDir, removeStalePartials, tempPathFor } from '../emit/atomic.js';
import { selectionColumns } from '../emit/columns.js';
import { fingerprint, type FileFingerprint } from '../sources/fingerprint.js';
import { planSources, readSources, type FileStats } from '../sources/read.js';
import type { ReadContext } from '../sources/record.js';
import { prefetch } from '../stages/concurrency.js';
import { BARRIER_STAGES, STREAMING_STAGES } from '../stages/registry.js';
import { runStages, type StageCounters } from '../stages/runner.js';
import type { RunInfo } from '../report/collect.js';
import { writeReport } from '../report/write.js';
import { carryLabels } from '../store/labels.js';
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
  stages: StageCounters[];
  /** The budget stage's plan and achieved totals. */
  budget?: Record<string, unknown>;
  /** The augment stage's manifest (synthetic tokens and the unique / repeated / synthetic split), when it ran. */
  augment?: Record<string, unknown>;
  /** Wall seconds of each phase of the run, for the manifest and benchmarks. */
  phases: Record<string, number>;
  outputs: Record<keyof typeof OUTPUT_FILES, string>;
  seconds: number;
}

export interface RunOptions {
  outDir: string;
  log: Logger;
  /** Called with the complete run store before the outputs are written (used by `winnow embed`). */
  onStore?: (store: RunStore) => Promise<void>;
}

/**
 * One run: plan (every check that can fail before work), stream sources through the stages into
 * the run store, then emit the selection. Outputs appear under their final names only at the end.
 */
export async function runPipeline(loaded: LoadedPipeline, opts: RunOptions): Promise<RunSummary> {
  const { config } = loaded;
  const t0 = performance.now();
  const startedAt = new Date();
  const runId = randomUUID();
  const outDir = path.resolve(opts.outDir);
  const phases: Record<string, number> = {};
  let mark = performance.now();
  const phase = (name: string): void => {
    const now = performance.now();
    phases[name] = (now - mark) / 1000;
    mark = now;
  };

  const scratch = await DuckDBInstance.create(':memory:', { threads: String(config.store.threads ?? 2) });
  const conn = await scratch.connect();
  try {
    const planned = await planSources(config, loaded.baseDir, conn);
    await mkdir(outDir, { recursive: true });
    await removeStalePartials(outDir);
    const fingerprints = new Map<string, FileFingerprint>();
    for (const f of planned.flatMap((p) => p.files)) fingerprints.set(f.abs, await fingerprint(f.abs));
    phase('plan');

    const finals = Object.fromEntries(Object.entries(OUTPUT_FILES).map(([k, v]) => [k, path.join(outDir, v)])) as Record<keyof typeof OUTPUT_FILES, string>;
    const temps = Object.fromEntries(Object.entries(finals).map(([k, v]) => [k, tempPathFor(v)])) as Record<keyof typeof OUTPUT_FILES, string>;
    const modelTemp = tempPathFor(path.join(outDir, MODEL_DIR));
    const store = await RunStore.create(temps.store, {
      memoryLimit: config.store.memory_limit,
      threads: config.store.threads,
      sources: config.sources.map((s) => s.name),
      files: planned.flatMap((p) => p.files.map((f) => f.rel)),
      extraColumns: STREAMING_STAGES.filter((d) => d.enabled(config)).flatMap((d) => d.columns ?? []),
    });
    try {
      const ctx: ReadContext = {
        nextUid: 0,
        batchSize: config.limits.batch_size,
        maxRowBytes: config.limits.max_row_bytes,
        previewChars: config.limits.quarantine_chars,
        warn: opts.log.warn,
      };
      const fileStats: FileStats[] = [];
      const readCounters: StageCounters = { stage: 'read', in: 0, out: 0, rejected: {}, seconds: 0 };
      const stages = STREAMING_STAGES.filter((d) => d.enabled(config)).map((d) => ({ name: d.name, stage: d.create(config) }));
      const { output, counters } = runStages(
        prefetch(readSources(planned, ctx, conn, fileStats), config.limits.max_in_flight),
        stages,
        { seed: config.seed, warn: opts.log.warn },
        readCounters,
      );
      let rows = 0;
      for await (const batch of output) {
        await store.appendBatch(batch);
        rows += batch.size;
        opts.log.progress('read', rows);
      }
      opts.log.endProgress();
      store.flush();
      phase('stream');
      // Labels imported into the previous run of this output folder feed this run's selection.
      if (existsSync(finals.store)) {
        const carried = await carryLabels(store.conn, finals.store);
        if (carried > 0) opts.log.info(`labels: ${carried} imported labels carried over from the previous run in ${outDir}`);
      }
      const barrierManifest: Record<string, unknown> = {};
      for (const stage of BARRIER_STAGES.filter((b) => b.enabled(config))) {
        const result = await stage.run({ store, config, baseDir: loaded.baseDir, artifactDir: modelTemp, log: opts.log });
        counters.push(result.counters);
        if (result.manifest) barrierManifest[stage.name] = result.manifest;
        phase(stage.name);
      }

      const counts = await countOutcomes(store);
      if (counts.input !== rows) {
        throw new WinnowError(`internal: ${rows} rows were read but the run store holds ${counts.input}; outputs were not written`, 1);
      }
      await opts.onStore?.(store);
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
      await store.conn.run(`CREATE VIEW selection AS SELECT ${selectList} FROM ${from} WHERE status = 'selected'`);
      await recordRun(store, { runId, startedAt, config: loaded, counts, counters, fileStats, fingerprints });

      // A join or a union may reorder rows, so only then is ORDER BY needed; a plain scan keeps insertion order.
      const ordered = embedDim !== null || synthetic;
      const selectionQuery = `SELECT ${columns.map((c) => c.sql).join(', ')} FROM ${from} WHERE status = 'selected'${ordered ? ' ORDER BY uid' : ''}`;
      phase('record');
      await writeArrowFile(store.conn, selectionQuery, columns, temps.arrow);
      phase('emit_arrow');
      await store.conn.run(`COPY (${selectionQuery}${ordered ? '' : ' ORDER BY uid'}) TO ${quoteLiteral(temps.parquet)} (FORMAT parquet, COMPRESSION zstd)`);
      phase('emit_parquet');
      await writeReport(store.conn, { outDir, name: config.name, runId, counts, stages: counters, budget: barrierManifest.budget as RunInfo['budget'], select: barrierManifest.select as RunInfo['select'], augment: barrierManifest.augment as RunInfo['augment'] }, temps.report);
      phase('report');
      await store.close();
      phase('close_store');

      const seconds = (performance.now() - t0) / 1000;
      const manifest = {
        winnow_version: WINNOW_VERSION,
        run_id: runId,
        started_at: startedAt.toISOString(),
        finished_at: new Date().toISOString(),
        seconds,
        pipeline: { origin: loaded.origin, config: config, config_hash: configHash(config) },
        inputs: fileStats.map((s) => ({ ...fingerprints.get(s.abs)!, source: s.source, file: s.file, format: s.format, rows: s.rows, blank_lines: s.blankLines })),
        counts: { ...counts, reconciled: counts.input === counts.selected + counts.rejected_total },
        stages: counters,
        ...barrierManifest,
        phases,
        outputs: Object.fromEntries(Object.entries(OUTPUT_FILES).map(([k, v]) => [k, v])),
        versions: packageVersions(),
      };
      await writeFile(temps.manifest, JSON.stringify(manifest, null, 2) + '\n');
      // Data files first, manifest last: a manifest under its final name means the run completed.
      if (existsSync(modelTemp)) await commitDir(modelTemp, path.join(outDir, MODEL_DIR));
      for (const k of ['arrow', 'parquet', 'store', 'report', 'manifest'] as const) await commit(temps[k], finals[k]);
      return { runId, outDir, counts, stages: counters, budget: barrierManifest.budget as Record<string, unknown> | undefined, augment: barrierManifest.augment as Record<string, unknown> | undefined, phases, outputs: finals, seconds };
    } catch (err) {
      await store.close().catch(() => undefined);
      await Promise.all([...Object.values(temps).flatMap((t) => [rm(t, { force: true }), rm(`${t}.wal`, { force: true })]), rm(modelTemp, { recursive: true, force: true })]);
      throw err;
    }
  } finally {
    conn.closeSync();
    scratch.closeSync();
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
