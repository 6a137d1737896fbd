import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runQuery } from '../../src/cli/commands/query.js';
import { ConfigError } from '../../src/core/errors.js';
import { fixture, runCli, tempDir, writeJsonl } from '../helpers.js';

const zul = fixture('sib200/zul_Latn');

describe('winnow CLI', () => {
  it('run --input runs the default pipeline and keeps the input ids; query answers on the selection view', async () => {
    const dir = tempDir();
    writeJsonl(
      path.join(dir, 'in.jsonl'),
      zul.slice(0, 120).map((r) => ({ doc: r.id, body: r.text })),
    );
    const out = path.join(dir, 'out');
    const res = await runCli(['run', '--input', path.join(dir, 'in.jsonl'), '--text-column', 'body', '--id-column', 'doc', '--out', out, '--json']);
    expect(res.code).toBe(0);
    const summary = JSON.parse(res.stdout) as { counts: { input: number; selected: number } };
    expect(summary.counts).toMatchObject({ input: 120, selected: 120 });
    for (const f of ['selection.arrow', 'selection.parquet', 'results.duckdb', 'report.html', 'manifest.json']) expect(existsSync(path.join(out, f))).toBe(true);

    const q = await runCli(['query', out, 'select count(*) as n from selection', '--format', 'json']);
    expect(q.code).toBe(0);
    expect(JSON.parse(q.stdout)).toEqual([{ n: '120' }]);
    const ids = await runCli(['query', path.join(out, 'results.duckdb'), 'select id from samples order by uid limit 2', '--format', 'csv']);
    expect(ids.stdout).toBe(`id\n${zul[0]!.id}\n${zul[1]!.id}\n`);
    const table = await runCli(['query', out, 'select status, count(*) as n from samples group by all']);
    expect(table.stdout).toMatch(/status\s+\| n/);
    expect(table.stdout).toMatch(/selected\s+\| 120/);
  });

  it("run --input uses an input's own id field without --id-column, derives ids for rows without one, and says which", async () => {
    const dir = tempDir();
    // Half the rows carry an id, half do not (a lake assembled from two exports).
    writeJsonl(
      path.join(dir, 'in.jsonl'),
      zul.slice(0, 40).map((r, i) => (i % 2 === 0 ? { id: r.id, text: r.text } : { text: r.text })),
    );
    const out = path.join(dir, 'out');
    const res = await runCli(['run', '--input', path.join(dir, 'in.jsonl'), '--out', out, '--json', '--log-format', 'text', '--workers', '1']);
    expect(res.code).toBe(0);
    expect(res.stderr).toMatch(/ids {9}20 from column "id", 20 derived \(source:file:row\)/);
    const summary = JSON.parse(res.stdout) as { ids: { columns: Record<string, string>; from_column: number; derived: number } };
    expect(summary.ids).toEqual({ columns: { input: 'id' }, from_column: 20, derived: 20 });
    const ids = await runCli(['query', out, 'select id from samples order by uid limit 2', '--format', 'csv']);
    expect(ids.stdout).toBe(`id\n${zul[0]!.id}\ninput:in.jsonl:2\n`);
  });

  it('the query connection is read-only', async () => {
    const dir = tempDir();
    writeJsonl(path.join(dir, 'in.jsonl'), zul.slice(0, 5));
    const out = path.join(dir, 'out');
    expect((await runCli(['run', '--input', path.join(dir, 'in.jsonl'), '--out', out, '--quiet'])).code).toBe(0);
    const res = await runCli(['query', out, 'delete from samples']);
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/read-only/i);
    // Nor can it write, read or attach files, install extensions, or unlock itself.
    const parquet = path.join(out, 'selection.parquet');
    const before = readFileSync(parquet);
    const other = path.join(dir, 'other.duckdb');
    for (const sql of [
      `COPY (SELECT 1 AS x) TO '${parquet}' (FORMAT parquet)`,
      `EXPORT DATABASE '${path.join(dir, 'export')}'`,
      `SELECT * FROM read_text('/etc/passwd')`,
      `ATTACH '${other}' (READ_WRITE)`,
      `INSTALL httpfs`,
      `SET enable_external_access = true`,
    ]) {
      // In process (the CLI maps ConfigError to exit 2, checked above): one CLI start per statement costs seconds.
      await expect(runQuery(out, sql, 'table'), sql).rejects.toThrow(ConfigError);
    }
    expect(readFileSync(parquet).equals(before)).toBe(true);
    expect(existsSync(path.join(dir, 'export'))).toBe(false);
    expect(existsSync(other)).toBe(false);
    // --allow-files is the explicit way to read other files.
    const allowed = await runQuery(out, `SELECT count(*) AS n FROM read_parquet('${parquet}')`, 'json', { allowFiles: true });
    expect(Number(JSON.parse(allowed)[0].n)).toBeGreaterThan(0);
  });

  it('exit codes: 2 for config errors, 3 for input errors, 0 for --help', async () => {
    const dir = tempDir();
    const bad = path.join(dir, 'bad.yaml');
    writeFileSync(bad, 'sources:\n  - { name: a, path: x.jsonl, colums: {} }\n');
    const cfg = await runCli(['run', bad]);
    expect(cfg.code).toBe(2);
    expect(cfg.stderr).toContain('sources[0].colums: unknown key');
    const noGlob = await runCli(['run', '--input', path.join(dir, 'none/**/*.jsonl'), '--out', path.join(dir, 'o')]);
    expect(noGlob.code).toBe(3);
    expect(noGlob.stderr).toMatch(/matched no files/);
    // Exit 3 means nothing was written: not even the output folder the run would have made.
    expect(existsSync(path.join(dir, 'o'))).toBe(false);
    // A folder the user made is left where it is.
    mkdirSync(path.join(dir, 'mine'));
    expect((await runCli(['run', '--input', path.join(dir, 'none.jsonl'), '--out', path.join(dir, 'mine')])).code).toBe(3);
    expect(existsSync(path.join(dir, 'mine'))).toBe(true);
    expect((await runCli(['run', '--help'])).code).toBe(0);
    expect((await runCli(['query', '--help'])).stdout).toMatch(/read-only/);
    expect((await runCli(['run'])).code).toBe(2);
    expect((await runCli(['frobnicate'])).code).toBe(2);
  });
});
