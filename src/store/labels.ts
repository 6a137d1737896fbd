import type { DuckDBConnection } from '@duckdb/node-api';
import { quoteLiteral } from './sql.js';

/**
 * The active-learning record of a run store: every export (which rows were asked for and why) and
 * every import (which labels came back) is a numbered round. Labels are keyed by the stable sample
 * id, so they survive into the next run, whose row uids differ.
 */
export const LABEL_TABLES_DDL = [
  `CREATE TABLE IF NOT EXISTS label_rounds (round INTEGER, kind VARCHAR, done_at TIMESTAMP, file VARCHAR, rows INTEGER, strategy VARCHAR)`,
  `CREATE TABLE IF NOT EXISTS label_requests (round INTEGER, id VARCHAR, rank INTEGER, picked_by VARCHAR, why VARCHAR)`,
  `CREATE TABLE IF NOT EXISTS labels (id VARCHAR, label VARCHAR, round INTEGER, line INTEGER)`,
];

export async function createLabelTables(conn: DuckDBConnection): Promise<void> {
  for (const ddl of LABEL_TABLES_DDL) await conn.run(ddl);
}

/** The latest label of each id (a later round overrides an earlier one). */
export const LATEST_LABELS = `SELECT id, label FROM labels QUALIFY row_number() OVER (PARTITION BY id ORDER BY round DESC, line DESC) = 1`;

/** Copies the label rounds of an earlier run store (the previous run in the same output folder). */
export async function carryLabels(conn: DuckDBConnection, previousStore: string): Promise<number> {
  await conn.run(`ATTACH ${quoteLiteral(previousStore)} AS prev (READ_ONLY)`);
  try {
    const has = await conn.runAndReadAll(`SELECT count(*) FROM duckdb_tables() WHERE database_name = 'prev' AND table_name IN ('labels', 'label_rounds', 'label_requests')`);
    if (Number(has.getRows()[0]![0]) < 3) return 0;
    await conn.run(`INSERT INTO label_rounds SELECT * FROM prev.label_rounds; INSERT INTO label_requests SELECT * FROM prev.label_requests; INSERT INTO labels SELECT * FROM prev.labels`);
    return Number((await conn.runAndReadAll('SELECT count(*) FROM labels')).getRows()[0]![0]);
  } finally {
    await conn.run('DETACH prev');
  }
}

/** Writes the latest imported labels into samples.label (annotators override labels from the data). */
export async function applyLabels(conn: DuckDBConnection): Promise<number> {
  const r = await conn.runAndReadAll(`UPDATE samples SET label = l.label FROM (${LATEST_LABELS}) l WHERE samples.id = l.id`);
  return r.rowsChanged;
}
