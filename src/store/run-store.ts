import { BIGINT, DOUBLE, DuckDBInstance, ENUM, INTEGER, VARCHAR, type DuckDBAppender, type DuckDBConnection, type DuckDBType } from '@duckdb/node-api';
import type { Batch } from '../core/batch.js';
import { codePointLength } from '../util/text.js';
import type { ExtraColumn } from '../stages/stage.js';
import { appendChunks, appendColumns } from './append.js';
import { createLabelTables } from './labels.js';
import { quoteIdent, quoteLiteral } from './sql.js';

/**
 * `source`, `file` and `status` are ENUMs: their values are known before the first row is read, and
 * an ENUM appends as a small integer instead of re-encoding the same string for every row.
 */
/** DuckDB refuses an ENUM without values; a shard with no files has none (it holds no rows either). */
const enumValues = (values: readonly string[]): string[] => (values.length > 0 ? [...new Set(values)] : ['']);

export function samplesDdl(sources: readonly string[], files: readonly string[], extra: readonly ExtraColumn[] = []): string {
  const enumOf = (values: readonly string[]): string => `ENUM(${enumValues(values).map(quoteLiteral).join(', ')})`;
  return `CREATE TABLE samples (
  uid BIGINT NOT NULL,
  id VARCHAR NOT NULL,
  source ${enumOf(sources)} NOT NULL,
  file ${enumOf(files)} NOT NULL,
  "row" BIGINT NOT NULL,
  lang VARCHAR,
  label VARCHAR,
  text VARCHAR,
  text_chars INTEGER,
  meta JSON,
  status ${enumOf(STATUSES)} NOT NULL,
  reason VARCHAR,
  reason_detail VARCHAR${extra
    .map(
      (c) => `,
  ${quoteIdent(c.name)} ${c.type}`,
    )
    .join('')}
)`;
}

export const STATUSES = ['selected', 'rejected'] as const;

const OTHER_DDL = [
  `CREATE TABLE runs (
    run_id VARCHAR, started_at TIMESTAMP, finished_at TIMESTAMP, status VARCHAR, pipeline VARCHAR,
    config_hash VARCHAR, seed BIGINT, winnow_version VARCHAR, input_rows BIGINT, selected_rows BIGINT, rejected_rows BIGINT
  )`,
  `CREATE TABLE quarantine (uid BIGINT, source VARCHAR, file VARCHAR, "row" BIGINT, reason VARCHAR, detail VARCHAR, raw VARCHAR)`,
  `CREATE TABLE stages (stage VARCHAR, rows_in BIGINT, rows_out BIGINT, rejected JSON, seconds DOUBLE)`,
  // A resumable run's streaming checkpoints: rows with uid below next_uid are stored, with these counts.
  `CREATE TABLE stream_checkpoint (next_uid BIGINT, counters JSON, written_at TIMESTAMP)`,
  `CREATE TABLE files (source VARCHAR, file VARCHAR, path VARCHAR, format VARCHAR, size BIGINT, mtime VARCHAR, sha256 VARCHAR, rows BIGINT, blank_lines BIGINT)`,
];

export interface StoreOptions {
  memoryLimit: string;
  threads?: number;
  /** Every source name and input file (relative name) the run will read. */
  sources: readonly string[];
  files: readonly string[];
  /** Columns the streaming stages add to samples, after the fixed ones. */
  extraColumns?: readonly ExtraColumn[];
}

/**
 * The run store: one DuckDB file that records what happened to every input row. Rows arrive batch
 * by batch through DuckDB data chunks (the appender), never row-by-row INSERTs.
 */
export class RunStore {
  private samplesAppender: DuckDBAppender | null = null;
  private readonly sampleTypes: DuckDBType[];
  private constructor(
    readonly instance: DuckDBInstance,
    readonly conn: DuckDBConnection,
    readonly path: string,
    opts: StoreOptions,
  ) {
    const e = (values: readonly string[]): DuckDBType => ENUM(enumValues(values));
    this.extraColumns = opts.extraColumns ?? [];
    this.sampleTypes = [
      BIGINT,
      VARCHAR,
      e(opts.sources),
      e(opts.files),
      BIGINT,
      VARCHAR,
      VARCHAR,
      VARCHAR,
      INTEGER,
      VARCHAR,
      e(STATUSES),
      VARCHAR,
      VARCHAR,
      ...this.extraColumns.map((c) => (c.type === 'DOUBLE' ? DOUBLE : c.type === 'INTEGER' ? INTEGER : VARCHAR)),
    ];
  }

  private readonly extraColumns: readonly ExtraColumn[];

  static async create(path: string, opts: StoreOptions): Promise<RunStore> {
    const store = await RunStore.open(path, opts);
    await store.conn.run(samplesDdl(opts.sources, opts.files, opts.extraColumns ?? []));
    for (const ddl of OTHER_DDL) await store.conn.run(ddl);
    await createLabelTables(store.conn);
    return store;
  }

  /** Opens a store file: a new one (create adds the tables) or the work store of an interrupted run. */
  static async open(path: string, opts: StoreOptions): Promise<RunStore> {
    const settings: Record<string, string> = { memory_limit: opts.memoryLimit, preserve_insertion_order: 'true' };
    if (opts.threads !== undefined) settings.threads = String(opts.threads);
    const instance = await DuckDBInstance.create(path, settings);
    const conn = await instance.connect();
    return new RunStore(instance, conn, path, opts);
  }

  /**
   * Records that every row below `nextUid` is stored, with the counts they carried; rows are
   * flushed first so the mark never runs ahead of the data.
   */
  async checkpointStream(nextUid: number, counters: unknown): Promise<void> {
    this.flush();
    await this.conn.run(`INSERT INTO stream_checkpoint VALUES ($1, $2::JSON, now()::TIMESTAMP)`, [nextUid, JSON.stringify(counters)]);
  }

  /**
   * Rewinds an interrupted streaming phase to its last checkpoint: rows stored after it are deleted
   * (they will be read again). Returns the uid to resume from and the counts at that point.
   */
  async rewindStream(): Promise<{ nextUid: number; counters: unknown }> {
    const r = await this.conn.runAndReadAll(`SELECT next_uid, counters::VARCHAR FROM stream_checkpoint ORDER BY next_uid DESC LIMIT 1`);
    const row = r.getRows()[0];
    const nextUid = row ? Number(row[0]) : 0;
    await this.conn.run(`DELETE FROM samples WHERE uid >= ${nextUid}; DELETE FROM quarantine WHERE uid >= ${nextUid}`);
    return { nextUid, counters: row ? JSON.parse(String(row[1])) : null };
  }

  async appendBatch(b: Batch): Promise<void> {
    this.samplesAppender ??= await this.conn.createAppender('samples');
    const quarantined: number[] = [];
    appendChunks(this.samplesAppender, this.sampleTypes, b.size, (chunk, off, n) => {
      const uid = new Array<bigint>(n);
      const row = new Array<bigint>(n);
      const chars = new Array<number | null>(n);
      const status = new Array<string>(n);
      const source = new Array<string>(n).fill(b.source);
      const file = new Array<string>(n).fill(b.file);
      for (let k = 0; k < n; k++) {
        const i = off + k;
        uid[k] = BigInt(b.uid[i]!);
        row[k] = BigInt(b.row[i]!);
        const t = b.text[i];
        chars[k] = t === null || t === undefined ? null : codePointLength(t);
        status[k] = b.reason[i] === null ? 'selected' : 'rejected';
        if (b.raw[i] !== null) quarantined.push(i);
      }
      chunk.setColumns([
        uid,
        b.id.slice(off, off + n),
        source,
        file,
        row,
        b.lang.slice(off, off + n),
        b.label.slice(off, off + n),
        b.text.slice(off, off + n),
        chars,
        b.meta.slice(off, off + n),
        status,
        b.reason.slice(off, off + n),
        b.detail.slice(off, off + n),
        ...this.extraColumns.map((c) => b.extra[c.name]?.slice(off, off + n) ?? new Array<null>(n).fill(null)),
      ]);
    });
    if (quarantined.length > 0) await this.appendQuarantine(b, quarantined);
  }

  private async appendQuarantine(b: Batch, rows: number[]): Promise<void> {
    const app = await this.conn.createAppender('quarantine');
    appendColumns(
      app,
      [BIGINT, VARCHAR, VARCHAR, BIGINT, VARCHAR, VARCHAR, VARCHAR],
      [
        rows.map((i) => BigInt(b.uid[i]!)),
        rows.map(() => b.source),
        rows.map(() => b.file),
        rows.map((i) => BigInt(b.row[i]!)),
        rows.map((i) => b.reason[i] ?? null),
        rows.map((i) => b.detail[i] ?? null),
        rows.map((i) => b.raw[i] ?? null),
      ],
    );
    app.closeSync();
  }

  /** Flushes buffered rows so queries see them. */
  flush(): void {
    this.samplesAppender?.closeSync();
    this.samplesAppender = null;
  }

  /** Writes the WAL into the database file, so the file alone holds everything (for snapshots). */
  async checkpoint(): Promise<void> {
    this.flush();
    await this.conn.run('CHECKPOINT');
  }

  async close(): Promise<void> {
    await this.checkpoint();
    this.conn.closeSync();
    this.instance.closeSync();
  }
}
