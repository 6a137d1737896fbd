import { ALIVE, alive } from '../core/reasons.js';
import { BIGINT, DOUBLE, INTEGER, VARCHAR } from '@duckdb/node-api';
import { budgetedFill } from '../budget/fill.js';
import { makePlan, type Plan } from '../budget/plan.js';
import { openTokenCounter } from '../budget/token-count.js';
import { assignClusters, fitKMeans } from '../math/kmeans.js';
import { MatMulKernel } from '../onnx/kernels.js';
import { embeddingsFor } from '../select/store-pool.js';
import { appendColumns } from '../store/append.js';
import { hasColumn, hasView } from '../store/catalog.js';
import type { BarrierContext, BarrierResult, BarrierStage } from './barrier.js';

/**
 * Token counts for every row with text, then, when a target is set, the compute-optimal plan and a
 * budgeted fill of the rows still selected: best value first (or value per token), within per-group quotas,
 * never over the unique-token target. Rows left out are rejected as `over_budget` (or
 * `over_doc_share` when one document alone is too large a share of the target).
 */
export const budgetStage: BarrierStage<BudgetManifest> = {
  name: 'budget',
  enabled: () => true,
  writes: ['budget', 'samples.tokens', 'samples.value', 'samples.budget_rank'],
  run: runBudget,
};

/** The budget stage's part of manifest.json: the plan and what the selection achieved against it. */
export interface BudgetManifest {
  tokenizer: string;
  unique_tokens_available?: number;
  rows_available?: number;
  /** null: no target, every kept row is selected. */
  plan?: Plan | null;
  note?: string;
  selected_unique_tokens?: number;
  doc_cap_tokens?: number;
  pool_shortfall_tokens?: number;
  epochs_to_reach_target?: number | null;
  split?: TokenSplit;
  groups?: { group: string; quota_tokens: number; selected_tokens: number }[];
}

/** How a training-token target is made up: unique real text, repeats of it, synthetic text. */
export interface TokenSplit {
  unique_real: number;
  repeated_real: number;
  synthetic: number;
}

async function runBudget(ctx: BarrierContext): Promise<BarrierResult<BudgetManifest>> {
  const t0 = performance.now();
  const cfg = ctx.config.stages.budget;
  const c = ctx.store.conn;
  if (cfg.tokenizer === 'none') {
    await c.run('ALTER TABLE samples ADD COLUMN tokens INTEGER');
    return { counters: { stage: 'budget', in: 0, out: 0, rejected: {}, seconds: 0 }, manifest: { tokenizer: 'none' } };
  }
  const counter = await openTokenCounter(cfg.tokenizer, ctx.baseDir);
  await countTokens(ctx, counter.count);
  const rows = (await c.runAndReadAll(`SELECT uid, tokens, ${groupSql(cfg.quota.by)} AS g FROM samples WHERE ${ALIVE} ORDER BY uid`)).getRows();
  const n = rows.length;
  const U = rows.reduce((a, r) => a + Number(r[1]), 0);
  const counters = { stage: 'budget', in: n, out: n, rejected: {} as Record<string, number>, seconds: 0 };
  const t = cfg.target;
  const hasTarget = t.tokens !== undefined || t.params !== undefined || t.flops !== undefined;
  const manifest: BudgetManifest = { tokenizer: counter.name, unique_tokens_available: U, rows_available: n };
  if (!hasTarget || n === 0) {
    counters.seconds = (performance.now() - t0) / 1000;
    await writeBudgetTable(ctx, null, { U, selectedTokens: U, selectedRows: n, shortfall: 0 }, []);
    return { counters, manifest: { ...manifest, plan: null, note: 'no budget target: every row is kept' } };
  }
  const plan = makePlan({ tokens: t.tokens, params: t.params, flops: t.flops, uniqueTokens: U, rule: cfg.rule, tokensPerParam: cfg.tokens_per_param });
  for (const w of plan.warnings) ctx.log.warn(`budget: ${w}`);
  const groupNames = [...new Set(rows.map((r) => String(r[2])))].sort();
  const groupIndex = new Map(groupNames.map((g, i) => [g, i]));
  const tokens = Float64Array.from(rows, (r) => Number(r[1]));
  const group = Int32Array.from(rows, (r) => groupIndex.get(String(r[2]))!);
  const value = (await hasColumn(c, 'samples', 'select_value'))
    ? await selectValue(ctx)
    : await diversityValue(
        ctx,
        rows.map((r) => r[0] as bigint),
      );
  const fill = budgetedFill({
    tokens,
    value,
    group,
    groups: groupNames.length,
    target: plan.unique_tokens,
    temperature: cfg.quota.temperature,
    maxDocShare: cfg.max_doc_share,
    order: cfg.order,
    lengthBuckets: cfg.quota.length ? 4 : 1,
  });

  await c.run('CREATE TEMP TABLE budget_result (uid BIGINT, value DOUBLE, rank INTEGER, reason VARCHAR)');
  const app = await c.createAppender('budget_result');
  const reasons = Array.from({ length: n }, (_, i) => (fill.chosen[i] ? null : fill.tooLong[i] ? 'over_doc_share' : 'over_budget'));
  appendColumns(app, [BIGINT, DOUBLE, INTEGER, VARCHAR], [rows.map((r) => r[0] as bigint), Array.from(value), Array.from(fill.rank), reasons]);
  app.closeSync();
  await c.run(`ALTER TABLE samples ADD COLUMN value DOUBLE; ALTER TABLE samples ADD COLUMN budget_rank INTEGER`);
  await c.run(`
    UPDATE samples SET value = r.value, budget_rank = r.rank,
      status = CASE WHEN r.reason IS NULL THEN samples.status ELSE 'rejected' END,
      reason = coalesce(r.reason, samples.reason),
      reason_detail = CASE WHEN r.reason IS NULL THEN samples.reason_detail ELSE format('rank {} by ${cfg.order === 'value' ? 'value' : 'value per token'}; target {} unique tokens', r.rank, ${Math.round(plan.unique_tokens)}) END
    FROM budget_result r WHERE samples.uid = r.uid;
    DROP TABLE budget_result;`);
  for (const r of reasons) {
    if (r === null) continue;
    counters.rejected[r] = (counters.rejected[r] ?? 0) + 1;
    counters.out--;
  }
  const selectedTokens = fill.total;
  const shortfall = Math.max(plan.tokens - selectedTokens * plan.epochs, 0);
  const groups = groupNames.map((g, i) => ({ group: g, quota_tokens: fill.quota[i]!, selected_tokens: fill.taken[i]! }));
  await writeBudgetTable(ctx, plan, { U, selectedTokens, selectedRows: counters.out, shortfall }, groups);
  counters.seconds = (performance.now() - t0) / 1000;
  return {
    counters,
    manifest: {
      ...manifest,
      plan,
      selected_unique_tokens: selectedTokens,
      doc_cap_tokens: fill.docCap,
      // Target tokens the selected unique data does not cover once: left to repetition (and augmentation).
      pool_shortfall_tokens: Math.max(plan.tokens - selectedTokens, 0),
      epochs_to_reach_target: selectedTokens > 0 ? plan.tokens / selectedTokens : null,
      split: { unique_real: selectedTokens, repeated_real: Math.max(plan.tokens - selectedTokens, 0), synthetic: 0 },
      groups,
    },
  };
}

function groupSql(by: 'lang' | 'source' | 'none'): string {
  if (by === 'lang') return "coalesce(lang, 'und')";
  if (by === 'source') return 'source::VARCHAR';
  return "'all'";
}

/**
 * Counts tokens of every row with text that has none yet into samples.tokens (the streaming phase
 * counts them when the budget has a tokenizer; this covers the rest), then one UPDATE.
 */
async function countTokens(ctx: BarrierContext, count: (t: string) => number): Promise<void> {
  const c = ctx.store.conn;
  const counted = await hasColumn(c, 'samples', 'tokens');
  const reader = await ctx.store.instance.connect();
  await c.run('CREATE TEMP TABLE token_counts (uid BIGINT, tokens INTEGER)');
  const app = await c.createAppender('token_counts');
  let done = 0;
  try {
    const where = `text IS NOT NULL${counted ? ' AND tokens IS NULL' : ''}`;
    const total = Number((await reader.runAndReadAll(`SELECT count(*) FROM samples WHERE ${where}`)).getRows()[0]![0]);
    const result = await reader.stream(`SELECT uid, text FROM samples WHERE ${where}`);
    for (;;) {
      const chunk = await result.fetchChunk();
      if (chunk === null || chunk.rowCount === 0) break;
      const [uids, texts] = chunk.getColumns() as [bigint[], string[]];
      appendColumns(app, [BIGINT, INTEGER], [uids, texts.map(count)]);
      done += chunk.rowCount;
      ctx.log.progress('tokens', done, { done, total, unit: 'rows' });
    }
    ctx.log.endProgress();
  } finally {
    reader.closeSync();
    app.closeSync();
  }
  if (!counted) await c.run('ALTER TABLE samples ADD COLUMN tokens INTEGER');
  await c.run(`UPDATE samples SET tokens = t.tokens FROM token_counts t WHERE samples.uid = t.uid;
    DROP TABLE token_counts;`);
}

/** The select stage's value of each selected row, in the fill's (uid) order. */
async function selectValue(ctx: BarrierContext): Promise<Float64Array> {
  const rows = (await ctx.store.conn.runAndReadAll(`SELECT coalesce(select_value, 0) FROM samples WHERE ${ALIVE} ORDER BY uid`)).getRows();
  return Float64Array.from(rows, (r) => Number(r[0]));
}

/**
 * Value of each row when no selection score exists: diversity by cluster. k-means on the embeddings
 * (about sqrt(n) clusters); a row's value is 1 / (1 + its rank in its cluster by closeness to the
 * centroid), so the fill covers every cluster before taking a second row of any. Without embeddings
 * every row is worth 1.
 */
async function diversityValue(ctx: BarrierContext, uids: bigint[]): Promise<Float64Array> {
  const n = uids.length;
  const value = new Float64Array(n).fill(1);
  if (n < 2 || !(await hasView(ctx.store.conn, 'embeddings'))) return value;
  const { x, d } = await embeddingsFor(ctx.store.conn, uids, alive('s'));
  const kernel = await MatMulKernel.open('cpu');
  try {
    const k = Math.max(1, Math.round(Math.sqrt(n)));
    const { centroids } = await fitKMeans(x, n, d, k, kernel, { seed: ctx.config.seed });
    const assign = await assignClusters(x, n, d, centroids, k, kernel);
    const closeness = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      let dot = 0;
      for (let j = 0; j < d; j++) dot += x[i * d + j]! * centroids[assign[i]! * d + j]!;
      closeness[i] = dot;
    }
    const byCluster = new Map<number, number[]>();
    for (let i = 0; i < n; i++) byCluster.set(assign[i]!, [...(byCluster.get(assign[i]!) ?? []), i]);
    for (const members of byCluster.values()) {
      members.sort((a, b) => closeness[b]! - closeness[a]! || a - b);
      members.forEach((i, r) => (value[i] = 1 / (1 + r)));
    }
  } finally {
    await kernel.release();
  }
  return value;
}

async function writeBudgetTable(ctx: BarrierContext, plan: Plan | null, a: { U: number; selectedTokens: number; selectedRows: number; shortfall: number }, groups: object[]): Promise<void> {
  await ctx.store.conn.run(
    `CREATE TABLE budget (rule VARCHAR, target_tokens DOUBLE, params DOUBLE, flops DOUBLE, unique_tokens_available DOUBLE, unique_tokens_target DOUBLE,
      unique_tokens_selected DOUBLE, epochs DOUBLE, effective_tokens DOUBLE, shortfall_tokens DOUBLE, plan JSON, groups JSON)`,
  );
  await ctx.store.conn.run('INSERT INTO budget VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11::JSON, $12::JSON)', [
    plan?.rule ?? null,
    plan?.tokens ?? null,
    plan?.params ?? null,
    plan?.flops ?? null,
    a.U,
    plan?.unique_tokens ?? null,
    a.selectedTokens,
    plan ? plan.tokens / Math.max(a.selectedTokens, 1) : null,
    plan?.effective_tokens ?? null,
    a.shortfall,
    JSON.stringify(plan),
    JSON.stringify(groups),
  ]);
}
