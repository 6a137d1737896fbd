import { mkdirSync, rmSync } from 'node:fs';
import { totalmem } from 'node:os';
import path from 'node:path';
import { PROJECT_ROOT } from '../src/util/versions.js';
import { runDefaultInChild, type ChildResult } from './child.js';
import { writeDistinctTextCorpus } from './corpus.js';
import { fmt, table, writeSection } from './report.js';

/** The run's memory budget (`execution.memory`): every size runs under the same one. */
const MEMORY = process.env.WINNOW_BENCH_SCALE_MEMORY ?? '4GB';

/** Phases worth a row in the table (checkpoints, emit and close are folded away). */
const PHASES = ['stream', 'quality_fit', 'dedup', 'embed', 'select', 'budget', 'report'];

/**
 * The default pipeline (`winnow run --input`, every default but a 4 GB memory budget) over generated lakes
 * of distinct short rows, each size in a fresh process: does it complete, how long, how much memory
 * per phase. Sizes from WINNOW_BENCH_SCALE_ROWS (default 1M,2M,4M); a size that fails is reported.
 */
export async function benchScale(sizes = (process.env.WINNOW_BENCH_SCALE_ROWS ?? '1000000,2000000,4000000').split(',').map(Number)): Promise<void> {
  const dir = path.join(PROJECT_ROOT, '.bench', 'scale');
  const runs: { rows: number; r: ChildResult | null; error?: string }[] = [];
  for (const rows of sizes) {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const file = path.join(dir, 'rows.jsonl');
    await writeDistinctTextCorpus(file, rows, 7);
    console.log(`  ${fmt(rows)} rows ...`);
    try {
      runs.push({ rows, r: runDefaultInChild(file, path.join(dir, 'out'), { execution: { memory: MEMORY } }) });
    } catch (err) {
      runs.push({
        rows,
        r: null,
        error: String((err as { stderr?: string }).stderr ?? err)
          .trim()
          .split('\n')
          .slice(-2)
          .join(' ')
          .slice(0, 200),
      });
    }
  }
  rmSync(dir, { recursive: true, force: true });
  const ok = runs.filter((x): x is { rows: number; r: ChildResult } => x.r !== null);
  const head = ['', ...runs.map((x) => `${fmt(x.rows)} rows`)];
  const cell = (f: (r: ChildResult, rows: number) => string) => runs.map((x) => (x.r ? f(x.r, x.rows) : `failed: ${x.error}`));
  const first = ok[0];
  const last = ok.at(-1);
  const growth =
    first && last && last !== first
      ? `From ${fmt(first.rows)} to ${fmt(last.rows)} rows peak RSS grew **${fmt(last.r.maxRssMB / first.r.maxRssMB, 2)}x** and seconds per row **${fmt(last.r.seconds / last.rows / (first.r.seconds / first.rows), 2)}x**.`
      : '';
  writeSection(
    'scale',
    `## Scale: the default pipeline on large lakes

\`npm run bench -- scale\` (not part of \`npm run bench\`; sizes from \`WINNOW_BENCH_SCALE_ROWS\`): generated lakes of
distinct short rows in 12 languages (\`writeDistinctTextCorpus\`: word-bigram walks over the SIB-200 fixtures,
6-30 words; dedup keeps nearly all of them), the default pipeline with every default but the memory budget
(\`execution.memory: ${MEMORY}\`, so DuckDB's cap is half of it; ${fmt(totalmem() / 1e9, 1)} GB machine), each size in a fresh
process. ${growth}

${table(head, [
  ['completed', ...cell(() => 'yes')],
  ['seconds', ...cell((r) => fmt(r.seconds, 0))],
  ['rows/s', ...cell((r, rows) => fmt(rows / r.seconds))],
  ['peak RSS (MB)', ...cell((r) => fmt(r.maxRssMB))],
  ['rows selected', ...cell((r) => fmt(r.selected))],
])}

Seconds and RSS after each phase (MB; the process's peak so far in brackets):

${table(
  head,
  PHASES.map((p) => [p, ...cell((r) => (r.phases[p] === undefined ? '-' : `${fmt(r.phases[p], 0)} s, ${fmt(r.phaseRss[p]?.rss_mb ?? 0)} (${fmt(r.phaseRss[p]?.peak_rss_mb ?? 0)})`))]),
)}`,
  );
}
