import { availableParallelism } from 'node:os';
import { BIGINT, DOUBLE, INTEGER, VARCHAR, type DuckDBConnection } from '@duckdb/node-api';
import { ALIVE, alive } from '../core/reasons.js';
import { checkFits, timesFits } from '../core/memory.js';
import { openBlockWorkers, rankBlocks } from '../executors/block-pool.js';
import { threadCount } from '../executors/task-pool.js';
import { CharLm } from '../langid/char-lm.js';
import { quantiles } from '../math/quantile.js';
import { MatMulKernel } from '../onnx/kernels.js';
import { applyLabels } from '../store/labels.js';
import { appendChunks } from '../store/append.js';
import { quoteLiteral } from '../store/sql.js';
import { poolRows, readStorePool, type PoolShape } from '../select/store-pool.js';
import { coverageWeight, UNCERTAIN_COVERAGE } from '../select/strategies.js';
import { coverageRank, EXACT_PICKS } from '../select/ngram-coverage.js';
import { exactPrefixes, mergeBlocks, type BlockRanking } from '../select/blocks.js';
import { labelTasks } from '../select/label-tasks.js';
import { rankBlock, SIGNALS, type BlockInput, type Signal, type Signals } from '../select/rank-block.js';
import { importanceModel, type ImportanceModel } from '../select/target-importance.js';
import { hasColumn, hasTable } from '../store/catalog.js';
import type { BarrierContext, BarrierResult, BarrierStage } from './barrier.js';

/**
 * Scores every kept row and ranks the pool with the configured strategy. Signals (typicality,
 * cluster entropy, probe uncertainty per label task when labels exist, importance for the target,
 * surprise under a reference LM when one is given) are stored per row; the rank becomes the row's
 * value (1 - rank / n) that the budget fill spends tokens in. Nothing is rejected here: the budget
 * decides what fits.
 */
export const selectStage: BarrierStage<SelectManifest> = {
  name: 'select',
  enabled: (p) => p.stages.select.enabled && p.stages.embed.enabled,
  perShard: true,
  writes: ['label_set', ...['select_rank', 'select_by', 'select_gain', 'select_value', 'surprise_flag', ...SIGNALS].map((c) => `samples.${c}`)],
  run: runSelect,
};

/** The select stage's part of manifest.json. */
export interface SelectManifest {
  strategy: string;
  rows: number;
  labelled_rows: number;
  labelled_first: boolean;
  imported_labels_applied: number;
  classes: string[];
  tasks: { name: string; sources: string[]; classes: string[]; labelled_rows: number }[];
  importance?: { target: string; target_texts: number };
  /** Rows per strategy (or hybrid phase) that ranked them. */
  ranked_by: Record<string, number>;
  /** The signal columns stored in samples. */
  signals: string[];
  knn_graph: 'exact' | 'clustered (IVF)';
  greedi?: { candidates: number };
  /** Pools over `block_rows` are ranked in blocks: how many, and the rows of each. */
  blocks?: { count: number; rows: number[] };
}

async function runSelect(ctx: BarrierContext): Promise<BarrierResult<SelectManifest>> {
  const t0 = performance.now();
  const cfg = ctx.config.stages.select;
  const c = ctx.store.conn;
  // Nothing reached the embed stage (every row rejected before it): an empty selection is a result.
  if (!(await hasTable(c, 'embedding_model'))) return { counters: { stage: 'select', in: 0, out: 0, rejected: {}, seconds: 0 } };
  const imported = await applyLabels(c);
  // GreeDi: a merge chooses among the union of the shards' own picks (each shard ran this greedy
  // over its part); the rows no shard picked keep no rank.
  const greedi = ctx.role === 'merge' && (await hasColumn(c, 'samples', 'shard_candidate'));
  const where = greedi ? `${alive('s')} AND s.shard_candidate` : alive('s');
  // The training-data hybrid weighs rows by importance and measures the n-grams each adds: it needs the texts.
  const training = cfg.strategy === 'hybrid' && !cfg.labelled_first;
  const [[rows]] = (await c.runAndReadAll(`SELECT count(*) ${poolRows(where)}`)).getRows() as [[bigint]];
  const blocks = Math.max(1, Math.ceil(Number(rows) / cfg.block_rows));
  const model = training ? await importanceModel(c, where, cfg.target, ctx.baseDir, threadCount(ctx.workers)) : undefined;
  // Every blocks-th row by uid (input order): each block a sample of every source and part of the input,
  // fixed by the config, so the blocks (and the selection) do not depend on the memory budget.
  const parts = await rankAllBlocks(ctx, blocks, (b) => (blocks > 1 ? `${where} AND s.uid % ${blocks} = ${b}` : where), training, model);
  const merged = mergeBlocks(parts, cfg.max_picks);
  // The second round ranks at most one block's worth of rows: memory stays a block's at any corpus size.
  if (training && blocks > 1) await rerankHead(c, where, merged, exactPrefixes(parts, Math.max(1, Math.min(EXACT_PICKS, Math.floor(cfg.block_rows / blocks)))));
  const n = merged.uids.length;
  const tasks = taskSummary(parts);
  await recordLabelSet(c, [...cfg.labels, ...tasks.flatMap((t) => t.classes)]);
  let flags: (string | null)[] = new Array(n).fill(null);
  if (cfg.reference) ({ surprise: merged.signals.surprise, flags } = await surprise(ctx, merged.uids, cfg.reference));
  const columns = await storeSelection(c, merged.uids, merged, flags, merged.signals);
  const picked = (await c.runAndReadAll(`SELECT select_by, count(*) FROM samples WHERE select_by IS NOT NULL GROUP BY ALL ORDER BY ALL`)).getRows();
  return {
    counters: { stage: 'select', in: n, out: n, rejected: {}, seconds: (performance.now() - t0) / 1000 },
    manifest: {
      strategy: cfg.strategy,
      rows: n,
      labelled_rows: tasks.reduce((a, t) => a + t.labelled_rows, 0),
      labelled_first: cfg.labelled_first,
      imported_labels_applied: imported,
      classes: [...new Set(tasks.flatMap((t) => t.classes))].sort(),
      tasks,
      ...(model ? { importance: { target: model.target, target_texts: model.targetTexts } } : {}),
      ranked_by: Object.fromEntries(picked.map(([k, v]) => [String(k), Number(v)])),
      signals: columns,
      knn_graph: parts.every((p) => p.exact) ? 'exact' : 'clustered (IVF)',
      ...(blocks > 1 ? { blocks: { count: blocks, rows: parts.map((p) => p.uids.length) } } : {}),
      ...(greedi ? { greedi: { candidates: n } } : {}),
    },
  };
}

/** What a worker thread of the block executor holds beside its block: its own heap, module code and matrix kernel. */
const WORKER_BYTES = 100e6;

/** Reads one block of the pool from the store: what its ranking needs, and the bytes it holds while ranked. */
async function readBlock(ctx: BarrierContext, where: string, training: boolean, model: ImportanceModel | undefined): Promise<{ input: BlockInput; need: number }> {
  let need = 0;
  const sp = await readStorePool(ctx.store.conn, where, { texts: training, check: (shape) => (need = checkPoolFits(ctx, shape, training)) });
  const labelSets = new Map(ctx.config.sources.flatMap((s) => (s.label_set ? [[s.name, s.label_set] as const] : [])));
  const input: BlockInput = {
    pool: sp.pool,
    uids: sp.uids,
    tasks: labelTasks(sp.labels, sp.sources, labelSets),
    texts: sp.texts,
    importance: model ? { wanted: model.wanted.counts, raw: model.raw.counts } : undefined,
    select: ctx.config.stages.select,
    seed: ctx.config.seed,
  };
  return { input, need };
}

/**
 * Ranks the blocks, several at once on worker threads when there are several blocks, cores and
 * memory for more than one (each block's ranking is the same on any thread, so this never changes
 * the selection): as many as `execution.workers` allows, and as fit beside DuckDB's cap.
 */
async function rankAllBlocks(ctx: BarrierContext, blocks: number, whereOf: (b: number) => string, training: boolean, model: ImportanceModel | undefined): Promise<BlockRanking<Signal>[]> {
  const device = ctx.config.stages.embed.device === 'cuda' ? 'cuda' : 'cpu';
  let first: { input: BlockInput; need: number } | null = await readBlock(ctx, whereOf(0), training, model);
  const need = first.need;
  const setting = ctx.workers;
  const cores = availableParallelism();
  // A worker thread holds its block plus its own heap and kernel (WORKER_BYTES); the first block, read, is counted twice.
  const concurrency = Math.max(1, Math.min(threadCount(setting), blocks, timesFits(ctx.memory, need + WORKER_BYTES)));
  const read = async (b: number): Promise<BlockInput> => {
    // Block 0 was read to size the executor; handed over once, it is not kept here.
    const block = b === 0 ? first! : await readBlock(ctx, whereOf(b), training, model);
    first = null;
    return block.input;
  };
  const workers = concurrency > 1 ? openBlockWorkers(concurrency, device, cores) : null;
  if (workers) {
    ctx.log.info(`select: ranking ${blocks} blocks, ${concurrency} at a time on worker threads`);
    try {
      return await rankBlocks(blocks, concurrency, read, workers.rank);
    } finally {
      await workers.close();
    }
  }
  const kernel = await MatMulKernel.open(device);
  try {
    return await rankBlocks(blocks, 1, read, (input) => rankBlock(input, kernel));
  } finally {
    await kernel.release();
  }
}

/**
 * GreeDi's second round (Mirzasoleiman et al. 2013) for the coverage ranking: among the rows each
 * block's greedy picked exactly, the same greedy over their texts picks EXACT_PICKS again, and these
 * take the first of the ranks the rows held between them. The head of the order, what a budget takes first, is then
 * chosen across the blocks rather than interleaved from each. Measured on 200,000 generated rows in
 * 4 blocks, coverage F at 2-5% of the characters: whole ranking 354,493 / 571,680; interleave alone
 * 340,463 / 560,970; with this round 354,666 / 571,982 (and 2-3% above the whole ranking at 20-50%,
 * whose tail past its own EXACT_PICKS goes by stale bounds).
 */
async function rerankHead(c: DuckDBConnection, where: string, merged: BlockRanking<Signal>, head: Uint8Array): Promise<void> {
  const rows: number[] = [];
  head.forEach((h, i) => {
    if (h && merged.rank[i]! >= 0) rows.push(i);
  });
  rows.sort((a, b) => merged.rank[a]! - merged.rank[b]!);
  const slots = rows.map((i) => merged.rank[i]!);
  const at = new Map(rows.map((i, k) => [merged.uids[i]!, k]));
  const texts = new Array<string>(rows.length).fill('');
  const result = await c.stream(`SELECT s.uid, s.text FROM samples s WHERE ${where}`);
  for (;;) {
    const chunk = await result.fetchChunk();
    if (chunk === null || chunk.rowCount === 0) break;
    const values = chunk.getColumnValues(1) as (string | null)[];
    (chunk.getColumnValues(0) as bigint[]).forEach((u, r) => {
      const k = at.get(u);
      if (k !== undefined) texts[k] = values[r] ?? '';
    });
  }
  // Each row weighs what it weighed in its block: importance, and its margin where the block's probes were warm.
  const { importance, margin } = merged.signals;
  const weight = coverageWeight(
    rows.length,
    importance ? Float32Array.from(rows, (i) => importance[i]!) : undefined,
    margin ? Float32Array.from(rows, (i) => (merged.by[i] === UNCERTAIN_COVERAGE && Number.isFinite(margin[i]) ? margin[i]! : 1)) : undefined,
  );
  // Its exact picks lead; the other head rows keep their order behind them (exact within their
  // blocks, where this greedy's tail would order them by a stale bound).
  const r = coverageRank(texts, Math.min(EXACT_PICKS, rows.length), { weight });
  const taken = new Uint8Array(rows.length);
  r.picks.forEach((p) => (taken[p] = 1));
  const order = [...r.picks, ...rows.map((_, k) => k).filter((k) => !taken[k])];
  order.forEach((k, t) => {
    merged.rank[rows[k]!] = slots[t]!;
    if (t < r.picks.length) merged.gain[rows[k]!] = r.gain[t]!;
  });
}

/** The label tasks of the blocks, one entry per task name. */
function taskSummary(parts: BlockRanking<Signal>[]): SelectManifest['tasks'] {
  const byName = new Map<string, SelectManifest['tasks'][number]>();
  for (const t of parts.flatMap((p) => p.tasks)) {
    const e = byName.get(t.name) ?? { name: t.name, sources: [], classes: [], labelled_rows: 0 };
    e.sources = [...new Set([...e.sources, ...t.sources])].sort();
    e.classes = [...new Set([...e.classes, ...t.classes])].sort();
    e.labelled_rows += t.labelled.length;
    byName.set(t.name, e);
  }
  return [...byName.values()];
}

/**
 * Bytes this stage holds in the process for a pool: per row the vector (4 per dimension), the kNN
 * graph (8 per neighbour), the text when the ranking reads it (2 per character, and ~8 for its packed
 * n-gram features while they are hashed: 880 bytes for a 110-character row) and ~400 for the row's ids, labels, signals and
 * rankings (~2 KB a row at 256 dimensions and 20 neighbours, as measured at 250,000 rows); plus
 * ~128 MB for the kernels' blocks (8M similarities) and k-means. Per block: blocks run one at a time.
 */
function poolBytes(rows: number, dim: number, neighbours: number, textChars: number): number {
  return rows * (4 * dim + 8 * neighbours + 10 * textChars + 400) + 128e6;
}

/** Refuses to start (exit 4, naming the knob) when the pool cannot fit what the budget leaves beside DuckDB; else the bytes it needs. */
function checkPoolFits(ctx: BarrierContext, { rows, dim, textChars }: PoolShape, texts: boolean): number {
  const { neighbours, block_rows } = ctx.config.stages.select;
  const need = poolBytes(rows, dim, neighbours, textChars);
  // Smaller blocks fit where more memory cannot be had, but they are a different selection (a new run), which
  // is why the memory budget never sets them.
  const smaller = `lower select.block_rows (now ${block_rows.toLocaleString('en-US')}: smaller blocks need less, and give a new selection, a new run)`;
  checkFits(ctx.memory, 'select', need, `its pool of ${rows.toLocaleString('en-US')} rows x ${dim} dimensions (vectors, kNN graph${texts ? ', texts and their n-grams' : ''})`, smaller);
  return need;
}

/** The labels `winnow label import` accepts for this run: configured ones and those in the data. */
async function recordLabelSet(c: DuckDBConnection, labels: string[]): Promise<void> {
  await c.run('CREATE TABLE label_set (label VARCHAR)');
  const known = [...new Set(labels)].sort();
  if (known.length > 0) await c.run(`INSERT INTO label_set VALUES ${known.map((l) => `(${quoteLiteral(l)})`).join(', ')}`);
}

/** Writes each row's rank, strategy, gain, value (1 - rank / n) and signals into samples. */
async function storeSelection(
  c: DuckDBConnection,
  uids: BigInt64Array,
  r: { rank: Int32Array; by: (string | null)[]; gain: Float32Array },
  flags: (string | null)[],
  signals: Signals,
): Promise<string[]> {
  const n = uids.length;
  const columns = SIGNALS.filter((s) => signals[s] !== null);
  await c.run(`CREATE TEMP TABLE select_result (uid BIGINT, select_rank INTEGER, select_by VARCHAR, select_gain DOUBLE, surprise_flag VARCHAR${columns.map((s) => `, ${s} DOUBLE`).join('')})`);
  const app = await c.createAppender('select_result');
  // Plain arrays a chunk at a time: whole-pool copies of 13 columns would cost ~200 bytes a row.
  const num = (a: Float32Array, off: number, m: number): (number | null)[] => Array.from(a.subarray(off, off + m), (v) => (Number.isFinite(v) ? v : null));
  appendChunks(app, [BIGINT, INTEGER, VARCHAR, DOUBLE, VARCHAR, ...columns.map(() => DOUBLE)], n, (chunk, off, m) =>
    chunk.setColumns([
      Array.from(uids.subarray(off, off + m)),
      Array.from(r.rank.subarray(off, off + m), (x) => (x < 0 ? null : x)),
      r.by.slice(off, off + m),
      num(r.gain, off, m),
      flags.slice(off, off + m),
      ...columns.map((s) => num(signals[s]!, off, m)),
    ]),
  );
  app.closeSync();
  const added = ['select_rank INTEGER', 'select_by VARCHAR', 'select_gain DOUBLE', 'select_value DOUBLE', 'surprise_flag VARCHAR', ...SIGNALS.map((s) => `${s} DOUBLE`)];
  for (const col of added) await c.run(`ALTER TABLE samples ADD COLUMN ${col}`);
  await c.run(`UPDATE samples SET select_rank = r.select_rank, select_by = r.select_by, select_gain = r.select_gain, surprise_flag = r.surprise_flag,
      select_value = CASE WHEN r.select_rank IS NULL THEN 0 ELSE 1 - r.select_rank / ${Math.max(n, 1)} END
      ${columns.map((s) => `, ${s} = r.${s}`).join('')}
    FROM select_result r WHERE samples.uid = r.uid; DROP TABLE select_result`);
  return columns;
}

/**
 * Surprise (cross-entropy in nats per character) of every pool row under a character 4-gram LM of
 * the reference source's kept rows (leave-one-out for the reference's own rows). Rows outside the
 * configured quantiles are flagged `low` (boilerplate, repetition) or `high` (noise, other language).
 */
async function surprise(ctx: BarrierContext, uids: BigInt64Array, ref: { source: string; low: number; high: number }): Promise<{ surprise: Float32Array; flags: (string | null)[] }> {
  const c = ctx.store.conn;
  const refRows = (await c.runAndReadAll(`SELECT text FROM samples WHERE ${ALIVE} AND source = ${quoteLiteral(ref.source)} ORDER BY uid`)).getRows();
  const lm = new CharLm(4).fit(refRows.map((r) => String(r[0])));
  const rows = (await c.runAndReadAll(`SELECT uid, text, source::VARCHAR = ${quoteLiteral(ref.source)} FROM samples WHERE ${ALIVE} ORDER BY uid`)).getRows();
  const pos = new Map(Array.from(uids, (u, i) => [u, i]));
  const out = new Float32Array(uids.length);
  for (const [uid, text, own] of rows) out[pos.get(uid as bigint)!] = -lm.logProbPerChar(String(text), own === true);
  const [lo, hi] = quantiles(out, [ref.low, ref.high]) as [number, number];
  return { surprise: out, flags: Array.from(out, (v) => (v < lo ? 'low' : v > hi ? 'high' : null)) };
}
