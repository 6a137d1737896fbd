import { INTEGER, VARCHAR, type DuckDBConnection } from '@duckdb/node-api';
import { ConfigError } from '../core/errors.js';
import { appendColumns } from '../store/append.js';
import { quoteLiteral } from '../store/sql.js';

/**
 * Checks that a `where` filter is one SQL expression before any data is read, so a typo stops the
 * run at start-up with the key path instead of after an hour of reading.
 */
export async function checkWhereSyntax(conn: DuckDBConnection, where: string, keyPath: string): Promise<void> {
  const sql = `SELECT * FROM t WHERE (${where})`;
  const r = await conn.runAndReadAll(`SELECT json_serialize_sql(${quoteLiteral(sql)}) AS j`);
  const parsed = JSON.parse(String(r.getRows()[0]![0])) as { error?: boolean; error_message?: string; statements?: { node?: WhereNode }[] };
  if (parsed.error || (parsed.statements?.length ?? 0) !== 1) {
    throw new ConfigError(`${keyPath}: not a valid SQL boolean expression: ${parsed.error_message ?? 'expected exactly one expression'}`);
  }
  // One expression over the row's fields: a closing parenthesis cannot smuggle in a second query
  // (`true) UNION ALL SELECT ... WHERE (true`), and a subquery cannot read other tables or files.
  const node = parsed.statements![0]!.node;
  if (node?.type !== 'SELECT_NODE' || node.from_table?.type !== 'BASE_TABLE' || node.from_table.table_name !== 't') {
    throw new ConfigError(`${keyPath}: must be one SQL expression over the row's fields (it reads as more than one query)`);
  }
  if (JSON.stringify(node.where_clause ?? null).includes('"SUBQUERY"')) {
    throw new ConfigError(`${keyPath}: subqueries are not allowed in a filter; use an expression over the row's fields`);
  }
}

interface WhereNode {
  type?: string;
  from_table?: { type?: string; table_name?: string };
  where_clause?: unknown;
}

/**
 * Evaluates a source's `where` expression on rows that were parsed outside DuckDB (JSONL, text), so
 * every format filters with the same SQL dialect. Each row's fields become typed columns.
 */
export class RowPredicate {
  private ready = false;
  constructor(
    private readonly conn: DuckDBConnection,
    private readonly where: string,
    private readonly keyPath: string,
  ) {}

  /** Returns, for each object, whether the expression is true (null objects give false). */
  async evaluate(rows: (Record<string, unknown> | null)[]): Promise<boolean[]> {
    const keep = new Array<boolean>(rows.length).fill(false);
    const types = new Map<string, string>();
    const idx: number[] = [];
    const json: string[] = [];
    rows.forEach((r, i) => {
      if (r === null) return;
      idx.push(i);
      json.push(JSON.stringify(r));
      for (const [k, v] of Object.entries(r)) types.set(k, mergeType(types.get(k), v));
    });
    if (idx.length === 0) return keep;
    if (!this.ready) {
      await this.conn.run('CREATE OR REPLACE TEMP TABLE __where_rows (i INTEGER, j VARCHAR)');
      this.ready = true;
    } else await this.conn.run('DELETE FROM __where_rows');
    const app = await this.conn.createAppender('__where_rows');
    appendColumns(app, [INTEGER, VARCHAR], [idx, json]);
    app.closeSync();
    const structure = JSON.stringify(Object.fromEntries(types));
    const sql = `SELECT i FROM (SELECT i, unnest(json_transform(j, ${quoteLiteral(structure)})) FROM __where_rows) WHERE (${this.where})`;
    let res;
    try {
      res = await this.conn.runAndReadAll(sql);
    } catch (err) {
      throw new ConfigError(`${this.keyPath}: the filter failed on this data: ${(err as Error).message.split('\n')[0]}`);
    }
    for (const [i] of res.getRows()) keep[Number(i)] = true;
    return keep;
  }
}

function mergeType(prev: string | undefined, v: unknown): string {
  const t = v === null || v === undefined ? undefined : typeof v === 'number' ? 'DOUBLE' : typeof v === 'boolean' ? 'BOOLEAN' : typeof v === 'string' ? 'VARCHAR' : 'JSON';
  if (t === undefined) return prev ?? 'VARCHAR';
  if (prev === undefined || prev === t) return t;
  return prev === 'JSON' || t === 'JSON' ? 'JSON' : 'VARCHAR';
}
