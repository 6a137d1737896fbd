import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { tableFromIPC } from 'apache-arrow';
import { CLI, FIXTURES, queryStore, writePipeline } from '../helpers.js';

/** A pipeline over fixture data that runs every barrier stage in a few seconds. */
export function fixturePipeline(dir: string, sourcesPath = path.join(FIXTURES, 'sib200', '{yor_Latn,hau_Latn,amh_Ethi}.jsonl.gz')): string {
  return writePipeline(
    dir,
    `name: jobs-fixture
seed: 7
sources:
  - name: sib200
    path: ${JSON.stringify(sourcesPath)}
    columns: { text: text, id: id, lang: lang }
  - name: ud
    path: ${JSON.stringify(path.join(FIXTURES, 'ud-text', '{yor,tgl}.jsonl.gz'))}
stages:
  langid: { enabled: false }
  dedup: { near: { threshold: 0.7 } }
  embed: { model: builtin, cache: false, builtin: { dim: 32, buckets: 8192 } }
  select: { strategy: hybrid }
  budget: { tokenizer: whitespace, target: { tokens: 40000 }, quota: { by: lang, temperature: 0.5 } }
limits: { batch_size: 128, checkpoint_seconds: 0 }
output: { embeddings: true }
`,
  );
}

export interface Child {
  code: Promise<number | null>;
  /** JSON log events seen so far. */
  events: Record<string, unknown>[];
  stdout: () => string;
  stderr: () => string;
  kill(): void;
  /** Sends a signal a scheduler or a terminal would (SIGTERM, SIGINT). */
  signal(sig: NodeJS.Signals): void;
  /** Resolves when an event matching `pred` is logged (or never). */
  waitFor(pred: (e: Record<string, unknown>) => boolean): Promise<void>;
}

/** Starts `winnow <args>` with JSON logs, so a test can follow its phases and kill it at any point. */
export function startCli(args: string[]): Child {
  const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, WINNOW_LOG_FORMAT: 'json' }, stdio: ['ignore', 'pipe', 'pipe'] });
  const events: Record<string, unknown>[] = [];
  const waiters: { pred: (e: Record<string, unknown>) => boolean; resolve: () => void }[] = [];
  let out = '';
  let err = '';
  let partial = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => {
    err += d.toString();
    partial += d.toString();
    const lines = partial.split('\n');
    partial = lines.pop()!;
    for (const l of lines) {
      let e: Record<string, unknown>;
      try {
        e = JSON.parse(l) as Record<string, unknown>;
      } catch {
        continue;
      }
      events.push(e);
      for (const w of waiters) if (w.pred(e)) w.resolve();
    }
  });
  const code = new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
  return {
    code,
    events,
    stdout: () => out,
    stderr: () => err,
    kill: () => child.kill('SIGKILL'),
    signal: (sig) => child.kill(sig),
    waitFor: (pred) => new Promise((resolve) => waiters.push({ pred, resolve })),
  };
}

const sha = (file: string): string => createHash('sha256').update(readFileSync(file)).digest('hex');

/** Everything a run's outputs say, minus wall times: two runs are the same run when these are equal. */
export async function outputDigest(out: string): Promise<Record<string, unknown>> {
  const manifest = JSON.parse(readFileSync(path.join(out, 'manifest.json'), 'utf8')) as Record<string, unknown>;
  const db = path.join(out, 'results.duckdb');
  const [rows] = await queryStore<{ h: string; n: number }>(
    db,
    `SELECT md5(string_agg(concat_ws('|', uid, id, status, reason, reason_detail, dup_cluster, dup_of, select_rank, select_value, tokens, quality), ';' ORDER BY uid)) AS h, count(*)::INTEGER AS n FROM samples`,
  );
  const [emb] = await queryStore<{ h: string }>(db, `SELECT md5(string_agg(embedding::VARCHAR, ';' ORDER BY uid)) AS h FROM embeddings`);
  const [quarantine] = await queryStore<{ n: number }>(db, `SELECT count(*)::INTEGER AS n FROM quarantine`);
  return {
    arrow: sha(path.join(out, 'selection.arrow')),
    parquet: sha(path.join(out, 'selection.parquet')),
    samples: rows,
    embeddings: emb!.h,
    quarantine: quarantine!.n,
    counts: manifest.counts,
    stages: (manifest.stages as { stage: string; in: number; out: number; rejected: unknown }[]).map(({ stage, in: i, out: o, rejected }) => ({ stage, in: i, out: o, rejected })),
    budget: manifest.budget,
    select: manifest.select,
  };
}

/**
 * Every output present under its final name must be whole: the Arrow file parses, the Parquet file
 * and the store open, the manifest is JSON. Returns the names found.
 */
export async function checkFinalFilesWhole(out: string): Promise<string[]> {
  const found: string[] = [];
  if (!existsSync(out)) return found;
  for (const name of readdirSync(out)) {
    const file = path.join(out, name);
    if (name === 'selection.arrow') tableFromIPC(readFileSync(file));
    else if (name === 'selection.parquet') await queryStore(':memory:', `SELECT count(*) FROM read_parquet('${file}')`);
    else if (name === 'results.duckdb') await queryStore(file, 'SELECT count(*) FROM samples');
    else if (name === 'manifest.json') JSON.parse(readFileSync(file, 'utf8'));
    else if (name === 'report.html') {
      if (!readFileSync(file, 'utf8').trimEnd().endsWith('</html>')) throw new Error('report.html is truncated');
    } else continue;
    found.push(name);
  }
  return found;
}
