import { stat } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { JOURNAL } from '../../emit/commit.js';
import { DuckDBInstance } from '@duckdb/node-api';
import type { Command } from 'commander';
import { ConfigError, InputError } from '../../core/errors.js';
import { storeTablesHelp } from '../../store/tables.js';

type Format = 'table' | 'json' | 'csv';

export function registerQuery(program: Command): void {
  program
    .command('query')
    .description('run SQL on a run store (read-only); `winnow query --help` lists the tables')
    .argument('<run>', 'a run output folder or its results.duckdb')
    .argument('<sql>', 'the SQL to run')
    .option('--format <format>', 'table, json or csv', 'table')
    .option('--allow-files', "let the SQL read and write files and attach databases (read_parquet, COPY ... TO, ATTACH); off by default, so a query cannot change a run's outputs")
    .addHelpText(
      'after',
      `\nTables and views of a run store ([only with]):\n${storeTablesHelp()}\n\nExample:\n  winnow query out/quickstart "select reason, count(*) from samples where status = 'rejected' group by all"\n`,
    )
    .action(async (run: string, sql: string, flags: { format: string; allowFiles?: boolean }) => {
      if (!['table', 'json', 'csv'].includes(flags.format)) throw new ConfigError(`--format must be table, json or csv (got "${flags.format}")`);
      process.stdout.write(await runQuery(run, sql, flags.format as Format, { allowFiles: flags.allowFiles === true }));
    });
}

export async function resolveStore(run: string): Promise<string> {
  const st = await stat(run).catch(() => null);
  if (st === null) throw new InputError(`${run} does not exist; give a run output folder or a results.duckdb file`);
  const file = st.isDirectory() ? path.join(run, 'results.duckdb') : run;
  if (existsSync(path.join(path.dirname(file), JOURNAL))) {
    process.stderr.write(
      `warning: ${path.dirname(file)} is mid-commit (a run is putting its outputs in place, or was killed doing so; the next \`winnow run\` with this --out completes it): results.duckdb may be the previous run's\n`,
    );
  }
  if (!(await stat(file).catch(() => null))?.isFile()) throw new InputError(`${file} not found: is ${run} the output folder of a completed run?`);
  return file;
}

/**
 * DuckDB opens a store READ_ONLY, but COPY ... TO, EXPORT DATABASE, ATTACH ... (READ_WRITE),
 * read_text and INSTALL still reach the file system and the network: without --allow-files a query
 * connection has no external access, installs or loads no extension, and cannot turn either back on.
 */
const LOCKED_DOWN = { enable_external_access: 'false', autoinstall_known_extensions: 'false', autoload_known_extensions: 'false', lock_configuration: 'true' };

/** Column names and JSON-safe rows of a query on a run store (read-only, locked down unless allowFiles). */
export async function queryStoreRows(run: string, sql: string, opts: { allowFiles?: boolean } = {}): Promise<{ names: string[]; rows: unknown[][] }> {
  const file = await resolveStore(run);
  const instance = await DuckDBInstance.create(file, { access_mode: 'READ_ONLY', ...(opts.allowFiles ? {} : LOCKED_DOWN) });
  const conn = await instance.connect();
  try {
    let reader;
    try {
      reader = await conn.runAndReadAll(sql);
    } catch (err) {
      const msg = (err as Error).message;
      const hint = /Permission Error|disabled by configuration/.test(msg) ? ' (queries cannot read or write files; add --allow-files to let them)' : '';
      throw new ConfigError(`query failed: ${msg}${hint}`);
    }
    return { names: reader.columnNames(), rows: reader.getRowsJson() as unknown[][] };
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
}

/** A query's rows as objects keyed by column name (JSON-safe values: BIGINT as strings). */
export async function queryStoreObjects<T = Record<string, unknown>>(run: string, sql: string, opts: { allowFiles?: boolean } = {}): Promise<T[]> {
  const { names, rows } = await queryStoreRows(run, sql, opts);
  return rows.map((r) => Object.fromEntries(names.map((n, i) => [n, r[i]])) as T);
}

export async function runQuery(run: string, sql: string, format: Format, opts: { allowFiles?: boolean } = {}): Promise<string> {
  if (format === 'json') return JSON.stringify(await queryStoreObjects(run, sql, opts)) + '\n';
  const { names, rows } = await queryStoreRows(run, sql, opts);
  if (format === 'csv') return [names.map(csvCell).join(','), ...rows.map((r) => r.map(csvCell).join(','))].join('\n') + '\n';
  return formatTable(names, rows);
}

function cellText(v: unknown): string {
  if (v === null || v === undefined) return 'NULL';
  return typeof v === 'string' ? v : JSON.stringify(v);
}

function csvCell(v: unknown): string {
  if (v === null || v === undefined) return '';
  const s = cellText(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

function formatTable(names: string[], rows: unknown[][]): string {
  const cells = rows.map((r) => r.map((v) => cellText(v).replace(/\n/g, '\\n')));
  const widths = names.map((n, j) => Math.min(60, Math.max(n.length, ...cells.map((r) => [...r[j]!].length))));
  const fit = (s: string, w: number): string => {
    const chars = [...s];
    return chars.length > w ? chars.slice(0, w - 1).join('') + '…' : s + ' '.repeat(w - chars.length);
  };
  const line = (r: string[]): string => r.map((c, j) => fit(c, widths[j]!)).join(' | ');
  return [line(names), widths.map((w) => '-'.repeat(w)).join('-+-'), ...cells.map(line), `(${rows.length} row${rows.length === 1 ? '' : 's'})`].join('\n') + '\n';
}
