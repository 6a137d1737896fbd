import { mkdirSync, rmSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { PROJECT_ROOT } from '../src/util/versions.js';
import { runDefaultInChild, type ChildResult } from './child.js';
import { writeDistinctTextCorpus } from './corpus.js';
import { fmt, table, writeSection } from './report.js';

/** Every row's fate and every signal the select stage stores, hashed: equal digests are the same selection. */
async function selectionDigest(out: string): Promise<string> {
  const db = await DuckDBInstance.create(path.join(out, 'results.duckdb'), { access_mode: 'READ_ONLY' });
  const c = await db.connect();
  try {
    const cols = ['id', 'status', 'select_rank', 'select_by', 'select_gain', 'typicality', 'cluster_entropy', 'importance'];
    const [[d]] = (await c.runAndReadAll(`SELECT md5(string_agg(concat_ws('|', ${cols.join(', ')}), ',' ORDER BY uid)) FROM samples`)).getRows() as [[string]];
    return d;
  } finally {
    c.closeSync();
  }
}

/**
 * The select stage's blocks on every core: the default pipeline (language ID off, so the run is
 * mostly selection) over a lake of several blocks, with one worker (blocks one at a time on the main
 * thread) and with one per core (as many blocks at once), each in a fresh process.
 */
export async function benchSelectBlocks(rows = Number(process.env.WINNOW_BENCH_BLOCKS_ROWS ?? 400_000), blockRows = 100_000): Promise<void> {
  const dir = path.join(PROJECT_ROOT, '.bench', 'select-blocks');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'rows.jsonl');
  await writeDistinctTextCorpus(file, rows, 11);
  const cores = availableParallelism();
  const runs: { w: number; r: ChildResult; digest: string }[] = [];
  for (const w of [1, cores]) {
    const out = path.join(dir, `out-${w}`);
    const r = runDefaultInChild(file, out, { execution: { workers: w }, stages: { langid: { enabled: false }, select: { block_rows: blockRows } } });
    runs.push({ w, r, digest: await selectionDigest(out) });
  }
  rmSync(dir, { recursive: true, force: true });
  const [one, all] = runs as [(typeof runs)[0], (typeof runs)[0]];
  const head = ['', ...runs.map(({ w }) => `${w} worker${w > 1 ? 's' : ''}`)];
  const line = (name: string, f: (x: (typeof runs)[0]) => string) => [name, ...runs.map(f)];
  writeSection(
    'selectblocks',
    `## Selection in blocks on every core

The default pipeline without language ID over ${fmt(rows)} generated short rows (\`writeDistinctTextCorpus\`),
\`select.block_rows: ${fmt(blockRows)}\` (${Math.ceil(rows / blockRows)} blocks), once with one worker (the blocks ranked one at a time on
the main thread) and once with one per core (${cores}: as many blocks at once on worker threads as the memory
budget allows; the default budget here), each in a fresh process. Select phase **${fmt(one.r.phases.select! / all.r.phases.select!, 2)}x** faster;
the selection (every row's status, rank, gain and signals, hashed) is ${one.digest === all.digest ? '**identical**' : '**DIFFERENT**'}.

${table(head, [
  line('select phase (s)', (x) => fmt(x.r.phases.select!, 1)),
  line('seconds end to end', (x) => fmt(x.r.seconds, 1)),
  line('peak RSS (MB)', (x) => fmt(x.r.maxRssMB)),
  line('selection digest', (x) => `\`${x.digest.slice(0, 12)}\``),
])}`,
  );
}
