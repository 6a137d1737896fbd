import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { loadPipelineFile } from '../../src/config/load.js';
import { ROOT, tempDir } from '../helpers.js';

const PIPELINES = path.join(ROOT, 'pipelines');

describe('pipelines/ examples for scheduled and sharded jobs', () => {
  it('every pipeline file validates', () => {
    const files = readdirSync(PIPELINES).filter((f) => f.endsWith('.yaml'));
    expect(files).toEqual(expect.arrayContaining(['lake-nightly.yaml', 'lake-sharded.yaml']));
    for (const f of files) expect(() => loadPipelineFile(path.join(PIPELINES, f)), f).not.toThrow();
    const sharded = loadPipelineFile(path.join(PIPELINES, 'lake-sharded.yaml')).config;
    // Shards refuse a per-shard fitted encoder, so the example must name a model folder.
    expect(sharded.stages.embed.model).not.toBe('builtin');
    expect(sharded.stages.select.max_picks).toBeGreaterThan(0);
  });

  it('the Kubernetes manifests: an Indexed Job of 4 shards, a merge of the same 4, a nightly --state CronJob', () => {
    const docs = parseAllDocuments(readFileSync(path.join(PIPELINES, 'orchestrators', 'k8s-indexed-job.yaml'), 'utf8')).map((d) => d.toJS() as Record<string, any>);
    const [shards, merge] = docs;
    expect(shards!.kind).toBe('Job');
    expect(shards!.spec.completionMode).toBe('Indexed');
    const n = shards!.spec.completions as number;
    const shardCmd = (shards!.spec.template.spec.containers[0].args as string[]).join(' ');
    expect(shardCmd).toContain(`--shard "\${JOB_COMPLETION_INDEX}/${n}"`);
    expect(shardCmd).toContain('--out "/data/shards/${JOB_COMPLETION_INDEX}"');
    // Config and input errors (exit 2, 3) fail the index instead of being retried.
    expect(shards!.spec.podFailurePolicy.rules[0].onExitCodes.values).toEqual([2, 3]);
    const mergeCmd = merge!.spec.template.spec.containers[0].command as string[];
    expect(mergeCmd.slice(0, 3)).toEqual(['npx', 'winnow', 'merge']);
    expect(mergeCmd.filter((a) => a.startsWith('/data/shards/'))).toEqual(Array.from({ length: n }, (_, i) => `/data/shards/${i}`));
    const [cron] = parseAllDocuments(readFileSync(path.join(PIPELINES, 'orchestrators', 'k8s-cronjob-incremental.yaml'), 'utf8')).map((d) => d.toJS() as Record<string, any>);
    expect(cron!.spec.concurrencyPolicy).toBe('Forbid');
    expect(cron!.spec.jobTemplate.spec.template.spec.containers[0].command).toEqual(expect.arrayContaining(['run', '--state', '/data/state']));
  });

  it('the Slurm script submits an array of shards and a merge gate that runs after all of them', () => {
    const dir = tempDir('winnow-slurm-');
    const bin = path.join(dir, 'bin');
    mkdirSync(bin);
    const log = path.join(dir, 'sbatch.log');
    // A stand-in sbatch that records its arguments and answers with job ids, as `sbatch --parsable` does.
    writeFileSync(path.join(bin, 'sbatch'), `#!/usr/bin/env bash\nprintf '%s\\n' "$*" >> ${JSON.stringify(log)}\necho $((1000 + $(wc -l < ${JSON.stringify(log)})))\n`);
    chmodSync(path.join(bin, 'sbatch'), 0o755);
    const out = execFileSync('bash', [path.join(PIPELINES, 'orchestrators', 'slurm-array.sh'), '3'], {
      cwd: dir,
      env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, OUT: path.join(dir, 'out') },
      encoding: 'utf8',
    });
    const [array, merge] = readFileSync(log, 'utf8').trim().split('\n');
    expect(array).toContain('--array=0-2');
    expect(array).toContain('--shard $i/3 --out ' + path.join(dir, 'out', 'shard-$i'));
    // The merge waits for every task to end (afterany) and then checks each shard itself, so a failed
    // task cannot leave it pending forever (test/orchestrators runs this on a real cluster).
    expect(merge).toContain('--dependency=afterany:1001');
    expect(merge).toMatch(/slurm-array\.sh --gate 1 3 1001$/);
    expect(out).toContain('merge: job 1002');
  });
});
