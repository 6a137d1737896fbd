import { mkdirSync, rmSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { PROJECT_ROOT } from '../src/util/versions.js';
import { runDefaultInChild, type ChildResult } from './child.js';
import { writeShortTextCorpus } from './corpus.js';
import { fmt, table, writeSection } from './report.js';

/**
 * End to end: the default pipeline over generated short multilingual rows, with one worker and with
 * one per core, each in its own process: rows/s end to end and of the streaming phase, peak RSS,
 * seconds per stage and phase.
 */
export async function benchE2e(rows = Number(process.env.WINNOW_BENCH_E2E_ROWS ?? 1_000_000)): Promise<void> {
  const dir = path.join(PROJECT_ROOT, '.bench', 'e2e');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'rows.jsonl');
  await writeShortTextCorpus(file, rows, 11);
  const cores = availableParallelism();
  // The default pipeline (every default stage) in a fresh process with w worker threads.
  const results = [1, cores].map((w) => ({ w, r: runDefaultInChild(file, path.join(dir, `out-${w}`), { execution: { workers: w } }) }));
  rmSync(dir, { recursive: true, force: true });
  const [one, all] = [results[0]!.r, results[1]!.r];
  const head = ['', ...results.map(({ w }) => `${w} worker${w > 1 ? 's' : ''}`)];
  const line = (name: string, f: (r: ChildResult) => string) => [name, ...results.map(({ r }) => f(r))];
  const phases = [...new Set(results.flatMap(({ r }) => Object.keys(r.phases)))];
  const stages = [...new Set(results.flatMap(({ r }) => r.stages.map((s) => s.stage)))];
  writeSection(
    'e2e',
    `## End to end: the default pipeline on every core

The default pipeline (\`winnow run --input\`: every default stage, built-in encoder, language ID, quality,
dedup, embed, select, budget, report) over ${fmt(rows)} generated short rows in 12 languages
(\`writeShortTextCorpus\`), once with one worker and once with one per core (${cores}), each in a fresh process.
Streaming phase: **${fmt(one.phases.stream! / all.phases.stream!, 2)}x** faster with ${cores} workers; end to end
**${fmt(one.seconds / all.seconds, 2)}x**.

${table(head, [
  line('rows/s end to end', (r) => fmt(r.rows / r.seconds)),
  line('rows/s streaming phase', (r) => fmt(r.rows / r.phases.stream!)),
  line('seconds', (r) => fmt(r.seconds, 1)),
  line('peak RSS (MB)', (r) => fmt(r.maxRssMB)),
  line('selected', (r) => fmt(r.selected)),
])}

Seconds per phase (wall) and per streaming stage (summed over workers, divided by their number):

${table(head, [...phases.map((p) => line(`phase ${p}`, (r) => fmt(r.phases[p] ?? 0, 2))), ...stages.map((s) => line(`stage ${s}`, (r) => fmt(r.stages.find((x) => x.stage === s)?.seconds ?? 0, 2)))])}`,
  );
}
