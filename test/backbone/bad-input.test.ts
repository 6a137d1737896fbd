import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadPipelineFile } from '../../src/config/load.js';
import { ConfigError, InputError } from '../../src/core/errors.js';
import { runPipeline } from '../../src/pipeline/run.js';
import { silentLogger } from '../../src/util/log.js';
import { fixture, queryStore, runCli, tempDir, writePipeline } from '../helpers.js';
import { runYaml } from './run-helpers.js';

const yor = fixture('sib200/yor_Latn');
const line = (o: unknown): Buffer => Buffer.from(JSON.stringify(o) + '\n');

interface Manifest {
  counts: { input: number; selected: number; rejected: Record<string, number>; rejected_total: number; reconciled: boolean };
  inputs: { file: string; rows: number; blank_lines: number; sha256: string }[];
}

describe('malformed JSONL rows are rejected with reason and location, and nothing is lost', () => {
  it('every kind of bad row lands in samples and quarantine, and the counts reconcile', async () => {
    const dir = tempDir();
    const good = yor.slice(0, 20);
    const parts: Buffer[] = [
      Buffer.from([0xef, 0xbb, 0xbf]), // BOM before the first row
      line(good[0]), // 1
      Buffer.from('{"id": "broken", "text": "no closing brace"\n'), // 2 invalid_json
      Buffer.concat([Buffer.from('{"id":"bad-utf8","text":"abc '), Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from('"}\n')]), // 3 invalid_utf8
      Buffer.from(JSON.stringify({ id: 'crlf', text: good[1]!.text }) + '\r\n'), // 4 CRLF
      line({ id: 'empty', text: '' }), // 5 empty_text
      line({ id: 'spaces', text: ' \t \u00a0 \u200b\u0007 ' }), // 6 empty_text after normalization
      line({ id: 'null', text: null }), // 7 missing_text
      line({ id: 'number', text: 42 }), // 8 non_string_text
      line({ id: 'no-text-key', body: 'x' }), // 9 missing_text
      line([1, 2, 3]), // 10 invalid_json (not an object)
      Buffer.from('\n'), // 11 blank line: not a record
      line({ id: 'huge', text: 'a'.repeat(5 * 1024 * 1024) }), // 12 oversized_row (5 MB single line)
      Buffer.from('{"id":"lone","text":"abc \\ud800 def"}\n'), // 13 lone_surrogate in the text
      Buffer.from('{"id":"x\\udc00","text":"a fine text"}\n'), // 14 lone_surrogate in the id
      ...good.slice(2).map(line), // 15..32
    ];
    writeFileSync(path.join(dir, 'mixed.jsonl'), Buffer.concat(parts));
    const run = await runYaml(dir, `sources:\n  - { name: m, path: mixed.jsonl, columns: { id: id } }\n`);

    const rows = await run.q<{ id: string; row: number; status: string; reason: string | null; text: string | null }>(`SELECT id, "row"::INT AS row, status, reason, text FROM samples ORDER BY uid`);
    const byRow = new Map(rows.map((r) => [r.row, r]));
    expect(byRow.get(1)).toMatchObject({ id: good[0]!.id, status: 'selected' });
    expect(byRow.get(2)).toMatchObject({ reason: 'invalid_json', id: 'm:mixed.jsonl:2' });
    expect(byRow.get(3)).toMatchObject({ reason: 'invalid_utf8' });
    expect(byRow.get(4)).toMatchObject({ id: 'crlf', status: 'selected', text: good[1]!.text.normalize('NFC') });
    expect(byRow.get(5)).toMatchObject({ id: 'empty', reason: 'empty_text' });
    expect(byRow.get(6)).toMatchObject({ id: 'spaces', reason: 'empty_text' });
    expect(byRow.get(7)).toMatchObject({ id: 'null', reason: 'missing_text' });
    expect(byRow.get(8)).toMatchObject({ id: 'number', reason: 'non_string_text' });
    expect(byRow.get(9)).toMatchObject({ id: 'no-text-key', reason: 'missing_text' });
    expect(byRow.get(10)).toMatchObject({ reason: 'invalid_json' });
    expect(byRow.has(11)).toBe(false);
    expect(byRow.get(12)).toMatchObject({ reason: 'oversized_row' });
    // Not replaced by U+FFFD in silence: rejected, the id replaced by a derived one.
    expect(byRow.get(13)).toMatchObject({ id: 'lone', reason: 'lone_surrogate', text: null });
    expect(byRow.get(14)).toMatchObject({ id: 'm:mixed.jsonl:14', reason: 'lone_surrogate' });
    expect(rows.filter((r) => r.status === 'selected')).toHaveLength(20);

    // Raw content of malformed rows is quarantined, truncated, with file and line.
    const q = await run.q<{ row: number; reason: string; raw: string; file: string }>(`SELECT "row"::INT AS row, reason, raw, file FROM quarantine ORDER BY "row"`);
    expect(q.map((r) => [r.row, r.reason])).toEqual([
      [2, 'invalid_json'],
      [3, 'invalid_utf8'],
      [7, 'missing_text'],
      [8, 'non_string_text'],
      [9, 'missing_text'],
      [10, 'invalid_json'],
      [12, 'oversized_row'],
      [13, 'lone_surrogate'],
      [14, 'lone_surrogate'],
    ]);
    expect(q[0]!.raw).toContain('no closing brace');
    expect(q[0]!.file).toBe('mixed.jsonl');
    expect(q.find((r) => r.row === 12)!.raw.length).toBeLessThanOrEqual(2000);

    const manifest = JSON.parse(readFileSync(path.join(run.out, 'manifest.json'), 'utf8')) as Manifest;
    expect(manifest.counts).toMatchObject({
      input: 31,
      selected: 20,
      rejected: { invalid_json: 2, invalid_utf8: 1, empty_text: 2, missing_text: 2, non_string_text: 1, oversized_row: 1, lone_surrogate: 2 },
      rejected_total: 11,
    });
    expect(manifest.counts.reconciled).toBe(true);
    expect(manifest.inputs[0]).toMatchObject({ file: 'mixed.jsonl', rows: 31, blank_lines: 1 });
    expect(manifest.inputs[0]!.sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('numeric ids keep the digits they were written with; ids on several rows are reported', async () => {
    const dir = tempDir();
    const texts = yor.slice(0, 7).map((r) => r.text);
    const lines = [
      `{"id": 9007199254740993, "text": ${JSON.stringify(texts[0])}}`,
      `{"id": 9007199254740992, "text": ${JSON.stringify(texts[1])}}`,
      `{"id": -0.0, "text": ${JSON.stringify(texts[2])}}`,
      `{"id": 0, "text": ${JSON.stringify(texts[3])}}`,
      `{"id": 1e400, "text": ${JSON.stringify(texts[4])}}`,
      `{"id": "twice", "text": ${JSON.stringify(texts[5])}}`,
      `{"id": "twice", "text": ${JSON.stringify(texts[6])}}`,
    ];
    writeFileSync(path.join(dir, 'ids.jsonl'), lines.join('\n') + '\n');
    const run = await runYaml(dir, `sources:\n  - { name: s, path: ids.jsonl, columns: { id: id } }\n`);
    const ids = (await run.q<{ id: string }>('SELECT id FROM samples ORDER BY uid')).map((r) => r.id);
    expect(ids).toEqual(['9007199254740993', '9007199254740992', '-0.0', '0', '1e400', 'twice', 'twice']);
    expect(run.warnings.join('\n')).toContain('1 id(s) occur on more than one row (2 rows; e.g. "twice")');
  });

  it('limits.duplicate_ids: keep_first rejects later rows of an id (naming the first), error stops the run with exit 3', async () => {
    const dir = tempDir();
    const texts = yor.slice(0, 5).map((r) => r.text);
    const ids = ['a', 'b', 'a', 'c', 'a'];
    writeFileSync(path.join(dir, 'ids.jsonl'), ids.map((id, i) => JSON.stringify({ id, text: texts[i] })).join('\n') + '\n');
    const src = `sources:\n  - { name: s, path: ids.jsonl, columns: { id: id } }\nstages:\n  dedup: { exact: { enabled: false }, near: { enabled: false } }\n`;
    const run = await runYaml(dir, `${src}limits: { duplicate_ids: keep_first }\n`);
    const rows = await run.q<{ id: string; status: string; reason: string | null; reason_detail: string | null }>(`SELECT id, status, reason, reason_detail FROM samples ORDER BY uid`);
    expect(rows.map((r) => [r.id, r.reason])).toEqual([
      ['a', null],
      ['b', null],
      ['a', 'duplicate_id'],
      ['c', null],
      ['a', 'duplicate_id'],
    ]);
    expect(rows[2]!.reason_detail).toBe('id also on the earlier row ids.jsonl:1');
    expect(run.summary.counts).toMatchObject({ input: 5, selected: 3, rejected_total: 2 });
    expect(run.warnings.join('\n')).not.toContain('occur on more than one row');
    await expect(runYaml(tempDir(), `${src.replace('ids.jsonl', path.join(dir, 'ids.jsonl'))}limits: { duplicate_ids: error }\n`)).rejects.toThrow(
      /ids occur on more than one row: "a" \(3 rows\); limits.duplicate_ids is error/,
    );
  });

  it('a CSV with a broken row, bad UTF-8 and a missing text column', async () => {
    const dir = tempDir();
    const good = yor.slice(0, 10);
    const header = 'id,text,label\n';
    const body = good.map((r) => `${r.id},"${r.text.replace(/"/g, '""')}",${r.label}`);
    body.splice(3, 0, 'x1,"unterminated quote,politics,extra,cols,here');
    writeFileSync(
      path.join(dir, 'data.csv'),
      Buffer.concat([Buffer.from(header + body.slice(0, 6).join('\n') + '\n'), Buffer.from([0x79, 0x2c, 0x61, 0xff, 0x62, 0x2c, 0x7a, 0x0a]), Buffer.from(body.slice(6).join('\n') + '\n')]),
    );
    const run = await runYaml(dir, `sources:\n  - { name: c, path: data.csv, columns: { id: id, label: label } }\n`);
    // The unterminated quote on line 5 (the header is line 1) runs into line 6, whose own opening
    // quote closes it with text after it: line 5 alone is malformed and line 6 is read again as its
    // own record. The bad-UTF-8 line is physical line 8: rows are physical line numbers.
    const q = await run.q<{ row: number; reason: string; raw: string; detail: string }>(`SELECT "row"::INT AS row, reason, raw, detail FROM quarantine ORDER BY "row"`);
    expect(q.map((r) => [r.row, r.reason])).toEqual([
      [5, 'malformed_row'],
      [8, 'invalid_utf8'],
    ]);
    expect(q[0]!.raw).toBe('x1,"unterminated quote,politics,extra,cols,here');
    expect(q[0]!.detail).toMatch(/text after the closing quote/);
    const selected = await run.q<{ id: string; text: string }>(`SELECT id, text FROM samples WHERE status = 'selected' ORDER BY uid`);
    expect(selected.map((r) => r.id)).toEqual(good.map((r) => r.id));
    const rows = await run.q<{ id: string; row: number }>(`SELECT id, "row"::INT AS row FROM samples WHERE reason IS NULL OR reason <> 'malformed_row' ORDER BY uid`);
    expect(new Set(rows.map((r) => r.row)).size).toBe(rows.length);
    expect(run.summary.counts).toMatchObject({ input: 12, selected: 10, rejected_total: 2 });

    const missing = await runYaml(dir, `sources:\n  - { name: c, path: data.csv, columns: { text: body } }\n`);
    const m = await missing.q<{ reason: string; n: number }>(`SELECT reason, count(*)::INT AS n FROM samples WHERE status = 'rejected' GROUP BY ALL ORDER BY n DESC, reason`);
    expect(m).toEqual([
      { reason: 'missing_text', n: 10 },
      { reason: 'invalid_utf8', n: 1 },
      { reason: 'malformed_row', n: 1 },
    ]);
    expect(missing.summary.counts.selected).toBe(0);
    expect(missing.warnings.join('\n')).toMatch(/no column "body"/);
  });

  it('a CSV of real tweets where some writer left a quote open loses only those lines, and accounts for every physical line', async () => {
    const dir = tempDir();
    const tweets = fixture('afrisenti/kin').slice(0, 300);
    const cell = (t: string): string => `"${t.replace(/"/g, '""')}"`;
    // Every 7th tweet was written with an opening quote and no closing one; some tweets hold line breaks (quoted, legal).
    const broken = new Set(tweets.map((_, i) => i).filter((i) => i % 7 === 3));
    const body = tweets.map((r, i) => (broken.has(i) ? `${r.id},"${r.text.replace(/[\r\n"]+/g, ' ')},${r.label}` : `${r.id},${cell(i % 11 === 0 ? `${r.text}\n— ${r.label}` : r.text)},${r.label}`));
    const content = ['id,tweet,label', ...body].join('\n') + '\n';
    writeFileSync(path.join(dir, 'tweets.csv'), content);
    const run = await runYaml(
      dir,
      'sources:\n  - { name: t, path: tweets.csv, columns: { id: id, text: tweet, label: label } }\nstages:\n  dedup: { exact: { enabled: false }, near: { enabled: false } }\n',
    );
    const malformed = await run.q<{ row: number }>(`SELECT "row"::INT AS row FROM samples WHERE reason = 'malformed_row' ORDER BY "row"`);
    // Line numbers of the broken tweets (each record starts on its own line; the header is line 1).
    const startLine: number[] = [];
    let ln = 2;
    for (const b of body) {
      startLine.push(ln);
      ln += b.split('\n').length;
    }
    expect(malformed.map((r) => r.row)).toEqual([...broken].map((i) => startLine[i]));
    const parsed = await run.q<{ id: string; text: string; row: number }>(`SELECT id, text, "row"::INT AS row FROM samples WHERE reason IS DISTINCT FROM 'malformed_row' ORDER BY uid`);
    // Every other tweet is there, under its own id, starting at its own line.
    expect(parsed.map((r) => r.id)).toEqual(tweets.filter((_, i) => !broken.has(i)).map((r) => r.id));
    expect(parsed.map((r) => r.row)).toEqual(startLine.filter((_, i) => !broken.has(i)));
    // Physical lines: header + records' lines + malformed lines = the file's lines.
    const physical = content.split('\n').length - 1;
    const spanned = body.filter((_, i) => !broken.has(i)).reduce((a, b) => a + b.split('\n').length, 0);
    expect(1 + spanned + malformed.length).toBe(physical);
    expect(run.summary.counts.input).toBe(300);
  });

  it('a TSV of real tweets, some beginning with a quote that never closes, loses no row (quotes are text in TSV)', async () => {
    const dir = tempDir();
    const tweets = fixture('afrisenti/kin').slice(0, 300);
    // Tweets often begin with a quotation mark; in a TSV it is text, not the start of a quoted field.
    const lines = tweets.map((r, i) => `${r.id}\t${i % 7 === 0 ? '"' : ''}${r.text.replace(/[\t\r\n]+/g, ' ')}`);
    writeFileSync(path.join(dir, 'tweets.tsv'), ['id\ttweet', ...lines].join('\n') + '\n');
    const run = await runYaml(dir, 'sources:\n  - { name: t, path: tweets.tsv, columns: { id: id, text: tweet } }\nstages:\n  dedup: { exact: { enabled: false }, near: { enabled: false } }\n');
    const [c] = await run.q<{ n: number; malformed: number; quoted: number }>(
      `SELECT count(*)::INT AS n, count(*) FILTER (reason = 'malformed_row')::INT AS malformed, count(*) FILTER (starts_with(text, '"'))::INT AS quoted FROM samples`,
    );
    expect(c).toEqual({ n: 300, malformed: 0, quoted: 43 });
    expect(run.summary.counts.input).toBe(300);
  });

  it('when every row is rejected before embedding, the run still ends: exit 0, an empty selection, a reconciled manifest and a warning', async () => {
    const dir = tempDir();
    writeFileSync(
      path.join(dir, 'in.jsonl'),
      fixture('sib200/hau_Latn')
        .slice(0, 50)
        .map((r) => JSON.stringify(r))
        .join('\n') + '\n',
    );
    writeFileSync(path.join(dir, 'p.yaml'), 'sources:\n  - { name: s, path: in.jsonl, where: "false" }\n');
    const res = await runCli(['run', path.join(dir, 'p.yaml'), '--out', path.join(dir, 'out')]);
    expect(res.code).toBe(0);
    expect(res.stderr).toMatch(/no row was selected: all 50 were rejected \(by reason: where_filter 50\)/);
    const manifest = JSON.parse(readFileSync(path.join(dir, 'out', 'manifest.json'), 'utf8')) as { counts: { selected: number; reconciled: boolean } };
    expect(manifest.counts).toMatchObject({ selected: 0, reconciled: true });
    const [n] = await queryStore<{ n: number }>(path.join(dir, 'out', 'results.duckdb'), `SELECT count(*)::INT AS n FROM samples WHERE reason = 'where_filter'`);
    expect(n!.n).toBe(50);
  });

  it("--out at a folder of the user's files, or inside an input folder, is refused (exit 2) and nothing there changes", async () => {
    const dir = tempDir();
    mkdirSync(path.join(dir, 'lake'));
    writeFileSync(
      path.join(dir, 'lake', 'in.jsonl'),
      fixture('sib200/hau_Latn')
        .slice(0, 20)
        .map((r) => JSON.stringify(r))
        .join('\n') + '\n',
    );
    const mine = path.join(dir, 'mine');
    mkdirSync(path.join(mine, 'model'), { recursive: true });
    writeFileSync(path.join(mine, 'manifest.json'), '{"mine": true}');
    writeFileSync(path.join(mine, 'model', 'weights.bin'), 'precious');
    const res = await runCli(['run', '--input', path.join(dir, 'lake'), '--out', mine]);
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/is a folder that winnow did not create and it is not empty/);
    expect(readFileSync(path.join(mine, 'manifest.json'), 'utf8')).toBe('{"mine": true}');
    expect(readFileSync(path.join(mine, 'model', 'weights.bin'), 'utf8')).toBe('precious');
    expect(readdirSync(mine).sort()).toEqual(['manifest.json', 'model']);
    const nested = await runCli(['run', '--input', path.join(dir, 'lake'), '--out', path.join(dir, 'lake', 'out')]);
    expect(nested.code).toBe(2);
    expect(nested.stderr).toMatch(/is inside the input folder/);
    expect(existsSync(path.join(dir, 'lake', 'out'))).toBe(false);
    // A folder a winnow run made is fine to run into again.
    const ok = path.join(dir, 'ok');
    expect((await runCli(['run', '--input', path.join(dir, 'lake'), '--out', ok, '--quiet'])).code).toBe(0);
    expect((await runCli(['run', '--input', path.join(dir, 'lake'), '--out', ok, '--quiet'])).code).toBe(0);
  });

  it('a JSONL file without the configured text column rejects every row as missing_text', async () => {
    const dir = tempDir();
    writeFileSync(
      path.join(dir, 'a.jsonl'),
      yor
        .slice(0, 15)
        .map((r) => JSON.stringify({ id: r.id, sentence: r.text }))
        .join('\n'),
    );
    const run = await runYaml(dir, `sources:\n  - { name: a, path: a.jsonl }\n`);
    expect(run.summary.counts).toMatchObject({ input: 15, selected: 0, rejected: { missing_text: 15 } });
  });
});

describe('problems found before any work stop the run with a clear error and write nothing', () => {
  it('an unknown config key names its path', () => {
    const dir = tempDir();
    const file = writePipeline(dir, `sources:\n  - name: a\n    path: x.jsonl\n    columns: { txt: body }\nstages:\n  normalise: {}\n`);
    let err: unknown;
    try {
      loadPipelineFile(file);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toContain('sources[0].columns.txt: unknown key');
    expect((err as Error).message).toContain('stages.normalise: unknown key');
  });

  it('a wrong type names the key and the expected form', () => {
    const dir = tempDir();
    const file = writePipeline(dir, `sources:\n  - { name: a, path: x.jsonl, format: xml }\nlimits: { batch_size: "big" }\n`);
    expect(() => loadPipelineFile(file)).toThrow(/sources\[0\]\.format: .*"jsonl"/);
    expect(() => loadPipelineFile(file)).toThrow(/limits\.batch_size: .*number/);
  });

  it('a YAML alias bomb, 3,000 levels of nesting and a 1e300 budget are config errors, not crashes', () => {
    const dir = tempDir();
    const aliases = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
    for (let i = 1; i < 12; i++)
      aliases.push(
        `${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(9)
          .fill(`*${String.fromCharCode(96 + i)}`)
          .join(',')}]`,
      );
    const bomb = writePipeline(dir, `${aliases.join('\n')}\nsources:\n  - { name: s, path: x.jsonl }\n`, 'bomb.yaml');
    expect(() => loadPipelineFile(bomb)).toThrow(ConfigError);
    expect(() => loadPipelineFile(bomb)).toThrow(/bomb\.yaml: invalid YAML: Excessive alias count/);
    const deep = writePipeline(dir, `sources: ${'['.repeat(3000)}${']'.repeat(3000)}\n`, 'deep.yaml');
    expect(() => loadPipelineFile(deep)).toThrow(ConfigError);
    const big = writePipeline(dir, 'sources:\n  - { name: s, path: x.jsonl }\nstages: { budget: { target: { tokens: 1e300 } } }\n', 'big.yaml');
    expect(() => loadPipelineFile(big)).toThrow(/stages\.budget\.target\.tokens: at most 1e15 tokens/);
  });

  it('a where filter is one expression over the row: a second query or a subquery is a config error', async () => {
    const dir = tempDir();
    writeFileSync(path.join(dir, 'in.jsonl'), line(yor[0]));
    const run = (where: string): Promise<unknown> =>
      runPipeline(loadPipelineFile(writePipeline(dir, `sources:\n  - { name: a, path: in.jsonl, where: ${JSON.stringify(where)} }\n`)), { outDir: path.join(dir, 'out'), log: silentLogger });
    await expect(run("true) UNION ALL SELECT * FROM read_text('/etc/passwd') WHERE (true")).rejects.toThrow(/sources\[0\]\.where: must be one SQL expression/);
    await expect(run("exists (select * from read_text('/etc/passwd'))")).rejects.toThrow(/sources\[0\]\.where: subqueries are not allowed/);
    await expect(run("exists (select * from read_text('/etc/passwd'))")).rejects.toThrow(ConfigError);
  });

  it('a glob that matches nothing, a missing file, and an unreadable file are input errors', async () => {
    const dir = tempDir();
    const run = (yaml: string): Promise<unknown> => runPipeline(loadPipelineFile(writePipeline(dir, yaml)), { outDir: path.join(dir, 'out'), log: silentLogger });
    await expect(run(`sources:\n  - { name: a, path: "nowhere/**/*.jsonl" }\n`)).rejects.toThrow(InputError);
    await expect(run(`sources:\n  - { name: a, path: "nowhere/**/*.jsonl" }\n`)).rejects.toThrow(/matched no files/);
    await expect(run(`sources:\n  - { name: a, path: missing.jsonl }\n`)).rejects.toThrow(/missing\.jsonl does not exist/);
    // Remote inputs: a clear refusal naming the scheme and how to copy the data, not "does not exist".
    await expect(run(`sources:\n  - { name: a, path: "s3://bucket/lake/*.jsonl" }\n`)).rejects.toThrow(/s3:\/\/bucket\/lake\/\*\.jsonl is a s3:\/\/ URL; winnow reads local files.*aws s3 sync/);
    await expect(run(`sources:\n  - { name: a, path: "hf://datasets/owner/name" }\n`)).rejects.toThrow(ConfigError);
    await expect(run(`sources:\n  - { name: a, path: "file://${path.join(dir, 'nope.jsonl')}" }\n`)).rejects.toThrow(/nope\.jsonl does not exist/);

    writeFileSync(path.join(dir, 'corrupt.jsonl.gz'), 'this is not gzip');
    await expect(run(`sources:\n  - { name: a, path: corrupt.jsonl.gz }\n`)).rejects.toThrow(/not gzip data/);

    const locked = path.join(dir, 'locked.jsonl');
    writeFileSync(locked, line(yor[0]));
    chmodSync(locked, 0o000);
    // root reads any file whatever its mode; the check only bites for other users.
    if (process.getuid?.() !== 0) await expect(run(`sources:\n  - { name: a, path: locked.jsonl }\n`)).rejects.toThrow(/cannot be read \(EACCES\)/);
    chmodSync(locked, 0o644);

    // None of the failed runs left outputs behind.
    expect(existsSync(path.join(dir, 'out', 'manifest.json'))).toBe(false);
    expect(existsSync(path.join(dir, 'out', 'selection.arrow'))).toBe(false);
  });

  it('a gzip file that breaks off midway keeps the rows before the break and records the truncation', async () => {
    const dir = tempDir();
    const { gzipSync } = await import('node:zlib');
    const full = gzipSync(
      yor
        .slice(0, 400)
        .map((r) => JSON.stringify(r))
        .join('\n') + '\n',
    );
    writeFileSync(path.join(dir, 'cut.jsonl.gz'), full.subarray(0, Math.floor(full.length * 0.6)));
    const run = await runYaml(dir, `sources:\n  - { name: a, path: cut.jsonl.gz }\n`);
    expect(run.summary.counts.rejected.truncated_file).toBe(1);
    expect(run.summary.counts.selected).toBeGreaterThan(100);
    expect(run.summary.counts.selected).toBeLessThan(400);
  });

  it('a gzip file with a bad checksum or trailing garbage keeps every row it decoded; a 0-byte .gz is an empty file', async () => {
    const dir = tempDir();
    const { gzipSync } = await import('node:zlib');
    const rows = yor.slice(0, 50);
    const gz = gzipSync(rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
    const badCrc = Buffer.from(gz);
    badCrc[badCrc.length - 6]! ^= 0xff;
    mkdirSync(path.join(dir, 'in'));
    writeFileSync(path.join(dir, 'in', 'a-crc.jsonl.gz'), badCrc);
    // Two members (as `cat a.gz b.gz` makes), then bytes that are not gzip.
    const second = gzipSync(
      yor
        .slice(50, 60)
        .map((r) => JSON.stringify(r))
        .join('\n') + '\n',
    );
    writeFileSync(path.join(dir, 'in', 'b-trail.jsonl.gz'), Buffer.concat([gz, second, Buffer.from('\n-- end of upload --\n')]));
    writeFileSync(path.join(dir, 'in', 'c-empty.jsonl.gz'), Buffer.alloc(0));
    const run = await runYaml(dir, `sources:\n  - { name: a, path: "in/*.jsonl.gz" }\nstages:\n  dedup: { exact: { enabled: false }, near: { enabled: false } }\n`);
    const byFile = await run.q<{ file: string; rows: number; corrupt: number }>(
      `SELECT file, count(*)::INT AS rows, count(*) FILTER (reason = 'corrupt_file')::INT AS corrupt FROM samples GROUP BY file ORDER BY file`,
    );
    expect(byFile).toEqual([
      { file: 'a-crc.jsonl.gz', rows: 51, corrupt: 1 },
      { file: 'b-trail.jsonl.gz', rows: 61, corrupt: 1 },
    ]);
    const detail = await run.q<{ detail: string }>(`SELECT detail FROM quarantine WHERE reason = 'corrupt_file' ORDER BY file`);
    expect(detail.map((d) => d.detail)).toEqual([expect.stringMatching(/CRC-32/), expect.stringMatching(/are not gzip/)]);
    expect(run.summary.counts.input).toBe(112);
  });
});
