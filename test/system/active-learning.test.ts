import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { fixture, queryStore, runCli, tempDir, writeJsonl, writePipeline } from '../helpers.js';
import { embedYaml } from '../select/select-helpers.js';

// Active-learning rounds over several runs (the export -> label -> import -> rerun loop) and the shipped
// example: many full runs each, so they run with the system tests.

describe('active-learning rounds: label export and import', () => {
  it('exports a batch, imports its labels all-or-nothing, and the next run uses them', async () => {
    const dir = tempDir();
    const rows = fixture('sib200/yor_Latn')
      .filter((r) => r.split === 'train')
      .slice(0, 500);
    const truth = new Map(rows.map((r) => [r.id, r.label!]));
    writeJsonl(
      path.join(dir, 'data.jsonl'),
      rows.map((r) => ({ id: r.id, text: r.text })),
    );
    const pipeline = writePipeline(dir, embedYaml('data.jsonl', '  langid: { enabled: false }\n  quality: { enabled: false }'));
    const out = path.join(dir, 'out');
    expect((await runCli(['run', pipeline, '--out', out])).code).toBe(0);

    const exp1 = await runCli(['label', 'export', out, '--n', '15', '--format', 'csv', '--out', path.join(dir, 'round1.csv')]);
    expect(exp1.stderr).toBe('');
    expect(exp1.code).toBe(0);
    const csv = readFileSync(path.join(dir, 'round1.csv'), 'utf8').trim().split('\n');
    expect(csv[0]).toBe('id,text,lang,label,picked_by,why');
    expect(csv).toHaveLength(16);
    const ids = csv.slice(1).map((l) => l.split(',')[0]!);
    expect(new Set(ids).size).toBe(15);
    expect(csv[1]).toContain('hybrid:typical'); // no labels yet: cold start

    // Every rejection case leaves the store untouched and lists the offending rows.
    const bad = (name: string, lines: string[]): string => {
      const f = path.join(dir, name);
      writeFileSync(f, ['id,label', ...lines].join('\n') + '\n');
      return f;
    };
    const cases: [string, string[], string[]][] = [
      ['unknown-id.csv', [`${ids[0]},${truth.get(ids[0]!)}`, `no-such-row,health`], ['row 2: id "no-such-row" is not a row of this run']],
      ['dup-id.csv', [`${ids[0]},health`, `${ids[1]},sports`, `${ids[0]},travel`], [`row 3: id "${ids[0]}" is given again (first at row 1)`]],
      ['bad-label.csv', [`${ids[0]},health`, `${ids[1]},cooking`, `${ids[2]},Sports`], ['row 2: label "cooking" is not a known label', 'row 3: label "Sports"']],
      ['no-id.csv', [`,health`], ['row 1: no id']],
    ];
    for (const [name, lines, messages] of cases) {
      const r = await runCli(['label', 'import', out, bad(name, lines)]);
      expect(r.code, name).toBe(3);
      expect(r.stderr).toContain('nothing was imported');
      for (const m of messages) expect(r.stderr).toContain(m);
    }
    expect(await queryStore(path.join(out, 'results.duckdb'), 'SELECT count(*)::INT n FROM labels')).toEqual([{ n: 0 }]);
    const missingCol = path.join(dir, 'nolabel.csv');
    writeFileSync(missingCol, `id,topic\n${ids[0]},health\n`);
    expect((await runCli(['label', 'import', out, missingCol])).stderr).toContain('no "label" column');

    // The annotated export imports: labels from the ground truth, one row left blank (skipped).
    const annotated = csv.map((line, i) => {
      if (i === 0 || i === 15) return line;
      const id = line.split(',')[0]!;
      return line.replace(/^([^,]+,(?:"(?:[^"]|"")*"|[^,]*),[^,]*,)/, `$1${truth.get(id)}`);
    });
    writeFileSync(path.join(dir, 'round1-done.csv'), annotated.join('\n') + '\n');
    const imp = await runCli(['label', 'import', out, path.join(dir, 'round1-done.csv')]);
    expect(imp.stderr).toBe('');
    expect(imp.stdout).toContain('round 2: imported 14 labels, skipped 1');
    const stored = await queryStore<{ id: string; label: string; round: number }>(path.join(out, 'results.duckdb'), 'SELECT id, label, round FROM labels ORDER BY id');
    expect(stored).toHaveLength(14);
    for (const s of stored) expect(s.label).toBe(truth.get(s.id));

    // JSONL export: the pending row (asked for, not labelled) and the labelled rows are not asked for again.
    const exp2 = await runCli(['label', 'export', out, '--n', '10', '--format', 'jsonl']);
    expect(exp2.stdout).toContain('round 3');
    const second = readFileSync(path.join(out, 'label-round-3.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { id: string; picked_by: string; why: string });
    expect(second).toHaveLength(10);
    for (const s of second) expect(ids).not.toContain(s.id);
    expect(second[0]!.picked_by).toMatch(/^hybrid:/);

    // The next run in the same folder carries the rounds and uses the labels.
    const rerun = await runCli(['run', pipeline, '--out', out]);
    expect(rerun.code).toBe(0);
    const db = path.join(out, 'results.duckdb');
    const rounds = await queryStore<{ round: number; kind: string }>(db, 'SELECT round, kind FROM label_rounds ORDER BY round');
    expect(rounds).toEqual([
      { round: 1, kind: 'export' },
      { round: 2, kind: 'import' },
      { round: 3, kind: 'export' },
    ]);
    const labelled = await queryStore<{ n: number; ranked: number }>(db, `SELECT count(*)::INT n, count(select_rank)::INT ranked FROM samples WHERE label IS NOT NULL`);
    expect(labelled).toEqual([{ n: 14, ranked: 14 }]);
    const manifest = JSON.parse(readFileSync(path.join(out, 'manifest.json'), 'utf8')) as { stages?: Record<string, { labelled_rows?: number }>; barriers?: unknown };
    expect(JSON.stringify(manifest)).toContain('"labelled_rows":14');

    // A JSONL label file saved with a byte order mark (as some editors do) reads like any other; while
    // a run holds the folder's lock the import waits its turn (exit 75) instead of being lost at its commit.
    const pending = second[0]!.id;
    const bom = path.join(dir, 'round3-done.jsonl');
    writeFileSync(bom, '\uFEFF' + JSON.stringify({ id: pending, label: truth.get(pending) }) + '\n');
    const lockFile = path.join(out, '.winnow.lock');
    writeFileSync(lockFile, JSON.stringify({ pid: process.pid, host: hostname(), proc_start: null, started_at: new Date().toISOString(), command: 'winnow run (this test)' }));
    const held = await runCli(['label', 'import', out, bom]);
    expect(held.code, held.stderr).toBe(75);
    expect(held.stderr).toContain('is locked by another winnow run');
    rmSync(lockFile);
    const imported = await runCli(['label', 'import', out, bom]);
    expect(imported.code, imported.stderr).toBe(0);
    expect(imported.stdout).toContain('imported 1 labels');
    expect(existsSync(lockFile)).toBe(false);
  });
});

describe('shipped pipelines', () => {
  it('the active-learning example runs and exports a first round', async () => {
    const dir = tempDir();
    const out = path.join(dir, 'yoruba');
    const r = await runCli(['run', 'pipelines/yoruba-active-learning.yaml', '--out', out, '--quiet']);
    expect(r.stderr).not.toContain('error');
    expect(r.code).toBe(0);
    const flags = await queryStore<{ f: string | null; n: number }>(
      path.join(out, 'results.duckdb'),
      `SELECT surprise_flag f, count(*)::INT n FROM samples WHERE select_rank IS NOT NULL GROUP BY ALL ORDER BY ALL`,
    );
    expect(flags.map((x) => x.f)).toEqual(['high', 'low', null]);
    const set = await queryStore<{ n: number }>(path.join(out, 'results.duckdb'), 'SELECT count(*)::INT n FROM label_set');
    expect(set).toEqual([{ n: 7 }]);
    const e = await runCli(['label', 'export', out, '--n', '5']);
    expect(e.code).toBe(0);
    expect(readFileSync(path.join(out, 'label-round-1.csv'), 'utf8').trim().split('\n')).toHaveLength(6);
  });
});
