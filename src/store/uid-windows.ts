import type { DuckDBConnection, DuckDBValue } from '@duckdb/node-api';

/** uids per window: a window's rows are all DuckDB sorts or joins at a time. */
export const UID_WINDOW = 65_536;

/**
 * Half-open uid ranges [a, b) covering the uids of `from` (a table, or a table with a WHERE), in
 * order. A statement over every row at once (a sort of every text, a join updating 900,000 rows)
 * held several hundred MB of DuckDB memory at 1M rows; one per window holds a window's. Rows are
 * stored in uid order, so DuckDB reads a window from the row groups that hold it.
 */
export async function* uidRanges(conn: DuckDBConnection, from: string, window = UID_WINDOW): AsyncGenerator<[bigint, bigint]> {
  const [[lo, hi]] = (await conn.runAndReadAll(`SELECT min(uid), max(uid) FROM ${from}`)).getRows() as [[bigint | null, bigint | null]];
  if (lo === null || hi === null) return;
  for (let a = lo; a <= hi; a += BigInt(window)) yield [a, a + BigInt(window)];
}

/** The rows of `SELECT columns FROM samples WHERE where` in uid order, a window at a time. */
export async function* rowsByUid(conn: DuckDBConnection, columns: string, where: string, window = UID_WINDOW): AsyncGenerator<DuckDBValue[][]> {
  for await (const [a, b] of uidRanges(conn, `samples WHERE ${where}`, window)) {
    yield (await conn.runAndReadAll(`SELECT ${columns} FROM samples WHERE ${where} AND uid >= ${a} AND uid < ${b} ORDER BY uid`)).getRows();
  }
}
