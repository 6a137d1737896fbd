import { DuckDBInstance } from '@duckdb/node-api';
import { describe, expect, it } from 'vitest';
import { rowsByUid, uidRanges } from '../../src/store/uid-windows.js';
import { fixture } from '../helpers.js';

describe('uid windows', () => {
  it('read every matching row once, in uid order, across windows, gaps and a window holding none', async () => {
    const rows = fixture('sib200/yor_Latn').slice(0, 300);
    const instance = await DuckDBInstance.create(':memory:');
    const c = await instance.connect();
    try {
      // Stored out of uid order, with uids 1000-1099 missing and every fifth row rejected.
      await c.run('CREATE TABLE samples (uid BIGINT, text VARCHAR, status VARCHAR)');
      const uids = rows.map((_, i) => (i < 100 ? i : i + 100)).reverse();
      const values = uids.map((u, k) => `(${u}, '${rows[k]!.text.replace(/'/g, "''")}', '${u % 5 === 0 ? 'rejected' : 'selected'}')`);
      await c.run(`INSERT INTO samples VALUES ${values.join(', ')}`);
      const want = (await c.runAndReadAll(`SELECT uid, text FROM samples WHERE status = 'selected' ORDER BY uid`)).getRows();
      const got: unknown[][] = [];
      for await (const part of rowsByUid(c, 'uid, text', `status = 'selected'`, 7)) got.push(...part);
      expect(got).toEqual(want);
      const ranges: [bigint, bigint][] = [];
      for await (const r of uidRanges(c, 'samples', 64)) ranges.push(r);
      expect(ranges[0]).toEqual([0n, 64n]);
      expect(ranges.at(-1)![1]).toBeGreaterThan(399n);
      ranges.slice(1).forEach(([a], k) => expect(a).toBe(ranges[k]![1]));
      const empty: unknown[] = [];
      for await (const part of rowsByUid(c, 'uid', `status = 'none'`)) empty.push(part);
      expect(empty).toEqual([]);
    } finally {
      c.closeSync();
      instance.closeSync();
    }
  });
});
