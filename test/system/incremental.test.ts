import { mkdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { queryStore, ROOT, runCli, tempDir } from '../helpers.js';
import { startCli } from '../jobs/job-helpers.js';
import { day1, day1Job, day2, day3, hau, pipeline, step } from '../jobs/incremental-helpers.js';

const store = (out: string): string => path.join(out, 'results.duckdb');

describe('incremental runs over a growing folder (--state)', () => {
  it('three days: nothing lost, nothing counted twice, the changed file superseded, the repeat rejected', async () => {
    const dir = tempDir('winnow-incr-');
    const lake = path.join(dir, 'lake');
    const state = path.join(dir, 'state');
    const yaml = pipeline(dir);

    day1(lake);
    const r1 = await step(yaml, state);
    expect(r1.state).toMatchObject({ seq: 1, status: 'completed', files: { new: 2, changed: 0, unchanged: 0 }, superseded_rows: 0 });
    expect(r1.counts!.input).toBe(600);

    day2(lake);
    const r2 = await step(yaml, state);
    expect(r2.state).toMatchObject({ seq: 2, files: { new: 1, changed: 1, unchanged: 1 }, superseded_rows: 300 });
    // Only the new and the changed file were read: 200 + 400 rows, not hau.jsonl again.
    expect(r2.counts!.input).toBe(600);
    const files2 = await queryStore<{ file: string; n: number }>(store(r2.state.out_dir!), `SELECT file::VARCHAR AS file, count(*)::INTEGER AS n FROM samples GROUP BY ALL ORDER BY file`);
    expect(files2).toEqual([
      { file: 'amh.jsonl', n: 200 },
      { file: 'yor.jsonl', n: 400 },
    ]);
    // The changed file's rows are judged afresh, not as duplicates of their own earlier version.
    const [againstOld] = await queryStore<{ n: number }>(store(r2.state.out_dir!), `SELECT count(*)::INTEGER AS n FROM samples WHERE dup_cluster < 0`);
    expect(againstOld!.n).toBe(0);
    const [edited] = await queryStore<{ text: string; status: string }>(store(r2.state.out_dir!), `SELECT text, status::VARCHAR AS status FROM samples WHERE file = 'yor.jsonl' AND "row" = 5`);
    expect(edited!.text.startsWith('Àtúnṣe')).toBe(true);

    day3(lake);
    const r3 = await step(yaml, state);
    expect(r3.state).toMatchObject({ seq: 3, files: { new: 1, changed: 0, unchanged: 3 }, superseded_rows: 0 });
    expect(r3.counts!.input).toBe(81);
    // The 31 repeated rows are rejected with a reason naming the day-1 row they repeat.
    const dups = await queryStore<{ reason: string; detail: string; dup_of: string }>(
      store(r3.state.out_dir!),
      `SELECT reason, reason_detail AS detail, dup_of FROM samples WHERE "row" <= 31 ORDER BY "row"`,
    );
    expect(dups).toHaveLength(31);
    dups.forEach((d, k) => {
      expect(d.reason).toBe('exact_dup');
      expect(d.dup_of).toBe(hau[9 + k]!.id);
    });

    // Reconciliation across runs, from the state store.
    const db = path.join(state, 'state.duckdb');
    const runs = await queryStore<{ seq: number; input_rows: number; selected_rows: number; rejected_rows: number }>(
      db,
      `SELECT seq, input_rows::INTEGER AS input_rows, selected_rows::INTEGER AS selected_rows, rejected_rows::INTEGER AS rejected_rows FROM runs ORDER BY seq`,
    );
    for (const r of runs) expect(r.selected_rows + r.rejected_rows).toBe(r.input_rows);
    const [ledger] = await queryStore<{ total: number; current: number; superseded: number; keys: number }>(
      db,
      `SELECT count(*)::INTEGER AS total, count(*) FILTER (superseded_by IS NULL)::INTEGER AS current,
              count(*) FILTER (superseded_by IS NOT NULL)::INTEGER AS superseded,
              count(DISTINCT (source, file, "row")) FILTER (superseded_by IS NULL)::INTEGER AS keys FROM ledger`,
    );
    expect(ledger!.total).toBe(runs.reduce((a, r) => a + r.input_rows, 0));
    // Every row of every file now in the lake is current exactly once: 300 hau + 400 yor + 200 amh + 81 mix.
    expect(ledger!.current).toBe(981);
    expect(ledger!.keys).toBe(981);
    expect(ledger!.superseded).toBe(300);
    const [files] = await queryStore<{ active: number; rows: number }>(db, `SELECT count(*)::INTEGER AS active, sum("rows")::INTEGER AS rows FROM files WHERE active`);
    expect(files).toEqual({ active: 4, rows: 981 });

    // One encoder for the whole job: fitted on day 1, reused after.
    const fp = (out: string): string => (JSON.parse(readFileSync(path.join(out, 'manifest.json'), 'utf8')) as { embed: { fingerprint: string } }).embed.fingerprint;
    expect(fp(r2.state.out_dir!)).toBe(fp(r1.state.out_dir!));
    expect(fp(r3.state.out_dir!)).toBe(fp(r1.state.out_dir!));

    // latest follows the newest run; a run with nothing new leaves it and records itself.
    expect(path.resolve(state, readlinkSync(path.join(state, 'latest')))).toBe(r3.state.out_dir);
    const r4 = await step(yaml, state);
    expect(r4.state).toMatchObject({ seq: 4, status: 'no_changes', files: { new: 0, changed: 0, unchanged: 4 } });
    expect(path.resolve(state, readlinkSync(path.join(state, 'latest')))).toBe(r3.state.out_dir);

    const list = await runCli(['runs', state]);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/^3\s+completed .* 1\/0\/3\s+81\s/m);
    expect(list.stdout).toContain('rows read 1,281 = 981 current + 300 superseded');
  }, 180_000);

  it('an interrupted run whose files went back to their earlier versions is abandoned, not run', async () => {
    const { dir, yaml, state } = day1Job('winnow-incr-abandon-');
    await step(yaml, state);
    const indexSize = async (): Promise<number> => (await queryStore<{ n: number }>(path.join(state, 'state.duckdb'), 'SELECT count(*)::INTEGER AS n FROM dedup_index'))[0]!.n;
    const kept = await indexSize();
    const lake = path.join(dir, 'lake');
    const before = readFileSync(path.join(lake, 'yor.jsonl'));
    day2(lake);
    const killed = startCli(['run', yaml, '--state', state]);
    void killed.waitFor((e) => e.event === 'stage_start' && e.stage === 'dedup').then(() => killed.kill());
    expect(await killed.code).not.toBe(0);
    writeFileSync(path.join(lake, 'yor.jsonl'), before);
    rmSync(path.join(lake, 'amh.jsonl'));
    const r = await runCli(['run', yaml, '--state', state, '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('recorded as abandoned');
    expect(JSON.parse(r.stdout).state).toMatchObject({ seq: 3, status: 'no_changes' });
    const runs = await queryStore<{ seq: number; status: string }>(path.join(state, 'state.duckdb'), 'SELECT seq, status FROM runs ORDER BY seq');
    expect(runs).toEqual([
      { seq: 1, status: 'completed' },
      { seq: 2, status: 'abandoned' },
      { seq: 3, status: 'no_changes' },
    ]);
    // The index the interrupted run read without yor.jsonl's rows is whole again.
    expect(await indexSize()).toBe(kept);
  }, 120_000);

  it('a second run on the same state is refused with exit code 75 while the first is alive', async () => {
    const { yaml, state } = day1Job('winnow-incr-lock-');
    const first = startCli(['run', yaml, '--state', state]);
    await first.waitFor((e) => e.event === 'run_start');
    const second = await runCli(['run', yaml, '--state', state]);
    expect(second.code).toBe(75);
    expect(second.stderr).toMatch(/is locked by another winnow run \(pid \d+/);
    expect(await first.code).toBe(0);
    // The refused run wrote nothing: only the first run is in the state.
    const runs = await queryStore<{ n: number }>(path.join(state, 'state.duckdb'), 'SELECT count(*)::INTEGER AS n FROM runs');
    expect(runs[0]!.n).toBe(1);
  }, 120_000);

  it('a stale lock of a dead process is taken over; --state and --out together are refused', async () => {
    const { dir, yaml, state } = day1Job('winnow-incr-stale-');
    mkdirSync(state, { recursive: true });
    // A pid that is not running (pid_max on Linux is at most 2^22).
    writeFileSync(path.join(state, '.winnow.lock'), JSON.stringify({ pid: 4194304 + 7, host: hostname(), proc_start: null, started_at: '2026-01-01T00:00:00Z', command: 'winnow run (crashed)' }));
    const r = await runCli(['run', yaml, '--state', state]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('took over the lock of a run that is no longer alive');
    const both = await runCli(['run', yaml, '--state', state, '--out', path.join(dir, 'x')]);
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('leave out --out');
  }, 120_000);
});

describe('the shipped nightly pipeline', () => {
  it('lake-nightly.yaml runs incrementally on the shipped sample: a first run, then nothing new', async () => {
    const state = path.join(tempDir('winnow-nightly-'), 'state');
    const first = await runCli(['run', path.join(ROOT, 'pipelines', 'lake-nightly.yaml'), '--state', state, '--json', '--quiet']);
    expect(first.code, first.stderr).toBe(0);
    const a = JSON.parse(first.stdout) as { counts: { input: number }; state: { status: string; files: { new: number } } };
    expect(a.state).toMatchObject({ status: 'completed', files: { new: 3 } });
    expect(a.counts.input).toBeGreaterThan(0);
    const second = await runCli(['run', path.join(ROOT, 'pipelines', 'lake-nightly.yaml'), '--state', state, '--json', '--quiet']);
    expect(JSON.parse(second.stdout).state).toMatchObject({ status: 'no_changes', files: { new: 0, changed: 0, unchanged: 3 } });
  }, 120_000);
});
