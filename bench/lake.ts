import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../src/util/versions.js';
import { writeShortTextCorpus } from './corpus.js';
import { fmt, table, writeSection } from './report.js';

const FILE_ROWS = 10_000;

interface Step {
  wall: number;
  rssMB: number;
  input: number;
  selected: number;
  files: Record<string, number>;
}

/** One `winnow run --state` in its own process under /usr/bin/time: wall seconds and peak RSS. */
function step(pipeline: string, state: string): Step {
  const cli = path.join(PROJECT_ROOT, 'dist', 'cli', 'main.js');
  const timing = path.join(state, '..', 'time.txt');
  const out = execFileSync('/usr/bin/time', ['-f', '%e %M', '-o', timing, process.execPath, cli, 'run', pipeline, '--state', state, '--json', '--quiet'], { encoding: 'utf8', maxBuffer: 1 << 26 });
  const [wall, kb] = execFileSync('cat', [timing], { encoding: 'utf8' }).trim().split(/\s+/).map(Number);
  const j = JSON.parse(out) as { counts: { input: number; selected: number } | null; state: { files: Record<string, number> } };
  return { wall: wall!, rssMB: kb! / 1024, input: j.counts?.input ?? 0, selected: j.counts?.selected ?? 0, files: j.state.files };
}

/**
 * A nightly job over a data lake: 2,000,000 generated documents in 200 JSON Lines files processed end
 * to end with `--state` (built-in encoder), then 2 new files (1%) the next "night", then a night with
 * nothing new. Each run is its own process, as under cron.
 */
export async function benchLake(): Promise<void> {
  const dir = path.join(PROJECT_ROOT, '.bench', 'lake');
  rmSync(dir, { recursive: true, force: true });
  const lake = path.join(dir, 'lake');
  mkdirSync(lake, { recursive: true });
  const files = 200;
  let bytes = 0;
  for (let f = 0; f < files; f++) bytes += await writeShortTextCorpus(path.join(lake, `part-${String(f).padStart(4, '0')}.jsonl`), FILE_ROWS, 1000 + f);
  const pipeline = path.join(dir, 'lake.yaml');
  writeFileSync(
    pipeline,
    `name: lake
seed: 1
sources:
  - name: lake
    path: lake/**/*.jsonl
    columns: { text: text, lang: lang }
stages:
  langid: { enabled: false }
  embed: { model: builtin, builtin: { dim: 128 } }
  select: { strategy: hybrid }
  budget: { target: { tokens: 5000000 } }
store: { memory_limit: 1GB }
`,
  );
  const state = path.join(dir, 'state');
  console.log(`  lake: ${fmt(files * FILE_ROWS)} docs, ${(bytes / 1e9).toFixed(2)} GB`);
  const full = step(pipeline, state);
  console.log(`  full: ${fmt(full.wall, 1)} s, ${fmt(full.rssMB)} MB, ${fmt(full.input)} rows, ${fmt(full.selected)} selected`);
  for (let f = files; f < files + 2; f++) await writeShortTextCorpus(path.join(lake, `part-${String(f).padStart(4, '0')}.jsonl`), FILE_ROWS, 1000 + f);
  const incr = step(pipeline, state);
  console.log(`  +1%: ${fmt(incr.wall, 1)} s (${((100 * incr.wall) / full.wall).toFixed(1)}% of the full run), ${fmt(incr.rssMB)} MB`);
  const none = step(pipeline, state);
  console.log(`  nothing new: ${fmt(none.wall, 1)} s`);
  const pct = (s: Step): string => `${((100 * s.wall) / full.wall).toFixed(1)}%`;
  writeSection(
    'lake',
    `## Nightly job over a data lake: 2,000,000 documents, then +1%

\`winnow run lake.yaml --state DIR\`, each run its own process under \`/usr/bin/time\`. The lake is ${files} JSON Lines
files of ${fmt(FILE_ROWS)} generated short documents (windows of SIB-200 sentences in 12 languages, ${(bytes / 1e9).toFixed(2)} GB;
like a crawl, most are exact or near repeats). Pipeline: normalize, filters, quality, exact + near dedup, built-in
encoder (fitted on the first night, reused after), hybrid selection, a 5M-token budget; language ID off (at ~600
rows/s per core it would take most of an hour on 2M rows). Night 2 adds 2 files (1%), night 3 adds nothing.
Target: the 1% night under 5% of the full run.

${table(
  ['night', 'files new / changed / unchanged', 'rows read', 'selected', 'wall', 'share of full run', 'peak RSS'],
  [full, incr, none].map((s, k) => [
    k === 0 ? '1: full lake' : k === 1 ? '2: +1% files' : '3: nothing new',
    `${s.files.new} / ${s.files.changed} / ${s.files.unchanged}`,
    fmt(s.input),
    fmt(s.selected),
    `${fmt(s.wall, 1)} s`,
    pct(s),
    `${fmt(s.rssMB)} MB`,
  ]),
)}
`,
  );
}
