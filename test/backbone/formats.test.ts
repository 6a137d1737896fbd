import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { DuckDBInstance } from '@duckdb/node-api';
import { beforeAll, describe, expect, it } from 'vitest';
import { fixture, tempDir, writeJsonl, type FixtureRow } from '../helpers.js';
import { runYaml } from './run-helpers.js';

const yor = fixture('sib200/yor_Latn');
const hau = fixture('sib200/hau_Latn');

/** Writes real SIB-200 rows in every supported format, using DuckDB for CSV/TSV/Parquet. */
async function writeFormats(dir: string, rows: FixtureRow[]): Promise<void> {
  writeJsonl(path.join(dir, 'data.jsonl'), rows);
  writeFileSync(path.join(dir, 'data.jsonl.gz'), gzipSync(rows.map((r) => JSON.stringify(r)).join('\n') + '\n'));
  writeFileSync(path.join(dir, 'data.txt'), rows.map((r) => r.text).join('\n') + '\n');
  const inst = await DuckDBInstance.create(':memory:');
  const c = await inst.connect();
  const src = path.join(dir, 'data.jsonl').replace(/'/g, "''");
  await c.run(`CREATE TABLE t AS SELECT * FROM read_json('${src}', format = 'newline_delimited')`);
  await c.run(`COPY t TO '${path.join(dir, 'data.csv')}' (HEADER, DELIMITER ',')`);
  await c.run(`COPY t TO '${path.join(dir, 'data.tsv')}' (HEADER, DELIMITER '\t')`);
  await c.run(`COPY t TO '${path.join(dir, 'data.parquet')}' (FORMAT parquet)`);
  c.closeSync();
  inst.closeSync();
}

describe('each source format reads the same real rows', () => {
  const dir = tempDir();
  const rows = yor.slice(0, 300);
  beforeAll(async () => {
    await writeFormats(dir, rows);
  });

  for (const file of ['data.jsonl', 'data.jsonl.gz', 'data.csv', 'data.tsv', 'data.parquet']) {
    it(`${file}: every row, with ids, labels, metadata and text intact`, async () => {
      const run = await runYaml(
        tempDir(),
        `name: fmt
sources:
  - name: s
    path: ${path.join(dir, file)}
    columns: { text: text, id: id, lang: lang, label: label, metadata: [split, index_id] }
stages: { filters: { min_chars: 1 } }
`,
      );
      expect(run.summary.counts.input).toBe(rows.length);
      expect(run.summary.counts.selected).toBe(rows.length);
      const got = await run.q<{ id: string; text: string; label: string; lang: string; split: string; index_id: string; row: number }>(
        `SELECT id, text, label, lang, meta->>'split' AS split, meta->>'index_id' AS index_id, "row" FROM samples ORDER BY uid`,
      );
      expect(got.map((r) => r.id)).toEqual(rows.map((r) => r.id));
      expect(got.map((r) => r.text)).toEqual(rows.map((r) => r.text.normalize('NFC').replace(/\s+/g, ' ').trim()));
      expect(got.map((r) => r.label)).toEqual(rows.map((r) => r.label));
      expect(got.map((r) => r.lang)).toEqual(rows.map((r) => r.lang));
      expect(got.map((r) => r.split)).toEqual(rows.map((r) => r.split));
      expect(got.map((r) => String(r.index_id))).toEqual(rows.map((r) => String(r.index_id)));
      // JSONL: the line; CSV/TSV: the physical line a record starts on (the header is line 1); Parquet: the row.
      const first = /\.(csv|tsv)$/.test(file) ? 2 : 1;
      expect(got.map((r) => Number(r.row))).toEqual(rows.map((_, i) => i + first));
    });
  }

  it('plain text: one document per line with derived ids, or one per file', async () => {
    const lines = await runYaml(tempDir(), `sources:\n  - { name: txt, path: ${path.join(dir, 'data.txt')}, lang: yor_Latn }\nstages: { filters: { min_chars: 1 } }\n`);
    expect(lines.summary.counts.selected).toBe(rows.length);
    const first = await lines.q<{ id: string; lang: string; row: number }>(`SELECT id, lang, "row"::INT AS row FROM samples ORDER BY uid LIMIT 2`);
    expect(first).toEqual([
      { id: 'txt:data.txt:1', lang: 'yor_Latn', row: 1 },
      { id: 'txt:data.txt:2', lang: 'yor_Latn', row: 2 },
    ]);
    const whole = await runYaml(tempDir(), `sources:\n  - { name: doc, path: ${path.join(dir, 'data.txt')}, text_unit: file }\n`);
    expect(whole.summary.counts.input).toBe(1);
    const [doc] = await whole.q<{ n: number }>(`SELECT (length(text) - length(replace(text, chr(10), '')) + 1)::INT AS n FROM samples`);
    expect(doc!.n).toBe(rows.length);
  });

  it('several named sources in one pipeline, each with its own column mapping and where filter', async () => {
    const d2 = tempDir();
    writeJsonl(path.join(d2, 'a.jsonl'), yor.slice(0, 50));
    const hauRows = [...hau.filter((r) => r.split === 'train').slice(0, 50), ...hau.filter((r) => r.split === 'test').slice(0, 30)];
    writeJsonl(
      path.join(d2, 'b.jsonl'),
      hauRows.map((r) => ({ body: r.text, key: r.id, split: r.split })),
    );
    const run = await runYaml(
      d2,
      `sources:
  - { name: yor, path: a.jsonl, columns: { id: id } }
  - name: hau
    path: b.jsonl
    columns: { text: body, id: key }
    where: "split = 'train'"
`,
    );
    const bySource = await run.q<{ source: string; status: string; reason: string | null; n: number }>(
      `SELECT source::VARCHAR AS source, status::VARCHAR AS status, reason, count(*)::INT AS n FROM samples GROUP BY ALL ORDER BY ALL`,
    );
    const hauTrain = 50;
    expect(bySource).toEqual([
      { source: 'hau', status: 'rejected', reason: 'where_filter', n: 80 - hauTrain },
      { source: 'hau', status: 'selected', reason: null, n: hauTrain },
      { source: 'yor', status: 'selected', reason: null, n: 50 },
    ]);
    const ids = await run.q<{ id: string }>(`SELECT id FROM samples WHERE source = 'hau' ORDER BY uid LIMIT 1`);
    expect(ids[0]!.id).toBe(hauRows[0]!.id);
  });
});

describe('globs over a folder tree', () => {
  it('** matches files at every depth, sorted, and a folder path reads every data file under it', async () => {
    const dir = tempDir();
    const tree = ['lake/2024/01/a.jsonl', 'lake/2024/02/b.jsonl', 'lake/c.jsonl', 'lake/2024/notes.md', 'lake/2025/d.jsonl.gz'];
    tree.forEach((f, i) => {
      mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
      const chunk = yor.slice(i * 10, i * 10 + 10);
      const body = chunk.map((r) => JSON.stringify(r)).join('\n') + '\n';
      writeFileSync(path.join(dir, f), f.endsWith('.gz') ? gzipSync(body) : body);
    });
    const glob = await runYaml(dir, `sources:\n  - { name: lake, path: "lake/**/*.jsonl", columns: { id: id } }\n`);
    const files = await glob.q<{ file: string; n: number }>(`SELECT file, count(*)::INT AS n FROM samples GROUP BY file ORDER BY min(uid)`);
    expect(files).toEqual([
      { file: '2024/01/a.jsonl', n: 10 },
      { file: '2024/02/b.jsonl', n: 10 },
      { file: 'c.jsonl', n: 10 },
    ]);
    const braces = await runYaml(dir, `sources:\n  - { name: lake, path: "lake/**/*.{jsonl,jsonl.gz}" }\n`);
    expect(braces.summary.counts.input).toBe(40);
    const folder = await runYaml(dir, `sources:\n  - { name: lake, path: lake }\n`);
    // notes.md is not a data file, so the folder yields the four JSONL files.
    expect(folder.summary.counts.input).toBe(40);
    const ids = await folder.q<{ id: string }>(`SELECT id FROM samples ORDER BY uid LIMIT 1`);
    expect(ids[0]!.id).toBe('lake:2024/01/a.jsonl:1');
  });

  it('a file copied from the fixtures keeps the same derived ids wherever the folder lives', async () => {
    const a = tempDir();
    const b = tempDir();
    for (const d of [a, b]) {
      mkdirSync(path.join(d, 'data'));
      copyFileSync(path.join(__dirname, '..', 'fixtures', 'sib200', 'wol_Latn.jsonl.gz'), path.join(d, 'data', 'wol.jsonl.gz'));
    }
    const ra = await runYaml(a, `sources:\n  - { name: w, path: data }\n`);
    const rb = await runYaml(b, `sources:\n  - { name: w, path: data }\n`);
    const ia = await ra.q<{ id: string }>(`SELECT id FROM samples ORDER BY uid`);
    const ib = await rb.q<{ id: string }>(`SELECT id FROM samples ORDER BY uid`);
    expect(ia.length).toBe(1004);
    expect(ia).toEqual(ib);
  });
});
