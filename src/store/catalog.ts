import type { DuckDBConnection } from '@duckdb/node-api';
import { quoteLiteral } from './sql.js';

/**
 * What a run store holds: stages add columns, tables and views only when they run, so later stages,
 * the report and the CLI ask before they read.
 */
async function exists(conn: DuckDBConnection, sql: string): Promise<boolean> {
  return Number((await conn.runAndReadAll(sql)).getRows()[0]![0]) > 0;
}

export function hasColumn(conn: DuckDBConnection, table: string, column: string): Promise<boolean> {
  return exists(conn, `SELECT count(*) FROM duckdb_columns() WHERE table_name = ${quoteLiteral(table)} AND column_name = ${quoteLiteral(column)}`);
}

export function hasTable(conn: DuckDBConnection, table: string): Promise<boolean> {
  return exists(conn, `SELECT count(*) FROM duckdb_tables() WHERE table_name = ${quoteLiteral(table)}`);
}

export function hasView(conn: DuckDBConnection, view: string): Promise<boolean> {
  return exists(conn, `SELECT count(*) FROM duckdb_views() WHERE view_name = ${quoteLiteral(view)}`);
}
