import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { fixture, FIXTURES, tempDir, writePipeline } from '../helpers.js';
import { jobsSince, lastJobId, queueDrained, scriptEnv, SLURM_SCRIPTS, slurmUnavailable } from './slurm-helpers.js';

const unavailable = slurmUnavailable();

interface NightSummary {
  counts: { input: number };
  state: { status: string; files: { new: number; changed: number; unchanged: number } };
}

/** Submits one night with the shipped script and waits for it; returns its summary. */
async function night(dir: string): Promise<NightSummary> {
  const since = lastJobId();
  const env = scriptEnv({ PIPELINE: path.join(dir, 'pipeline.yaml'), STATE: path.join(dir, 'state'), LOGS: path.join(dir, 'logs') });
  const said = execFileSync('bash', [path.join(SLURM_SCRIPTS, 'slurm-nightly.sh')], { cwd: dir, env, encoding: 'utf8' });
  const job = /nightly: job (\d+)/.exec(said)![1]!;
  await queueDrained();
  expect(jobsSince(since).map((j) => `${j.JobName}:${j.JobState}`)).toEqual(['winnow-nightly:COMPLETED']);
  return JSON.parse(readFileSync(path.join(dir, 'logs', `nightly-${job}.json`), 'utf8')) as NightSummary;
}

describe.skipIf(unavailable !== null)('the shipped Slurm nightly script (incremental --state) on a real Slurm cluster', () => {
  it('two nights as Slurm jobs: the second reads only the file that arrived between them', async () => {
    const dir = tempDir('winnow-slurm-nightly-');
    const lake = path.join(dir, 'lake');
    mkdirSync(lake);
    const add = (lang: string): void => copyFileSync(path.join(FIXTURES, 'sib200', `${lang}.jsonl.gz`), path.join(lake, `${lang}.jsonl.gz`));
    add('yor_Latn');
    add('hau_Latn');
    writePipeline(
      dir,
      `name: nightly
seed: 3
sources:
  - { name: lake, path: ${JSON.stringify(path.join(lake, '*.jsonl.gz'))}, columns: { text: text, id: id, lang: lang } }
stages:
  langid: { enabled: false }
  embed: { model: builtin, builtin: { dim: 32, buckets: 8192 } }
  budget: { target: { tokens: 20000 } }
`,
    );
    const first = await night(dir);
    expect(first.state).toMatchObject({ status: 'completed', files: { new: 2 } });
    expect(first.counts.input).toBe(fixture('sib200/yor_Latn').length + fixture('sib200/hau_Latn').length);

    add('swh_Latn');
    const second = await night(dir);
    expect(second.state).toMatchObject({ status: 'completed', files: { new: 1, changed: 0, unchanged: 2 } });
    expect(second.counts.input).toBe(fixture('sib200/swh_Latn').length);
  }, 600_000);
});
