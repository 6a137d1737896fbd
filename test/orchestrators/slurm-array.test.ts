import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryStore, runCli, tempDir, writePipeline, FIXTURES } from '../helpers.js';
import { jobsSince, lastJobId, queueDrained, scriptEnv, SKIP_NOTE, slurm, SLURM_SCRIPTS, slurmUnavailable, waitFor, type SlurmJob } from './slurm-helpers.js';

const unavailable = slurmUnavailable();
if (unavailable) console.warn(`Slurm tests skipped: ${unavailable}. ${SKIP_NOTE}`);

const LANGS = ['yor_Latn', 'hau_Latn', 'swh_Latn', 'zul_Latn', 'kin_Latn', 'lin_Latn'];
const N = 3;

function pipelineYaml(model: string): string {
  return `name: slurm-sharded
seed: 5
sources:
  - name: sib200
    path: ${JSON.stringify(path.join(FIXTURES, 'sib200', `{${LANGS.join(',')}}.jsonl.gz`))}
    columns: { text: text, id: id, lang: lang }
stages:
  langid: { enabled: false }
  dedup: { near: { threshold: 0.7 } }
  embed: { model: ${model}, builtin: { dim: 64, buckets: 16384 } }
  select: { strategy: hybrid, max_picks: 600 }
  budget: { target: { tokens: 30000 } }
`;
}

interface Outcome {
  id: string;
  status: string;
  reason: string | null;
  dup_kind: string | null;
  dup_of: string | null;
}

/** Every row's dedup outcome (over_budget counted as kept: the budget is not a dedup decision). */
const dedupOutcome = (out: string): Promise<Outcome[]> =>
  queryStore<Outcome>(
    path.join(out, 'results.duckdb'),
    `SELECT id, CASE WHEN reason = 'over_budget' THEN 'selected' ELSE status::VARCHAR END AS status,
            CASE WHEN reason = 'over_budget' THEN NULL ELSE reason END AS reason, dup_kind, dup_of FROM samples ORDER BY id`,
  );

const selectedIds = async (out: string): Promise<string[]> =>
  (await queryStore<{ id: string }>(path.join(out, 'results.duckdb'), `SELECT id FROM samples WHERE status = 'selected' ORDER BY id`)).map((r) => r.id);

const sha = (file: string): string => createHash('sha256').update(readFileSync(file)).digest('hex');

interface Manifest {
  counts: { input: number; selected: number; reconciled: boolean };
  budget: { selected_unique_tokens: number; plan: { unique_tokens: number } };
}
const manifest = (dir: string): Manifest => JSON.parse(readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as Manifest;

/** Submits the shipped array script for N shards into `out`; returns the last job id before it. */
function submit(dir: string, out: string): number {
  const since = lastJobId();
  const said = execFileSync('bash', [path.join(SLURM_SCRIPTS, 'slurm-array.sh'), String(N)], {
    cwd: dir,
    env: scriptEnv({ OUT: out, PIPELINE: path.join(dir, 'pipeline.yaml') }),
    encoding: 'utf8',
  });
  expect(said).toMatch(/shards: job \d+ \(array 0-2\), merge: job \d+/);
  return since;
}

const shardTasks = (js: SlurmJob[]): SlurmJob[] => js.filter((j) => j.JobName === 'winnow-shards');
const gates = (js: SlurmJob[]): SlurmJob[] => js.filter((j) => j.JobName === 'winnow-merge');
const taskOf = (js: SlurmJob[], i: number): SlurmJob | undefined => shardTasks(js).find((j) => j.ArrayTaskId === String(i));

/** Waits until shard i's task has checkpointed its dedup stage, i.e. it is well into its run. */
const midRun = (out: string, i: number): Promise<true> =>
  waitFor(`shard ${i} to checkpoint`, () => {
    const log = path.join(out, 'logs', `shard-${i}.jsonl`);
    return existsSync(log) && readFileSync(log, 'utf8').includes('"phase":"dedup"');
  });
const RESUMED = /resuming run \S+ \(attempt 2\) from its last checkpoint: after (dedup|embed|select)/;

describe.skipIf(unavailable !== null)('the shipped Slurm array script on a real Slurm cluster', () => {
  let dir: string;
  let single: string;
  let undisturbed: string;

  beforeAll(async () => {
    dir = tempDir('winnow-slurm-');
    // One encoder for every shard, fitted by a run over the whole lake.
    writePipeline(dir, pipelineYaml('builtin'), 'fit.yaml');
    const fit = await runCli(['run', path.join(dir, 'fit.yaml'), '--out', path.join(dir, 'fit'), '--quiet']);
    expect(fit.code, fit.stderr).toBe(0);
    writePipeline(dir, pipelineYaml(JSON.stringify(path.join(dir, 'fit', 'model'))));
    // The single-process reference: the same files, config and encoder, in one run.
    single = path.join(dir, 'single');
    const ref = await runCli(['run', path.join(dir, 'pipeline.yaml'), '--out', single, '--quiet']);
    expect(ref.code, ref.stderr).toBe(0);
  }, 300_000);

  afterAll(() => {
    if (unavailable === null) {
      slurm('scancel', ['--name=winnow-shards']);
      slurm('scancel', ['--name=winnow-merge']);
    }
  });

  it('3 array tasks and the merge complete; dedup identical to one process, selection within budget', async () => {
    undisturbed = path.join(dir, 'a');
    const since = submit(dir, undisturbed);
    await queueDrained();
    const js = jobsSince(since);
    expect(
      shardTasks(js)
        .map((j) => `${j.ArrayTaskId}:${j.JobState}:${j.ExitCode}`)
        .sort(),
    ).toEqual(['0:COMPLETED:0:0', '1:COMPLETED:0:0', '2:COMPLETED:0:0']);
    expect(gates(js).map((j) => j.JobState)).toEqual(['COMPLETED']);

    const merged = path.join(undisturbed, 'merged');
    const m = manifest(merged);
    expect(m.counts.reconciled).toBe(true);
    expect(m.counts.input).toBe(manifest(single).counts.input);
    expect(await dedupOutcome(merged)).toEqual(await dedupOutcome(single));
    expect(m.budget.selected_unique_tokens).toBeLessThanOrEqual(m.budget.plan.unique_tokens);
    const a = new Set(await selectedIds(single));
    const b = await selectedIds(merged);
    const overlap = b.filter((id) => a.has(id)).length / Math.max(a.size, b.length);
    console.log(`Slurm N=${N}: merged selects ${b.length} rows, single process ${a.size}; overlap ${(100 * overlap).toFixed(1)}%`);
    expect(overlap).toBeGreaterThan(0.5);
  }, 900_000);

  it('a shard task killed mid-run and requeued resumes; the merged output is identical to an undisturbed run', async () => {
    const out = path.join(dir, 'requeued');
    const since = submit(dir, out);
    await midRun(out, 0);
    const task = taskOf(jobsSince(since), 0)!;
    slurm('scancel', ['--signal=KILL', task.JobId]);
    await waitFor('the killed task to end', () => taskOf(jobsSince(since), 0)?.JobState === 'CANCELLED');
    slurm('scontrol', ['requeue', task.JobId]);
    // A requeued job becomes eligible two minutes later; a user in a hurry (or this test) starts it now.
    slurm('scontrol', ['update', `JobId=${task.JobId}`, 'StartTime=now']);
    await queueDrained();
    const js = jobsSince(since);
    expect(taskOf(js, 0)).toMatchObject({ JobState: 'COMPLETED', Restarts: '1' });
    expect(gates(js).map((j) => j.JobState)).toEqual(['COMPLETED']);
    expect(readFileSync(path.join(out, 'logs', 'shard-0.jsonl'), 'utf8')).toMatch(RESUMED);
    expect(sha(path.join(out, 'merged', 'selection.parquet'))).toBe(sha(path.join(undisturbed, 'merged', 'selection.parquet')));
    expect(await dedupOutcome(path.join(out, 'merged'))).toEqual(await dedupOutcome(path.join(undisturbed, 'merged')));
  }, 900_000);

  it('a shard task that fails is resubmitted by the gate; the merge runs once, nothing is left pending', async () => {
    const out = path.join(dir, 'failed');
    const since = submit(dir, out);
    await midRun(out, 1);
    slurm('scancel', ['--signal=KILL', taskOf(jobsSince(since), 1)!.JobId]);
    await queueDrained();
    const js = jobsSince(since);
    // The first gate found shard 1 incomplete and resubmitted it; the second gate merged.
    const tasks1 = shardTasks(js).filter((j) => j.ArrayTaskId === '1');
    expect(tasks1.map((j) => j.JobState)).toEqual(['CANCELLED', 'COMPLETED']);
    expect(gates(js).map((j) => j.JobState)).toEqual(['COMPLETED', 'COMPLETED']);
    const gateLog = readFileSync(path.join(out, 'logs', 'merge.jsonl'), 'utf8');
    expect(gateLog).toContain('round 1: resubmitted shards 1 as job');
    // One merge summary (`winnow merge --json` prints one per run) in the gates' log.
    expect(gateLog.split('\n').filter((l) => l.startsWith('{"run_id"')).length).toBe(1);
    expect(readFileSync(path.join(out, 'logs', 'shard-1.jsonl'), 'utf8')).toMatch(RESUMED);
    expect(sha(path.join(out, 'merged', 'selection.parquet'))).toBe(sha(path.join(undisturbed, 'merged', 'selection.parquet')));
  }, 900_000);

  it('a task that exits 75 (lock held) is retried after RETRY_DELAY, and the merge follows', async () => {
    const out = path.join(dir, 'locked');
    // Another live process holds shard 2's lock, as a run started by hand would.
    const holder = spawn('sleep', ['600'], { stdio: 'ignore' });
    const stat = readFileSync(`/proc/${holder.pid}/stat`, 'utf8');
    const procStart = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
    mkdirSync(path.join(out, 'shard-2'), { recursive: true });
    const info = { pid: holder.pid, host: hostname(), proc_start: procStart, started_at: new Date().toISOString(), command: 'winnow run (by hand)' };
    writeFileSync(path.join(out, 'shard-2', '.winnow.lock'), JSON.stringify(info) + '\n');
    try {
      const since = submit(dir, out);
      await waitFor('shard 2 to exit 75', () => existsSync(path.join(out, 'status', 'shard-2.exit')) && readFileSync(path.join(out, 'status', 'shard-2.exit'), 'utf8').trim() === '75');
      holder.kill();
      await queueDrained();
      const js = jobsSince(since);
      expect(
        shardTasks(js)
          .filter((j) => j.ArrayTaskId === '2')
          .map((j) => `${j.JobState}:${j.ExitCode}`),
      ).toEqual(['FAILED:75:0', 'COMPLETED:0:0']);
      expect(gates(js).map((j) => j.JobState)).toEqual(['COMPLETED', 'COMPLETED']);
      expect(readFileSync(path.join(out, 'logs', 'merge.jsonl'), 'utf8')).toMatch(/resubmitted shards 2 as job \d+ \(begin now\+3\)/);
      expect(sha(path.join(out, 'merged', 'selection.parquet'))).toBe(sha(path.join(undisturbed, 'merged', 'selection.parquet')));
    } finally {
      holder.kill();
    }
  }, 900_000);
});
