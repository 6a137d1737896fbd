import { ALIVE } from '../core/reasons.js';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { ConfigError } from '../core/errors.js';
import { hasTable } from '../store/catalog.js';
import { quoteLiteral } from '../store/sql.js';

export const STATE_DB = 'state.duckdb';

/**
 * The state of an incremental job, one DuckDB file in the state folder:
 * - `runs`: every run, with its status ('running' until its results are folded in), counts and output folder;
 * - `files`: every input file version ever read, by fingerprint; `active` is false once a changed
 *   version superseded it;
 * - `ledger`: every input row of every run with its outcome; `superseded_by` marks rows of a file
 *   version that a later run re-read, so current rows = ledger rows with superseded_by IS NULL;
 * - `kept_index` + `dedup_params`: the kept texts of current rows; the view `dedup_index` leaves out the
 *   files a pending run re-reads (`index_exclusions`), and is what the dedup stage reads, exactly like an
 *   earlier run's index. Excluding instead of deleting keeps the index whole if that run is abandoned.
 */
const DDL = [
  `CREATE TABLE IF NOT EXISTS runs (
    seq INTEGER, run_id VARCHAR, started_at TIMESTAMP, finished_at TIMESTAMP, status VARCHAR, out_dir VARCHAR,
    new_files INTEGER, changed_files INTEGER, unchanged_files INTEGER, missing_files INTEGER,
    input_rows BIGINT, selected_rows BIGINT, rejected_rows BIGINT, superseded_rows BIGINT)`,
  `CREATE TABLE IF NOT EXISTS files (
    source VARCHAR, file VARCHAR, path VARCHAR, size BIGINT, mtime VARCHAR, sha256 VARCHAR, "rows" BIGINT,
    run_seq INTEGER, active BOOLEAN, superseded_by INTEGER)`,
  `CREATE TABLE IF NOT EXISTS ledger (
    run_seq INTEGER, uid BIGINT, id VARCHAR, source VARCHAR, file VARCHAR, "row" BIGINT, status VARCHAR, reason VARCHAR, superseded_by INTEGER)`,
  `CREATE TABLE IF NOT EXISTS index_exclusions (seq INTEGER, source VARCHAR, file VARCHAR)`,
  `CREATE OR REPLACE VIEW current_rows AS SELECT * FROM ledger WHERE superseded_by IS NULL`,
];

export interface RunRow {
  seq: number;
  run_id: string | null;
  started_at: string;
  finished_at: string | null;
  status: string;
  out_dir: string | null;
  new_files: number;
  changed_files: number;
  unchanged_files: number;
  missing_files: number;
  input_rows: number | null;
  selected_rows: number | null;
  rejected_rows: number | null;
  superseded_rows: number | null;
}

export interface ActiveFile {
  source: string;
  file: string;
  size: number;
  mtime: string;
  sha256: string;
}

export type FileChange = 'new' | 'changed' | 'unchanged';

/** Opened for one short step at a time: the run itself must be able to attach the file read-only. */
export class StateStore {
  private constructor(
    private readonly instance: DuckDBInstance,
    readonly conn: DuckDBConnection,
  ) {}

  static async open(stateDir: string, opts: { create: boolean }): Promise<StateStore> {
    const file = path.join(stateDir, STATE_DB);
    if (!opts.create && !existsSync(file)) throw new ConfigError(`${stateDir} is not a winnow state folder (no ${STATE_DB}); it is made by \`winnow run <pipeline> --state ${stateDir}\``);
    const instance = await DuckDBInstance.create(file, opts.create ? {} : { access_mode: 'READ_ONLY' });
    const conn = await instance.connect();
    if (opts.create) for (const ddl of DDL) await conn.run(ddl);
    return new StateStore(instance, conn);
  }

  async rows<T>(sql: string, params: (string | number | null)[] = []): Promise<T[]> {
    const r = await this.conn.runAndReadAll(sql, params);
    return r.getRowObjectsJson() as T[];
  }

  async runs(): Promise<RunRow[]> {
    return this.rows<RunRow>(`SELECT * EXCLUDE (started_at, finished_at), started_at::VARCHAR AS started_at, finished_at::VARCHAR AS finished_at FROM runs ORDER BY seq`);
  }

  /** The run that was started but never folded in (killed, or failed): the next run resumes it. */
  async pending(): Promise<RunRow | null> {
    return (await this.runs()).find((r) => r.status === 'running') ?? null;
  }

  async activeFiles(): Promise<Map<string, ActiveFile>> {
    const rows = await this.rows<ActiveFile & { size: number | string }>(`SELECT source, file, size, mtime, sha256 FROM files WHERE active`);
    return new Map(rows.map((r) => [`${r.source}\u0000${r.file}`, { ...r, size: Number(r.size) }]));
  }

  async begin(seq: number, outDir: string, counts: Record<FileChange | 'missing', number>): Promise<void> {
    await this.conn.run(`INSERT INTO runs (seq, started_at, status, out_dir, new_files, changed_files, unchanged_files, missing_files) VALUES ($1, now()::TIMESTAMP, 'running', $2, $3, $4, $5, $6)`, [
      seq,
      outDir,
      counts.new,
      counts.changed,
      counts.unchanged,
      counts.missing,
    ]);
  }

  async nextSeq(): Promise<number> {
    const [r] = await this.rows<{ s: number }>(`SELECT coalesce(max(seq), 0)::INTEGER + 1 AS s FROM runs`);
    return r!.s;
  }

  async markAbandoned(seq: number): Promise<void> {
    await this.conn.run(`UPDATE runs SET status = 'abandoned', finished_at = now()::TIMESTAMP WHERE seq = $1`, [seq]);
    await this.conn.run(`DELETE FROM index_exclusions WHERE seq = $1`, [seq]);
  }

  /** A run that found nothing new or changed is recorded, without an output folder. */
  async recordNoChanges(seq: number, unchanged: number, missing: number): Promise<void> {
    await this.conn.run(`INSERT INTO runs VALUES ($1, NULL, now()::TIMESTAMP, now()::TIMESTAMP, 'no_changes', NULL, 0, 0, $2, $3, 0, 0, 0, 0)`, [seq, unchanged, missing]);
  }

  /** Before a run that re-reads changed files: their earlier versions' kept texts must not reject the new versions. */
  async excludeFromIndex(seq: number, changed: readonly { source: string; file: string }[]): Promise<void> {
    for (const f of changed) await this.conn.run(`INSERT INTO index_exclusions VALUES ($1, $2, $3)`, [seq, f.source, f.file]);
  }

  /** Whether the state holds its dedup index yet (the first run with dedup creates it). */
  hasIndex(): Promise<boolean> {
    return hasTable(this.conn, 'kept_index', 'state');
  }

  /**
   * Folds a completed run into the state in one transaction, from what its own store recorded (the
   * files it read with their fingerprints, every row's outcome, the kept texts): earlier versions of
   * the files it read and their rows are superseded, its files, rows and kept texts added. A crash
   * before COMMIT leaves the state as it was, and the run (complete on disk) is folded in next time.
   */
  async foldIn(seq: number, runStore: string): Promise<{ superseded: number }> {
    const c = this.conn;
    await c.run(`ATTACH ${quoteLiteral(runStore)} AS run (READ_ONLY)`);
    try {
      await c.run('BEGIN TRANSACTION');
      try {
        const [sup] = await this.rows<{ n: number }>(`SELECT count(*)::INTEGER AS n FROM ledger l WHERE l.superseded_by IS NULL AND (l.source, l.file) IN (SELECT (source, file) FROM run.files)`);
        await c.run(`UPDATE ledger SET superseded_by = ${seq} WHERE superseded_by IS NULL AND (source, file) IN (SELECT (source, file) FROM run.files)`);
        await c.run(`UPDATE files SET active = false, superseded_by = ${seq} WHERE active AND (source, file) IN (SELECT (source, file) FROM run.files)`);
        await c.run(`INSERT INTO files SELECT source, file, path, size, mtime, sha256, "rows", ${seq}, true, NULL FROM run.files`);
        await c.run(`INSERT INTO ledger SELECT ${seq}, uid, id, source::VARCHAR, file::VARCHAR, "row", status::VARCHAR, reason, NULL FROM run.samples`);
        if (await hasTable(c, 'dedup_index', 'run')) {
          await c.run(`CREATE TABLE IF NOT EXISTS dedup_params AS SELECT * FROM run.dedup_params`);
          await c.run(`CREATE TABLE IF NOT EXISTS kept_index AS SELECT * FROM run.dedup_index LIMIT 0`);
          await c.run(`CREATE OR REPLACE VIEW dedup_index AS SELECT * FROM kept_index WHERE (source, file) NOT IN (SELECT (source, file) FROM index_exclusions)`);
          await c.run(`DELETE FROM kept_index WHERE (source, file) IN (SELECT (source, file) FROM run.files)`);
          // Kept rows of later runs come after earlier ones: earlier text leads any cluster it is in.
          await c.run(`INSERT INTO kept_index SELECT (SELECT coalesce(max(ord), 0) FROM kept_index) + ord, id, key_hash, text, bands, source, file FROM run.dedup_index WHERE source IS NOT NULL`);
        }
        await c.run(`DELETE FROM index_exclusions WHERE seq = $1`, [seq]);
        await c.run(
          `UPDATE runs SET status = 'completed', finished_at = now()::TIMESTAMP,
             run_id = (SELECT run_id FROM run.runs LIMIT 1),
             input_rows = (SELECT count(*) FROM run.samples),
             selected_rows = (SELECT count(*) FILTER (${ALIVE}) FROM run.samples),
             rejected_rows = (SELECT count(*) FILTER (status = 'rejected') FROM run.samples),
             superseded_rows = $1
           WHERE seq = $2`,
          [sup!.n, seq],
        );
        await c.run('COMMIT');
        return { superseded: sup!.n };
      } catch (err) {
        await c.run('ROLLBACK').catch(() => undefined);
        throw err;
      }
    } finally {
      await c.run('DETACH run');
    }
  }

  close(): void {
    this.conn.closeSync();
    this.instance.closeSync();
  }
}
