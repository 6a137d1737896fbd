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

/**
 * The run store's persistent objects: table and view names, and `samples.<column>` for each column
 * of samples (temporary tables are a stage's scratch and left out). Used to hold barrier stages to
 * the writes they declare.
 */
export async function storeObjects(conn: DuckDBConnection): Promise<Set<string>> {
  const rows = (
    await conn.runAndReadAll(`SELECT table_name FROM duckdb_tables() WHERE NOT temporary AND database_name = current_database()
      UNION ALL SELECT view_name FROM duckdb_views() WHERE NOT temporary AND NOT internal AND database_name = current_database()
      UNION ALL SELECT 'samples.' || column_name FROM duckdb_columns() WHERE table_name = 'samples' AND schema_name = 'main' AND database_name = current_database()`)
  ).getRows();
  return new Set(rows.map((r) => String(r[0])));
}
