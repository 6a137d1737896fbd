import { BIGINT, DOUBLE, INTEGER, VARCHAR } from '@duckdb/node-api';
import { CharLm } from '../langid/char-lm.js';
import { fitKMeans } from '../math/kmeans.js';
import { transposeDense } from '../math/linalg.js';
import { MatMulKernel } from '../onnx/kernels.js';
import { applyLabels } from '../store/labels.js';
import { appendColumns } from '../store/run-store.js';
import { quoteLiteral } from '../store/sql.js';
import { labelledSet, readStorePool } from '../select/store-pool.js';
import { selectRows, SelectionContext } from '../select/strategies.js';
import { clusterEntropy, ensembleUncertainty, type Uncertainty } from '../select/uncertainty.js';
import type { Pool } from '../select/pool.js';
import { hasColumn, hasTable } from '../store/catalog.js';
import type { BarrierContext, BarrierResult, BarrierStage } from './barrier.js';

/**
 * Scores every kept row and ranks the pool with the configured strategy. Signals (typicality,
 * cluster entropy, probe uncertainty when labels exist, surprise under a reference LM when one is
 * given) are stored per row; the rank becomes the row's value (1 - rank / n) that the budget fill
 * spends tokens on. Nothing is rejected here: the budget decides what fits.
 */
export const selectStage: BarrierStage = {
  name: 'select',
  enabled: (p) => p.stages.select.enabled && p.stages.embed.enabled,
  run: runSelect,
};

const SIGNALS = ['typicality', 'cluster_entropy', 'least_confidence', 'margin', 'entropy', 'bald', 'surprise'] as const;

async function runSelect(ctx: BarrierContext): Promise<BarrierResult> {
  const t0 = performance.now();
  const cfg = ctx.config.stages.select;
  const c = ctx.store.conn;
  // Nothing reached the embed stage (every row rejected before it): an empty selection is a result.
  if (!(await hasTable(c, 'embedding_model'))) return { counters: { stage: 'select', in: 0, out: 0, rejected: {}, seconds: 0 } };
  const imported = await applyLabels(c);
  // GreeDi: a merge chooses among the union of the shards' own picks (each shard ran this greedy
  // over its part); the rows no shard picked keep no rank.
  const greedi = ctx.role === 'merge' && (await hasColumn(c, 'samples', 'shard_candidate'));
  const { pool, uids, labels } = await readStorePool(c, greedi ? `s.status = 'selected' AND s.shard_candidate` : `s.status = 'selected'`);
  const n = pool.n;
  const counters = { stage: 'select', in: n, out: n, rejected: {} as Record<string, number>, seconds: 0 };
  const { labelled, y, classes } = labelledSet(labels);
  // The labels `winnow label import` accepts for this run: configured ones and those in the data.
  await c.run('CREATE TABLE label_set (label VARCHAR)');
  const known = [...new Set([...cfg.labels, ...classes])].sort();
  if (known.length > 0) await c.run(`INSERT INTO label_set VALUES ${known.map((l) => `(${quoteLiteral(l)})`).join(', ')}`);
  const kernel = await MatMulKernel.open(ctx.config.stages.embed.device === 'cuda' ? 'cuda' : 'cpu');
  const signals: Record<(typeof SIGNALS)[number], Float32Array | null> = { typicality: null, cluster_entropy: null, least_confidence: null, margin: null, entropy: null, bald: null, surprise: null };
  const rank = new Int32Array(n).fill(-1);
  const by: (string | null)[] = new Array(n).fill(null);
  const gain = new Float32Array(n).fill(NaN);
  let graphExact = true;
  try {
    if (n > 0) {
      const sctx = new SelectionContext(pool, kernel, ctx.config.seed, cfg.neighbours);
      signals.typicality = await sctx.typicality();
      graphExact = (await sctx.graph()).exact;
      signals.cluster_entropy = await softClusterEntropy(pool, kernel, ctx.config.seed);
      let u: Uncertainty | undefined;
      if (classes.length >= 2) {
        // Bounded cost whatever the number of labels: 5 members of at most 1,000 draws, 100 iterations.
        u = ensembleUncertainty(pool, labelled, y, classes.length, { members: 5, seed: ctx.config.seed, maxTrain: 1000, maxIter: 100 });
        signals.least_confidence = u.leastConfidence;
        signals.margin = u.margin;
        signals.entropy = u.entropy;
        signals.bald = u.bald;
      }
      labelled.forEach((i, r) => {
        rank[i] = r;
        by[i] = 'labelled';
      });
      const want = cfg.max_picks > 0 ? Math.min(cfg.max_picks, n - labelled.length) : n - labelled.length;
      const picks = await selectRows(sctx, {
        strategy: cfg.strategy,
        count: want,
        labelled,
        labels: y,
        classes: Math.max(classes.length, 1),
        seed: ctx.config.seed,
        hybrid: { coldStartPerClass: cfg.hybrid.cold_start_per_class, candidateFactor: cfg.hybrid.candidate_factor },
        uncertainty: u,
      });
      picks.forEach((p, t) => {
        rank[p.index] = labelled.length + t;
        by[p.index] = p.by;
        gain[p.index] = p.signals.gain ?? p.signals.distance ?? NaN;
      });
    }
  } finally {
    await kernel.release();
  }
  let flags: (string | null)[] = new Array(n).fill(null);
  if (cfg.reference) ({ surprise: signals.surprise, flags } = await surprise(ctx, uids, cfg.reference));

  const columns = SIGNALS.filter((s) => signals[s] !== null);
  await c.run(`CREATE TEMP TABLE select_result (uid BIGINT, select_rank INTEGER, select_by VARCHAR, select_gain DOUBLE, surprise_flag VARCHAR${columns.map((s) => `, ${s} DOUBLE`).join('')})`);
  const app = await c.createAppender('select_result');
  const num = (a: Float32Array): (number | null)[] => Array.from(a, (v) => (Number.isFinite(v) ? v : null));
  appendColumns(
    app,
    [BIGINT, INTEGER, VARCHAR, DOUBLE, VARCHAR, ...columns.map(() => DOUBLE)],
    [uids, Array.from(rank, (r) => (r < 0 ? null : r)), by, num(gain), flags, ...columns.map((s) => num(signals[s]!))],
  );
  app.closeSync();
  const added = ['select_rank INTEGER', 'select_by VARCHAR', 'select_gain DOUBLE', 'select_value DOUBLE', 'surprise_flag VARCHAR', ...SIGNALS.map((s) => `${s} DOUBLE`)];
  for (const col of added) await c.run(`ALTER TABLE samples ADD COLUMN ${col}`);
  await c.run(`UPDATE samples SET select_rank = r.select_rank, select_by = r.select_by, select_gain = r.select_gain, surprise_flag = r.surprise_flag,
      select_value = CASE WHEN r.select_rank IS NULL THEN 0 ELSE 1 - r.select_rank / ${Math.max(n, 1)} END
      ${columns.map((s) => `, ${s} = r.${s}`).join('')}
    FROM select_result r WHERE samples.uid = r.uid; DROP TABLE select_result`);
  const picked = (await c.runAndReadAll(`SELECT select_by, count(*) FROM samples WHERE select_by IS NOT NULL GROUP BY ALL ORDER BY ALL`)).getRows();
  counters.seconds = (performance.now() - t0) / 1000;
  return {
    counters,
    manifest: {
      strategy: cfg.strategy,
      rows: n,
      labelled_rows: labelled.length,
      imported_labels_applied: imported,
      classes,
      ranked_by: Object.fromEntries(picked.map(([k, v]) => [String(k), Number(v)])),
      signals: columns,
      knn_graph: graphExact ? 'exact' : 'clustered (IVF)',
      ...(greedi ? { greedi: { candidates: n } } : {}),
    },
  };
}

/** Entropy of each row's soft assignment to ~sqrt(n) k-means centroids, in blocks of rows. */
async function softClusterEntropy(pool: Pool, kernel: MatMulKernel, seed: number): Promise<Float32Array> {
  const { n, d } = pool;
  const k = Math.max(2, Math.min(1000, Math.round(Math.sqrt(n))));
  const out = new Float32Array(n);
  if (n < 3) return out;
  const { centroids } = await fitKMeans(pool.x, n, d, k, kernel, { seed, iters: 5 });
  const ct = transposeDense(centroids, k, d);
  const rows = Math.max(1, Math.floor((4 << 20) / k));
  for (let s = 0; s < n; s += rows) {
    const e = Math.min(n, s + rows);
    out.set(clusterEntropy(await kernel.run(pool.x.subarray(s * d, e * d), e - s, d, ct, k), e - s, k), s);
  }
  return out;
}

/**
 * Surprise (cross-entropy in nats per character) of every pool row under a character 4-gram LM of
 * the reference source's kept rows (leave-one-out for the reference's own rows). Rows outside the
 * configured quantiles are flagged `low` (boilerplate, repetition) or `high` (noise, other language).
 */
async function surprise(ctx: BarrierContext, uids: bigint[], ref: { source: string; low: number; high: number }): Promise<{ surprise: Float32Array; flags: (string | null)[] }> {
  const c = ctx.store.conn;
  const refRows = (await c.runAndReadAll(`SELECT text FROM samples WHERE status = 'selected' AND source = ${quoteLiteral(ref.source)} ORDER BY uid`)).getRows();
  const lm = new CharLm(4).fit(refRows.map((r) => String(r[0])));
  const rows = (await c.runAndReadAll(`SELECT uid, text, source::VARCHAR = ${quoteLiteral(ref.source)} FROM samples WHERE status = 'selected' ORDER BY uid`)).getRows();
  const pos = new Map(uids.map((u, i) => [u, i]));
  const out = new Float32Array(uids.length);
  for (const [uid, text, own] of rows) out[pos.get(uid as bigint)!] = -lm.logProbPerChar(String(text), own === true);
  const sorted = Float32Array.from(out).sort();
  const q = (p: number): number => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0;
  const lo = q(ref.low);
  const hi = q(ref.high);
  return { surprise: out, flags: Array.from(out, (v) => (v < lo ? 'low' : v > hi ? 'high' : null)) };
}
