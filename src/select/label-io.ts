import { existsSync, statSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { DuckDBInstance, INTEGER, VARCHAR, type DuckDBConnection } from '@duckdb/node-api';
import { ConfigError, InputError } from '../core/errors.js';
import { acquireLock } from '../jobs/lock.js';
import { KEPT_SQL } from '../core/reasons.js';
import { commit, tempPathFor } from '../emit/atomic.js';
import { MatMulKernel } from '../onnx/kernels.js';
import { hasTable, hasView } from '../store/catalog.js';
import { createLabelTables, LATEST_LABELS } from '../store/labels.js';
import { appendColumns } from '../store/append.js';
import { quoteLiteral } from '../store/sql.js';
import { labelledSet, readStorePool } from './store-pool.js';
import { selectRows, SelectionContext, type StrategyName } from './strategies.js';

async function openRun(runDir: string): Promise<{ instance: DuckDBInstance; conn: DuckDBConnection }> {
  const file = path.join(runDir, 'results.duckdb');
  if (!existsSync(file)) throw new InputError(`${runDir} has no results.duckdb (give the output folder of a finished winnow run)`);
  const instance = await DuckDBInstance.create(file);
  const conn = await instance.connect();
  await createLabelTables(conn);
  return { instance, conn };
}

async function nextRound(conn: DuckDBConnection): Promise<number> {
  return Number((await conn.runAndReadAll('SELECT coalesce(max(round), 0) + 1 FROM label_rounds')).getRows()[0]![0]);
}

export interface ExportOptions {
  n: number;
  format: 'csv' | 'jsonl';
  /** Default: <run>/label-round-<round>.<format>. */
  out?: string;
  strategy: StrategyName;
  seed?: number;
}

/**
 * Picks the next `n` rows to annotate with the run's embeddings and every label known so far (from
 * the data, from earlier imports), writes them with the reason each was picked, and records the
 * round. Rows already asked for in an earlier round and not yet labelled are not asked for again.
 */
export async function exportLabelBatch(runDir: string, opts: ExportOptions): Promise<{ file: string; rows: number; round: number }> {
  const { instance, conn } = await openRun(runDir);
  try {
    if (!(await hasView(conn, 'embeddings'))) throw new ConfigError(`${runDir} has no embeddings: run the pipeline with stages.embed enabled before exporting rows to label`);
    // Rows worth labelling: kept by every filter and dedup (the budget may still have left them out).
    const sp = await readStorePool(conn, KEPT_SQL, { ids: true });
    const ids = sp.ids!;
    const latest = new Map((await conn.runAndReadAll(LATEST_LABELS)).getRows().map(([id, l]) => [String(id), String(l)]));
    const labels = ids.map((id, i) => latest.get(id) ?? sp.labels[i]!);
    const pending = new Set((await conn.runAndReadAll('SELECT DISTINCT id FROM label_requests')).getRows().map((r) => String(r[0])));
    const exclude = Uint8Array.from(ids, (id, i) => (labels[i] === null && pending.has(id) ? 1 : 0));
    const { labelled, y, classes } = labelledSet(labels);
    const round = await nextRound(conn);
    const kernel = await MatMulKernel.open('cpu');
    let picks;
    try {
      picks = await selectRows(new SelectionContext(sp.pool, kernel, opts.seed ?? 0), {
        strategy: opts.strategy,
        count: opts.n,
        labelled,
        labels: y,
        classes: Math.max(classes.length, 1),
        exclude,
        seed: (opts.seed ?? 0) + round,
      });
    } finally {
      await kernel.release();
    }
    const uids = picks.map((p) => sp.uids[p.index]!);
    const info = new Map<bigint, { text: string | null; lang: string | null }>();
    if (uids.length > 0) {
      for (const [uid, text, lang] of (await conn.runAndReadAll(`SELECT uid, text, lang FROM samples WHERE uid IN (${uids.join(',')})`)).getRows())
        info.set(uid as bigint, { text: text as string | null, lang: lang as string | null });
    }
    const rows = picks.map((p, r) => ({
      id: ids[p.index]!,
      text: info.get(sp.uids[p.index]!)?.text ?? '',
      lang: info.get(sp.uids[p.index]!)?.lang ?? '',
      label: '',
      picked_by: p.by,
      why: Object.entries(p.signals)
        .map(([k, v]) => `${k}=${v.toFixed(3)}`)
        .join(' '),
      rank: r,
    }));
    const file = path.resolve(opts.out ?? path.join(runDir, `label-round-${round}.${opts.format}`));
    const tmp = tempPathFor(file);
    await writeFile(tmp, opts.format === 'csv' ? toCsv(rows) : rows.map(({ rank: _r, ...o }) => JSON.stringify(o)).join('\n') + (rows.length ? '\n' : ''));
    await conn.run('BEGIN TRANSACTION');
    await conn.run('INSERT INTO label_rounds VALUES ($1, $2, now()::TIMESTAMP, $3, $4, $5)', [round, 'export', file, rows.length, opts.strategy]);
    const app = await conn.createAppender('label_requests');
    appendColumns(app, [INTEGER, VARCHAR, INTEGER, VARCHAR, VARCHAR], [rows.map(() => round), rows.map((r) => r.id), rows.map((r) => r.rank), rows.map((r) => r.picked_by), rows.map((r) => r.why)]);
    app.closeSync();
    await conn.run('COMMIT');
    await commit(tmp, file);
    return { file, rows: rows.length, round };
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
}

const CSV_COLUMNS = ['id', 'text', 'lang', 'label', 'picked_by', 'why'] as const;

function toCsv(rows: Record<(typeof CSV_COLUMNS)[number], string>[]): string {
  const q = (v: string): string => (/[",\n\r]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
  return [CSV_COLUMNS.join(','), ...rows.map((r) => CSV_COLUMNS.map((c) => q(r[c])).join(','))].join('\n') + '\n';
}

interface LabelRow {
  where: string;
  id: string | null;
  label: string | null;
}

/** Reads id/label rows of a CSV/TSV (through DuckDB's CSV reader) or JSONL file, each with its location. */
async function readLabelFile(conn: DuckDBConnection, file: string): Promise<LabelRow[]> {
  if (!existsSync(file)) throw new InputError(`label file ${file} does not exist`);
  if (/\.jsonl?$/i.test(file)) {
    // A byte order mark (some editors save one) is not part of the first record.
    const lines = (await readFile(file, 'utf8')).replace(/^\uFEFF/, '').split('\n');
    const out: LabelRow[] = [];
    lines.forEach((line, i) => {
      if (line.trim() === '') return;
      let o: unknown;
      try {
        o = JSON.parse(line);
      } catch {
        out.push({ where: `line ${i + 1}`, id: null, label: null });
        return;
      }
      const r = (o ?? {}) as Record<string, unknown>;
      const str = (v: unknown): string | null => (v === undefined || v === null ? null : typeof v === 'object' ? JSON.stringify(v) : String(v));
      out.push({ where: `line ${i + 1}`, id: str(r.id), label: str(r.label) });
    });
    return out;
  }
  if (!/\.(csv|tsv)$/i.test(file)) throw new ConfigError(`label file ${file}: use a .csv, .tsv or .jsonl file`);
  const sep = /\.tsv$/i.test(file) ? '\t' : ',';
  const r = await conn.runAndReadAll(`SELECT * FROM read_csv(${quoteLiteral(file)}, header = true, all_varchar = true, delim = ${quoteLiteral(sep)}, quote = '"', escape = '"')`).catch((e: Error) => {
    throw new InputError(`cannot read ${file} as ${sep === '\t' ? 'TSV' : 'CSV'}: ${e.message.split('\n')[0]}`);
  });
  const names = r.columnNames();
  for (const need of ['id', 'label']) if (!names.includes(need)) throw new InputError(`${file}: no "${need}" column (columns: ${names.join(', ')})`);
  const iId = names.indexOf('id');
  const iLabel = names.indexOf('label');
  return r.getRows().map((row, i) => ({ where: `row ${i + 1}`, id: row[iId] as string | null, label: row[iLabel] as string | null }));
}

/**
 * Validates a file of labels against the run and merges it as a new round, all or nothing: a row
 * without an id, an id the run does not have, an id given twice, or a label outside the known label
 * set is an error, and every offending row is listed. Rows with an empty label are skipped (not yet
 * annotated). The known label set is the run's (data labels, `stages.select.labels`, earlier
 * imports) plus `extraLabels`.
 */
export async function importLabels(runDir: string, file: string, extraLabels: string[] = []): Promise<{ round: number; imported: number; skipped: number }> {
  // A run committing its outputs replaces the store: an import while one holds the folder would be lost.
  if (!existsSync(runDir)) return importLocked(runDir, file, extraLabels); // which reports the missing run
  const folder = statSync(runDir).isDirectory() ? runDir : path.dirname(runDir);
  const lock = await acquireLock(folder, 'winnow label import');
  try {
    return await importLocked(runDir, file, extraLabels);
  } finally {
    await lock.release();
  }
}

async function importLocked(runDir: string, file: string, extraLabels: string[]): Promise<{ round: number; imported: number; skipped: number }> {
  const { instance, conn } = await openRun(runDir);
  try {
    const rows = await readLabelFile(conn, path.resolve(file));
    const hasSet = await hasTable(conn, 'label_set');
    const known = new Set<string>(extraLabels);
    const setSql = `SELECT DISTINCT label FROM samples WHERE label IS NOT NULL UNION SELECT DISTINCT label FROM labels${hasSet ? ' UNION SELECT label FROM label_set' : ''}`;
    for (const [l] of (await conn.runAndReadAll(setSql)).getRows()) known.add(String(l));
    const ids = new Set<string>();
    const wanted = [...new Set(rows.map((r) => r.id).filter((v): v is string => v !== null && v !== ''))];
    if (wanted.length > 0) {
      await conn.run('CREATE TEMP TABLE wanted_ids (id VARCHAR)');
      const app = await conn.createAppender('wanted_ids');
      appendColumns(app, [VARCHAR], [wanted]);
      app.closeSync();
      for (const [id] of (await conn.runAndReadAll('SELECT DISTINCT w.id FROM wanted_ids w JOIN samples s USING (id)')).getRows()) ids.add(String(id));
    }
    const problems: string[] = [];
    const firstSeen = new Map<string, string>();
    let skipped = 0;
    const accepted: { id: string; label: string; line: number }[] = [];
    rows.forEach((r, i) => {
      if (r.id === null || r.id === '') return void problems.push(`${r.where}: no id`);
      if (!ids.has(r.id)) problems.push(`${r.where}: id "${r.id}" is not a row of this run`);
      const dup = firstSeen.get(r.id);
      if (dup) problems.push(`${r.where}: id "${r.id}" is given again (first at ${dup})`);
      else firstSeen.set(r.id, r.where);
      if (r.label === null || r.label.trim() === '') {
        skipped++;
        return;
      }
      if (!known.has(r.label)) problems.push(`${r.where}: label "${r.label}" is not a known label (known: ${[...known].sort().join(', ') || 'none; pass --labels'})`);
      accepted.push({ id: r.id, label: r.label, line: i + 1 });
    });
    if (problems.length > 0) {
      const shown = problems.slice(0, 25).map((p) => `  ${p}`);
      if (problems.length > 25) shown.push(`  ... and ${problems.length - 25} more`);
      throw new InputError(`${file}: ${problems.length} problem(s), nothing was imported:\n${shown.join('\n')}`);
    }
    const round = await nextRound(conn);
    await conn.run('BEGIN TRANSACTION');
    await conn.run('INSERT INTO label_rounds VALUES ($1, $2, now()::TIMESTAMP, $3, $4, NULL)', [round, 'import', path.resolve(file), accepted.length]);
    const app = await conn.createAppender('labels');
    appendColumns(app, [VARCHAR, VARCHAR, INTEGER, INTEGER], [accepted.map((a) => a.id), accepted.map((a) => a.label), accepted.map(() => round), accepted.map((a) => a.line)]);
    app.closeSync();
    await conn.run('COMMIT');
    return { round, imported: accepted.length, skipped };
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
}
