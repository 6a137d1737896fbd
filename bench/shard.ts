import { mkdirSync, rmSync } from 'node:fs';
import { overlay } from '../src/config/overlay.js';
import path from 'node:path';
import { validatePipeline } from '../src/config/load.js';
import { selectionQuality } from './eval/selection-quality.js';
import { readShards, shardPipeline } from '../src/jobs/merge.js';
import { configHash, runPipeline } from '../src/pipeline/run.js';
import { DuckDBInstance } from '@duckdb/node-api';
import { silentLogger } from '../src/util/log.js';
import { PROJECT_ROOT } from '../src/util/versions.js';
import { fmt, table, writeSection } from './report.js';

const SHARDS = 4;

async function rows<T>(store: string, sql: string): Promise<T[]> {
  const inst = await DuckDBInstance.create(store, { access_mode: 'READ_ONLY' });
  const conn = await inst.connect();
  try {
    return (await conn.runAndReadAll(sql)).getRowObjectsJson() as T[];
  } finally {
    conn.closeSync();
    inst.closeSync();
  }
}

/**
 * `--shard i/4` + `winnow merge` against one process on the 12 SIB-200 fixture files: dedup outcome
 * row for row, and the quality of the selection (facility-location value and the accuracy of a probe
 * trained on it over the pool), for several GreeDi candidate counts (select.max_picks per shard).
 */
export async function benchShard(): Promise<void> {
  const dir = path.join(PROJECT_ROOT, '.bench', 'shard');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const config = (model: string, maxPicks: number): ReturnType<typeof validatePipeline> =>
    validatePipeline(
      {
        name: 'shard-bench',
        seed: 5,
        sources: [{ name: 'sib200', path: path.join(PROJECT_ROOT, 'test', 'fixtures', 'sib200', '*.jsonl.gz'), columns: { text: 'text', id: 'id', lang: 'lang', metadata: ['label'] } }],
        stages: {
          langid: { enabled: false },
          embed: { model, cache: false, builtin: { dim: 128 } },
          select: { strategy: 'hybrid', max_picks: maxPicks },
          budget: { tokenizer: 'whitespace', target: { tokens: 60_000 } },
        },
        output: { embeddings: true },
      },
      'shard benchmark',
    );
  const run = async (loaded: Parameters<typeof runPipeline>[0], out: string, extra: Partial<Parameters<typeof runPipeline>[1]> = {}): Promise<number> => {
    const t0 = performance.now();
    await runPipeline(loaded, { outDir: out, log: silentLogger, ...extra });
    return (performance.now() - t0) / 1000;
  };
  const single = path.join(dir, 'single');
  await run({ config: config('builtin', 0), baseDir: dir, origin: 'bench' }, single);
  const model = path.join(single, 'model');
  const outcome = `SELECT uid, id, CASE WHEN reason = 'over_budget' THEN NULL ELSE reason END AS r, dup_cluster, dup_kind, dup_of FROM samples ORDER BY uid`;
  const reference = JSON.stringify(await rows(path.join(single, 'results.duckdb'), outcome));
  const label = `json_extract_string(s.meta, '$.label')`;
  const selectedOf = async (out: string): Promise<Set<string>> =>
    new Set((await rows<{ id: string }>(path.join(out, 'results.duckdb'), `SELECT id FROM samples WHERE status = 'selected'`)).map((r) => r.id));
  const result: (string | number)[][] = [];
  for (const maxPicks of [0, 2000, 500]) {
    const base = path.join(dir, `one-${maxPicks}`);
    const oneSeconds = await run({ config: config(model, maxPicks), baseDir: dir, origin: 'bench' }, base);
    const q1 = await selectionQuality(path.join(single, 'results.duckdb'), await selectedOf(base), label);
    const shardDirs: string[] = [];
    const shardSeconds: number[] = [];
    for (let i = 0; i < SHARDS; i++) {
      const cfg = config(model, maxPicks);
      const hash = configHash(cfg);
      const out = path.join(dir, `shards-${maxPicks}`, String(i));
      const shardRun = overlay({ config: cfg, baseDir: dir, origin: 'bench' }, { stages: { embed: { cache: path.join(out, 'embed-cache') } } }, '--shard');
      shardSeconds.push(await run(shardRun, out, { shard: { index: i, count: SHARDS, configHash: hash } }));
      shardDirs.push(out);
    }
    const shards = readShards(shardDirs);
    const merged = path.join(dir, `merged-${maxPicks}`);
    const loaded = overlay(shardPipeline(shards), { stages: { embed: { cache: path.join(merged, 'embed-cache') } } }, 'winnow merge');
    const mergeSeconds = await run(loaded, merged, { merge: shards });
    const q2 = await selectionQuality(path.join(single, 'results.duckdb'), await selectedOf(merged), label);
    const same = JSON.stringify(await rows(path.join(merged, 'results.duckdb'), outcome)) === reference;
    const rel = (a: number, b: number): string => `${(100 * (a / b - 1)).toFixed(2)}%`;
    console.log(`  max_picks ${maxPicks}: dedup identical ${same}, facility ${rel(q2.facility, q1.facility)}, accuracy ${q1.accuracy.toFixed(3)} vs ${q2.accuracy.toFixed(3)}`);
    result.push([
      maxPicks === 0 ? 'all ranked' : fmt(maxPicks),
      same ? 'identical' : 'DIFFERENT',
      `${fmt(q1.facility, 1)} / ${fmt(q2.facility, 1)} (${rel(q2.facility, q1.facility)})`,
      `${q1.accuracy.toFixed(3)} / ${q2.accuracy.toFixed(3)} (${rel(q2.accuracy, q1.accuracy)})`,
      `${fmt(q1.selected)} / ${fmt(q2.selected)}`,
      `${oneSeconds.toFixed(1)} s`,
      `${Math.max(...shardSeconds).toFixed(1)} + ${mergeSeconds.toFixed(1)} s`,
    ]);
  }
  writeSection(
    'shard',
    `## Sharded runs: 4 shards + merge against one process

The 12 SIB-200 fixture files (${fmt((await rows<{ n: number }>(path.join(single, 'results.duckdb'), 'SELECT count(*)::INTEGER AS n FROM samples'))[0]!.n)} rows),
one fitted built-in encoder (dim 128) for all, hybrid selection, a 60k-token budget. Each shard offers its top
\`max_picks\` rows; the merge redoes dedup from the shards' signatures and runs the greedy over the union of
their picks (GreeDi). Quality is measured over the single-process run's pool with its vectors: facility-location
value of the selected set, and the accuracy over the pool of a softmax probe trained on the selected rows' topic
labels. Target: within 2% of one process. Wall: one process vs the slowest shard plus the merge (shards run in
turn here; on 4 machines they run at once).

${table(['max_picks per shard', 'dedup vs one process', 'facility one / merged', 'probe accuracy one / merged', 'rows selected', 'one process', 'shards + merge'], result)}
`,
  );
}
