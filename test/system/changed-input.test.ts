import { appendFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { fixture, queryStore, tempDir, writePipeline } from '../helpers.js';
import { startCli } from '../jobs/job-helpers.js';

describe('an input file that changes while it is read', () => {
  it('fails the run (exit 3, naming the file) instead of recording a partial read; the next run reads all of it', async () => {
    const dir = tempDir('winnow-changed-');
    const rows = ['yor_Latn', 'hau_Latn', 'swh_Latn', 'zul_Latn'].flatMap((l) => fixture(`sib200/${l}`));
    // Enough rows that the stream phase is still reading when the writer appends.
    const lines = Array.from({ length: 8 }, (_, copy) => rows.map((r) => JSON.stringify({ id: `${copy}-${r.id}`, text: `${r.text} (${copy})`, lang: r.lang }))).flat();
    const file = path.join(dir, 'lake.jsonl');
    writeFileSync(file, lines.join('\n') + '\n');
    const yaml = writePipeline(
      dir,
      `sources:\n  - { name: lake, path: lake.jsonl, columns: { text: text, id: id, lang: lang } }\nstages:\n  langid: { enabled: false }\n  embed: { enabled: false }\n  select: { enabled: false }\n`,
    );
    const out = path.join(dir, 'out');
    const first = startCli(['run', yaml, '--out', out]);
    await first.waitFor((e) => e.event === 'run_start');
    appendFileSync(file, JSON.stringify({ id: 'late', text: 'a row a writer added while winnow was reading', lang: 'eng_Latn' }) + '\n');
    expect(await first.code, first.stderr()).toBe(3);
    expect(first.stderr()).toMatch(/lake\.jsonl changed while it was being read \(size \d+ -> \d+ bytes/);
    const second = startCli(['run', yaml, '--out', out]);
    expect(await second.code, second.stderr()).toBe(0);
    const [n] = await queryStore<{ n: number; late: number }>(path.join(out, 'results.duckdb'), `SELECT count(*)::INT n, count(*) FILTER (WHERE id = 'late')::INT late FROM samples`);
    expect(n).toEqual({ n: lines.length + 1, late: 1 });
  }, 180_000);
});
