import { mkdirSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { readLines } from '../src/sources/line-reader.js';
import { PROJECT_ROOT } from '../src/util/versions.js';
import { runDefaultInChild, type ChildResult } from './child.js';
import { writeShortTextCorpus } from './corpus.js';
import { fmt, table, writeSection } from './report.js';

/** The least any JSONL reader must do: split lines and JSON.parse each. The pipeline is compared to it. */
async function baselineParse(file: string): Promise<{ rows: number; seconds: number }> {
  const t0 = performance.now();
  let rows = 0;
  for await (const lines of readLines(file, { gzip: false, maxBytes: 1 << 20, previewChars: 100 })) {
    for (const l of lines)
      if ('text' in l && l.text !== '') {
        JSON.parse(l.text);
        rows++;
      }
  }
  return { rows, seconds: (performance.now() - t0) / 1000 };
}

export async function benchBackbone(sizes = [1_000_000, 4_000_000]): Promise<void> {
  const dir = path.join(PROJECT_ROOT, '.bench', 'backbone');
  mkdirSync(dir, { recursive: true });
  const rows: (string | number)[][] = [];
  const results: { n: number; r: ChildResult; mb: number; base: { rows: number; seconds: number } }[] = [];
  let checkpointCost = { n: 0, on: NaN, off: NaN, snapshot: NaN };
  for (const n of sizes) {
    const file = path.join(dir, `short-${n}.jsonl`);
    console.log(`backbone: generating ${fmt(n)} rows`);
    await writeShortTextCorpus(file, n, 7);
    const mb = statSync(file).size / 1e6;
    const base = await baselineParse(file);
    const out = path.join(dir, `out-${n}`);
    rmSync(out, { recursive: true, force: true });
    console.log(`backbone: running the default pipeline on ${fmt(n)} rows`);
    // The backbone alone: the barrier stages have their own benchmarks.
    const only = {
      stages: { langid: { enabled: false }, quality: { enabled: false }, embed: { enabled: false }, dedup: { exact: { enabled: false }, near: { enabled: false } }, budget: { tokenizer: 'none' } },
    };
    const child = (overrides: object): ChildResult => runDefaultInChild(file, out, overrides);
    const r = child(only);
    results.push({ n, r, mb, base });
    // What resumability costs: the same run with no streaming checkpoints (the barrier snapshots remain).
    // Alternated and the fastest of each kept: on this shared machine one pair of runs differs by 10% either way.
    if (n === sizes[0]) {
      const off = { ...only, limits: { checkpoint_seconds: 1e9 } };
      const times = { on: [r.seconds], off: [] as number[] };
      for (let rep = 0; rep < 2; rep++) {
        times.off.push(child(off).seconds);
        if (rep === 0) times.on.push(child(only).seconds);
      }
      checkpointCost = { n, on: Math.min(...times.on), off: Math.min(...times.off), snapshot: r.phases.checkpoint ?? 0 };
    }
    rows.push([
      fmt(n),
      fmt(mb, 0),
      fmt(r.seconds, 1),
      fmt(n / r.seconds),
      fmt(mb / r.seconds, 1),
      fmt(base.rows / base.seconds),
      fmt(n / r.seconds / (base.rows / base.seconds), 2),
      fmt(r.maxRssMB, 0),
    ]);
    rmSync(file, { force: true });
    rmSync(out, { recursive: true, force: true });
  }
  const stageRows = results.map(({ n, r }) => [fmt(n), ...r.stages.map((s) => fmt(s.seconds, 1)), ...Object.values(r.phases).map((v) => fmt(v, 1))]);
  const rss = results.length >= 2 ? results[results.length - 1]!.r.maxRssMB / results[0]!.r.maxRssMB : NaN;
  writeSection(
    'backbone',
    `## Backbone: read -> normalize -> filters -> store -> emit

Generated corpus of short texts (4-24-word windows of real SIB-200 sentences in 12 languages, JSON Lines with
\`id\`, \`lang\`, \`text\`), run through the default pipeline (\`winnow run --input\`) in a child process, so peak RSS
is that run's own. The baseline is the least a JSONL reader does (split lines + \`JSON.parse\`), measured in the
bench process on the same file; the ratio is pipeline rows/s over baseline rows/s.

${table(['rows', 'MB', 'wall s', 'rows/s', 'MB/s', 'baseline rows/s', 'ratio to baseline', 'peak RSS MB'], rows)}

Peak RSS at ${fmt(results[results.length - 1]?.n ?? 0)} rows over ${fmt(results[0]?.n ?? 0)} rows: **${fmt(rss, 2)}x** (target: at most 1.2x).
Target throughput: at least 50,000 rows/s end to end.

Resumability (streaming checkpoints every 2 s, a store snapshot after each barrier stage) at ${fmt(checkpointCost.n)} rows:
${fmt(checkpointCost.on, 1)} s with checkpoints vs ${fmt(checkpointCost.off, 1)} s without streaming checkpoints (fastest of 2 runs each, alternated; ratio
**${fmt(checkpointCost.on / checkpointCost.off, 2)}x**); the snapshots took ${fmt(checkpointCost.snapshot, 1)} s (phase \`checkpoint\`).

Seconds per stage (time inside the stage; read includes JSON parsing) and per phase of the run (wall time;
\`stream\` is reading, the stages and appending to the run store):

${table(['rows', ...(results[0]?.r.stages.map((s) => `stage ${s.stage}`) ?? []), ...Object.keys(results[0]?.r.phases ?? {}).map((p) => `phase ${p}`)], stageRows)}`,
  );
}
