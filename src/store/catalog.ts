import type { DuckDBConnection } from '@duckdb/node-api';
import { quoteLiteral } from './sql.js';

/**
 * What a run store holds: stages add columns, tables and views only when they run, so later stages,
 * the report and the CLI ask before they read. `database` narrows the question to one attached
 * database (a shard's store, an earlier run, the state store); without it any database answers.
 */
async function exists(conn: DuckDBConnection, sql: string): Promise<boolean> {
  return Number((await conn.runAndReadAll(sql)).getRows()[0]![0]) > 0;
}

const inDatabase = (database?: string): string => (database === undefined ? '' : ` AND database_name = ${quoteLiteral(database)}`);

export function hasColumn(conn: DuckDBConnection, table: string, column: string, database?: string): Promise<boolean> {
  return exists(conn, `SELECT count(*) FROM duckdb_columns() WHERE table_name = ${quoteLiteral(table)} AND column_name = ${quoteLiteral(column)}${inDatabase(database)}`);
}

export function hasTable(conn: DuckDBConnection, table: string, database?: string): Promise<boolean> {
  return exists(conn, `SELECT count(*) FROM duckdb_tables() WHERE table_name = ${quoteLiteral(table)}${inDatabase(database)}`);
}

export function hasView(conn: DuckDBConnection, view: string, database?: string): Promise<boolean> {
  return exists(conn, `SELECT count(*) FROM duckdb_views() WHERE view_name = ${quoteLiteral(view)}${inDatabase(database)}`);
}
