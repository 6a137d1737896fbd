import { readFileSync } from 'node:fs';
import path from 'node:path';
import { tableFromIPC, Type } from 'apache-arrow';
import { DuckDBInstance } from '@duckdb/node-api';
import { beforeAll, describe, expect, it } from 'vitest';
import { fixture, tempDir, writeJsonl } from '../helpers.js';
import { runYaml, type RunResult } from './run-helpers.js';

const wol = fixture('sib200/wol_Latn');
const PIPELINE = `name: emit
sources:
  - name: sib
    path: mix.jsonl
    columns: { id: id, lang: lang, label: label, metadata: [split, index_id] }
stages: { filters: { min_chars: 8 } }
limits: { batch_size: 64 }
`;
const amh = fixture('sib200/amh_Ethi');

describe('emitted outputs', () => {
  let run: RunResult;
  const rows = [...wol.slice(0, 250), ...amh.slice(0, 250)];
  beforeAll(async () => {
    const dir = tempDir();
    // Every 10th row gets a too-short text so the selection is a strict subset of the input.
    writeJsonl(
      path.join(dir, 'mix.jsonl'),
      rows.map((r, i) => (i % 10 === 0 ? { ...r, text: 'short' } : r)),
    );
    run = await runYaml(dir, PIPELINE);
  });

  it('selection.arrow reads back with apache-arrow: rows, compact schema, values', async () => {
    const table = tableFromIPC(readFileSync(path.join(run.out, 'selection.arrow')));
    const expected = rows.filter((_, i) => i % 10 !== 0);
    expect(table.numRows).toBe(expected.length);
    expect(table.batches.length).toBeGreaterThanOrEqual(1);
    const type = (name: string) => table.schema.fields.find((f) => f.name === name)!.type;
    expect(type('lang').typeId).toBe(Type.Dictionary);
    expect(type('source').typeId).toBe(Type.Dictionary);
    expect(type('label').typeId).toBe(Type.Dictionary);
    expect(type('text').typeId).toBe(Type.Utf8);
    expect(String(type('row'))).toBe('Uint32');
    expect(String(type('text_chars'))).toBe('Uint32');
    expect(String(type('lang'))).toBe('Dictionary<Int8, Utf8>');
    expect(table.schema.fields.map((f) => f.name)).toEqual(['id', 'text', 'lang', 'label', 'source', 'file', 'row', 'text_chars', 'tokens', 'split', 'index_id']);
    const ids = table.getChild('id')!.toArray() as string[];
    expect([...ids]).toEqual(expected.map((r) => r.id));
    const langs = [...table.getChild('lang')!].map(String);
    expect(new Set(langs)).toEqual(new Set(['wol_Latn', 'amh_Ethi']));
    expect([...table.getChild('label')!].map(String)).toEqual(expected.map((r) => r.label));
    expect(table.getChild('text')!.get(0)).toBe(expected[0]!.text.normalize('NFC'));
    expect(Number(table.getChild('row')!.get(0))).toBe(2);
    expect([...table.getChild('text_chars')!].map(Number)).toEqual(expected.map((r) => [...r.text.normalize('NFC').replace(/\s+/g, ' ').trim()].length));
  });

  it('selection.parquet is zstd-compressed and DuckDB reads the same rows', async () => {
    const inst = await DuckDBInstance.create(':memory:');
    const c = await inst.connect();
    const file = path.join(run.out, 'selection.parquet').replace(/'/g, "''");
    const r = await c.runAndReadAll(`SELECT count(*)::INT, count(DISTINCT lang)::INT, min(id), max(text_chars)::INT FROM read_parquet('${file}')`);
    const [[n, langs]] = r.getRowsJson() as [number[]];
    expect(n).toBe(450);
    expect(langs).toBe(2);
    const codec = await c.runAndReadAll(`SELECT DISTINCT compression FROM parquet_metadata('${file}')`);
    expect(codec.getRowsJson().flat()).toEqual(['ZSTD']);
    c.closeSync();
    inst.closeSync();
  });

  it('results.duckdb: one samples row per input record, a selection view, and a reconciled manifest', async () => {
    const [counts] = await run.q<{ n: number; selected: number; rejected: number }>(
      `SELECT count(*)::INT AS n, count(*) FILTER (status = 'selected')::INT AS selected, count(*) FILTER (status = 'rejected')::INT AS rejected FROM samples`,
    );
    expect(counts).toEqual({ n: 500, selected: 450, rejected: 50 });
    const [view] = await run.q<{ n: number }>(`SELECT count(*)::INT AS n FROM selection`);
    expect(view!.n).toBe(450);
    const why = await run.q<{ reason: string; reason_detail: string }>(`SELECT reason, reason_detail FROM samples WHERE status = 'rejected' LIMIT 1`);
    expect(why[0]).toEqual({ reason: 'too_short', reason_detail: 'chars=5 < 8' });
    const stages = await run.q<{ stage: string; rows_in: number; rows_out: number }>(`SELECT stage, rows_in::INT AS rows_in, rows_out::INT AS rows_out FROM stages`);
    expect(stages).toEqual([
      { stage: 'read', rows_in: 500, rows_out: 500 },
      { stage: 'normalize', rows_in: 500, rows_out: 500 },
      { stage: 'filters', rows_in: 500, rows_out: 450 },
      { stage: 'tokens', rows_in: 450, rows_out: 450 },
      { stage: 'dedup', rows_in: 450, rows_out: 450 },
      { stage: 'budget', rows_in: 450, rows_out: 450 },
    ]);
    const manifest = JSON.parse(readFileSync(path.join(run.out, 'manifest.json'), 'utf8'));
    expect(manifest.counts).toEqual({ input: 500, selected: 450, rejected: { too_short: 50 }, rejected_total: 50, reconciled: true });
    expect(manifest.pipeline.config_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(manifest.versions['@duckdb/node-api']).toMatch(/^1\./);
    expect(manifest.stages.map((s: { stage: string }) => s.stage)).toEqual(['read', 'normalize', 'filters', 'tokens', 'dedup', 'budget']);
    const [runRow] = await run.q<{ status: string; input_rows: number }>(`SELECT status, input_rows::INT AS input_rows FROM runs`);
    expect(runRow).toEqual({ status: 'completed', input_rows: 500 });
  });

  it('the same input and config give byte-identical selections', async () => {
    const again = await runYaml(path.dirname(run.out), PIPELINE, 'out2');
    expect(readFileSync(path.join(again.out, 'selection.arrow')).equals(readFileSync(path.join(run.out, 'selection.arrow')))).toBe(true);
  });
});
