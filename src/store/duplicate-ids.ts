import type { DuckDBConnection } from '@duckdb/node-api';

/**
 * Ids that more than one input row carries. The rows stay apart in the store (uid tells them apart),
 * but a label imported for such an id labels all of them and a join on id multiplies: worth a warning.
 */
export async function duplicateIdWarning(conn: DuckDBConnection): Promise<string | null> {
  const r = await conn.runAndReadAll(`SELECT count(*)::INTEGER, sum(n)::INTEGER, min(id) FROM (SELECT id, count(*) AS n FROM samples GROUP BY id HAVING count(*) > 1)`);
  const [ids, rows, example] = r.getRows()[0]! as [number, number | null, string | null];
  if (ids === 0) return null;
  return `${ids} id(s) occur on more than one row (${rows} rows; e.g. "${example}"): the rows are kept apart, but a label imported for such an id labels every one of them. Give each row its own id (sources[].columns.id), leave the id column out to derive one per row, or set limits.duplicate_ids (keep_first, error)`;
}
