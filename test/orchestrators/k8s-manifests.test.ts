import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { ROOT, runCli, tempDir } from '../helpers.js';
import { k8sErrors, type Kind } from './k8s-schema.js';

const DIR = path.join(ROOT, 'pipelines', 'orchestrators');
const MANIFESTS = ['k8s-indexed-job.yaml', 'k8s-cronjob-incremental.yaml'];

interface Doc {
  name: string;
  kind: Kind;
  doc: Record<string, any>;
}

const load = (file: string): Doc[] =>
  parseAllDocuments(readFileSync(path.join(DIR, file), 'utf8')).map((d, i) => {
    const doc = d.toJS() as Record<string, any>;
    return { name: `${file}#${i}`, kind: doc.kind as Kind, doc };
  });

const container = (d: Doc): Record<string, any> => (d.kind === 'CronJob' ? d.doc.spec.jobTemplate.spec.template.spec : d.doc.spec.template.spec).containers[0];

/**
 * Runs a manifest's container command here, as the pod would: /app (the image's checkout) is this
 * repository, the /data volume a temporary folder, plus the environment Kubernetes sets.
 */
function runContainer(d: Doc, data: string, env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const c = container(d);
  const local = (s: string): string => s.replaceAll('/data/', `${data}/`);
  const argv = [...(c.command as string[]), ...((c.args as string[] | undefined) ?? [])].map(local);
  expect(c.workingDir).toBe('/app');
  return new Promise((resolve) => {
    execFile(argv[0]!, argv.slice(1), { cwd: ROOT, env: { ...process.env, WINNOW_LOG_FORMAT: 'json', ...env }, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

describe('the Kubernetes manifests in pipelines/orchestrators', () => {
  const docs = MANIFESTS.flatMap(load);

  it('validate against the Kubernetes batch/v1 schemas, unknown fields included; a typo is caught', () => {
    expect(docs.map((d) => d.kind).sort()).toEqual(['CronJob', 'Job', 'Job']);
    expect(k8sErrors(docs)).toEqual([]);
    // The validator is not a rubber stamp: each of these mistakes is reported.
    const job = docs.find((d) => d.doc.metadata.name === 'winnow-shards')!;
    const broken = (edit: (doc: Record<string, any>) => void): Doc => {
      const doc = structuredClone(job.doc);
      edit(doc);
      return { ...job, doc };
    };
    const typos = [
      broken((d) => ((d.spec.completionsMode = 'Indexed'), delete d.spec.completionMode)),
      broken((d) => (d.spec.completions = '4')),
      broken((d) => (d.spec.template.spec.containers[0].workdir = '/app')),
      broken((d) => (d.spec.completionMode = 'indexed')),
      broken((d) => delete d.spec.template),
    ];
    for (const t of typos) expect(k8sErrors([t]).length, JSON.stringify(t.doc.spec).slice(0, 120)).toBeGreaterThan(0);
  }, 120_000);

  describe('their commands, run here with the environment a pod gets', () => {
    let data: string;
    beforeAll(async () => {
      // /data as the manifests expect it: the pipelines, the lake, and the shared encoder made with the
      // recipe in pipelines/lake-sharded.yaml.
      data = path.join(tempDir('winnow-k8s-'), 'data');
      mkdirSync(path.join(data, 'pipelines'), { recursive: true });
      for (const f of ['lake-sharded.yaml', 'lake-nightly.yaml']) copyFileSync(path.join(ROOT, 'pipelines', f), path.join(data, 'pipelines', f));
      symlinkSync(path.join(ROOT, 'datasets'), path.join(data, 'datasets'));
      const fit = await runCli([
        'embed',
        '--input',
        path.join(data, 'datasets', 'sib200', '*.jsonl'),
        '--out',
        path.join(data, 'sample.parquet'),
        '--save-model',
        path.join(data, 'models', 'lake-encoder'),
      ]);
      expect(fit.code, fit.stderr).toBe(0);
    }, 300_000);

    it('the Indexed Job: every JOB_COMPLETION_INDEX runs its shard, then the merge Job merges them', async () => {
      const [shards, merge] = load('k8s-indexed-job.yaml');
      const n = shards!.doc.spec.completions as number;
      for (let i = 0; i < n; i++) {
        const r = await runContainer(shards!, data, { JOB_COMPLETION_INDEX: String(i) });
        expect(r.code, `shard ${i}: ${r.stderr.slice(-2000)}`).toBe(0);
      }
      const m = await runContainer(merge!, data);
      expect(m.code, m.stderr.slice(-2000)).toBe(0);
      const manifest = JSON.parse(readFileSync(path.join(data, 'merged', 'manifest.json'), 'utf8')) as { counts: { input: number; reconciled: boolean } };
      const rows = ['amh_Ethi', 'hau_Latn', 'yor_Latn'].map(
        (l) =>
          readFileSync(path.join(ROOT, 'datasets', 'sib200', `${l}.jsonl`), 'utf8')
            .trim()
            .split('\n').length,
      );
      expect(manifest.counts).toMatchObject({ input: rows.reduce((a, b) => a + b), reconciled: true });
    }, 600_000);

    it('the CronJob: a night reads the lake, the next finds nothing new', async () => {
      const [cron] = load('k8s-cronjob-incremental.yaml');
      const first = await runContainer(cron!, data);
      expect(first.code, first.stderr.slice(-2000)).toBe(0);
      expect(JSON.parse(first.stdout).state).toMatchObject({ status: 'completed', files: { new: 3 } });
      const second = await runContainer(cron!, data);
      expect(JSON.parse(second.stdout).state).toMatchObject({ status: 'no_changes', files: { new: 0, unchanged: 3 } });
    }, 600_000);
  });
});
