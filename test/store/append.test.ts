import { ARRAY, BIGINT, DuckDBInstance, FLOAT, VARCHAR } from '@duckdb/node-api';
import { describe, expect, it } from 'vitest';
import { setArrayColumn } from '../../src/embed/vector-chunk.js';
import { appendChunks, appendColumns, CHUNK_ROWS } from '../../src/store/append.js';
import { fixture } from '../helpers.js';

describe('store appends', () => {
  it('append more rows than one DuckDB vector holds, typed vectors included, in order and whole', async () => {
    const rows = fixture('sib200/hau_Latn').slice(0, 1000);
    // 2.5 vectors' worth of rows: a single data chunk of this size is what DuckDB refuses.
    const n = Math.floor(2.5 * CHUNK_ROWS);
    const texts = Array.from({ length: n }, (_, i) => rows[i % rows.length]!.text);
    const dim = 3;
    const vectors = Float32Array.from({ length: n * dim }, (_, k) => k / dim);
    const instance = await DuckDBInstance.create(':memory:');
    const c = await instance.connect();
    try {
      await c.run(`CREATE TABLE t (uid BIGINT, text VARCHAR, v FLOAT[${dim}])`);
      const app = await c.createAppender('t');
      appendChunks(app, [BIGINT, VARCHAR, ARRAY(FLOAT, dim)], n, (chunk, off, m) => {
        chunk.setColumnValues(
          0,
          Array.from({ length: m }, (_, k) => BigInt(off + k)),
        );
        chunk.setColumnValues(1, texts.slice(off, off + m));
        setArrayColumn(chunk, 2, vectors.subarray(off * dim, (off + m) * dim));
      });
      app.closeSync();
      await c.run('CREATE TABLE u (uid BIGINT, text VARCHAR)');
      const app2 = await c.createAppender('u');
      appendColumns(app2, [BIGINT, VARCHAR], [Array.from({ length: n }, (_, i) => BigInt(i)), texts]);
      app2.closeSync();
      const [row] = (await c.runAndReadAll(`SELECT count(*), count(DISTINCT uid), min(uid), max(uid), bool_and(v[1] = uid), sum(length(text)) FROM t`)).getRows();
      expect(row!.map(Number)).toEqual([n, n, 0, n - 1, 1, texts.reduce((a, t) => a + [...t].length, 0)]);
      const [same] = (await c.runAndReadAll('SELECT count(*) FROM t JOIN u USING (uid) WHERE t.text = u.text')).getRows();
      expect(Number(same![0])).toBe(n);
    } finally {
      c.closeSync();
      instance.closeSync();
    }
  });
});
