import { existsSync } from 'node:fs';
import path from 'node:path';
import { BIGINT, BOOLEAN, DOUBLE, DuckDBDataChunk, INTEGER, UBIGINT, VARCHAR } from '@duckdb/node-api';
import { xxh64 } from '@node-rs/xxhash';
import { Seq2SeqGenerator, HttpCompletionsGenerator, type Generator } from '../augment/generators.js';
import { OPERATORS, type OperatorName } from '../augment/operators.js';
import { openTokenCounter } from '../budget/token-count.js';
import type { AugmentConfig } from '../config/schema.js';
import { ALIVE, alive, KEPT_SQL } from '../core/reasons.js';
import { dedupKey } from '../dedup/dedup-key.js';
import { bandHashes, MinHasher, optimalBands } from '../dedup/minhash.js';
import { shingleHashes, sortedJaccard } from '../dedup/shingle-set.js';
import { BuiltinEncoder } from '../embed/builtin-encoder.js';
import { BUILTIN_MANIFEST, loadBuiltin } from '../embed/builtin-model.js';
import type { Encoder } from '../embed/encoder.js';
import { toHalfArray } from '../embed/float16.js';
import { openEncoder } from '../embed/open-encoder.js';
import { arrayType, setArrayColumn } from '../embed/vector-chunk.js';
import { assignClusters, fitKMeans } from '../math/kmeans.js';
import { rng } from '../math/random.js';
import { MatMulKernel } from '../onnx/kernels.js';
import { embeddingsFor } from '../select/store-pool.js';
import { hasColumn } from '../store/catalog.js';
import { appendColumns } from '../store/append.js';
import { codePointLength } from '../util/text.js';
import type { BarrierContext, BarrierResult, BarrierStage } from './barrier.js';
import type { TokenSplit } from './budget.js';

/**
 * When the compute-optimal token target is larger than the selected real text, fills part of the gap
 * with variants of selected rows: at most `max_synthetic_share` of the target and never more than
 * the gap, parents taken in selection order (diverse first), at most `per_parent` variants each.
 * A variant is dropped when its dedup key equals real text or an earlier variant (aug_exact_dup),
 * when its MinHash Jaccard with either reaches `near_threshold` (aug_near_dup), or when its
 * embedding has drifted from its parent's (aug_drift). Every variant, kept or not, is recorded in
 * the `augmentations` table with parent, operator, strength and seed.
 */
/** Why a variant was not kept, in the augmentations table (samples rows use REASONS). */
export const AUGMENT_REASONS = {
  generator_failed: 'the generator returned nothing for this item (failed request, endpoint given up)',
  over_synthetic_share: 'the synthetic share of the budget was already filled',
  aug_exact_dup: 'the same dedup key as real text or an earlier augmentation',
  aug_near_dup: 'a near-duplicate of its parent or another variant',
  aug_drift: 'the embedding cosine to its parent is below min_parent_cosine',
} as const;
export type AugmentReason = keyof typeof AUGMENT_REASONS;

export const augmentStage: BarrierStage<AugmentManifest> = {
  name: 'augment',
  enabled: (p) => p.stages.augment.enabled,
  writes: ['augmentations', 'output_rows'],
  run: runAugment,
};

interface Parent {
  uid: bigint;
  id: string;
  text: string;
  lang: string | null;
  label: string | null;
  source: string;
  file: string;
  row: bigint;
  meta: string | null;
}

interface Candidate {
  parent: number;
  op: string;
  seed: number;
  text: string | null;
  reason: AugmentReason | null;
  detail: string | null;
  tokens: number;
  cosine: number | null;
  /** Its embedding while it is checked; kept variants keep it for the store's vectors. */
  vector: Float32Array | null;
}

const AUG_DDL = `CREATE TABLE augmentations (uid BIGINT, id VARCHAR, parent_id VARCHAR, parent_uid BIGINT, aug_operator VARCHAR, strength DOUBLE, seed UBIGINT,
  source VARCHAR, file VARCHAR, "row" BIGINT, lang VARCHAR, label VARCHAR, text VARCHAR, text_chars INTEGER, meta JSON, tokens INTEGER,
  parent_cosine DOUBLE, status VARCHAR, reason VARCHAR, reason_detail VARCHAR, is_synthetic BOOLEAN)`;

/** The augment stage's part of manifest.json. */
export interface AugmentManifest {
  note?: string;
  synthetic_target_tokens?: number;
  synthetic_tokens: number;
  generated?: number;
  kept?: number;
  rejected?: Record<string, number>;
  kept_by_operator?: Record<string, number>;
  parents_used?: number;
  split?: TokenSplit;
}

async function runAugment(ctx: BarrierContext): Promise<BarrierResult<AugmentManifest>> {
  const t0 = performance.now();
  const cfg = ctx.config.stages.augment;
  const c = ctx.store.conn;
  await c.run(AUG_DDL);
  const counters = { stage: 'augment', in: 0, out: 0, rejected: {} as Record<string, number>, seconds: 0 };
  const budget = (await c.runAndReadAll(`SELECT target_tokens, unique_tokens_selected FROM budget`).catch(() => null))?.getRows()[0];
  const target = budget?.[0] === null || budget === undefined ? null : Number(budget[0]);
  if (target === null) return { counters, manifest: { note: 'no budget target: nothing to fill', synthetic_tokens: 0 } };
  const uniqueSelected = Number(budget![1]);
  const gap = Math.max(0, target - uniqueSelected);
  const synthTarget = Math.min(gap, cfg.max_synthetic_share * target);
  if (synthTarget <= 0) return { counters, manifest: { note: 'the real selection covers the target', synthetic_target_tokens: 0, synthetic_tokens: 0, split: split(target, uniqueSelected, 0) } };

  const hasRank = await hasColumn(c, 'samples', 'select_rank');
  const parents: Parent[] = (
    await c.runAndReadAll(
      `SELECT uid, id, text, lang, label, source::VARCHAR, file::VARCHAR, "row", meta::VARCHAR FROM samples WHERE ${ALIVE} ORDER BY ${hasRank ? 'select_rank NULLS LAST, ' : ''}uid`,
    )
  )
    .getRows()
    .map((r) => ({
      uid: r[0] as bigint,
      id: String(r[1]),
      text: String(r[2]),
      lang: r[3] as string | null,
      label: r[4] as string | null,
      source: String(r[5]),
      file: String(r[6]),
      row: r[7] as bigint,
      meta: r[8] as string | null,
    }));
  const counter = await openTokenCounter(ctx.config.stages.budget.tokenizer, ctx.baseDir);
  const dd = ctx.config.stages.dedup;
  const keyOpts = { stripMarks: dd.key.strip_marks, casefold: dd.key.casefold, collapsePunctuation: dd.key.collapse_punctuation };
  const honest = await HonestyIndex.build(ctx, keyOpts, cfg);
  const emb = await openRunEncoder(ctx);
  const kernel = await MatMulKernel.open('cpu');
  const generator = await openGenerator(cfg, ctx.baseDir);
  const candidates: Candidate[] = [];
  let synthTokens = 0;
  try {
    const parentVec = (
      await embeddingsFor(
        c,
        parents.map((p) => p.uid),
        alive('s'),
      )
    ).x;
    const related = await relatedParents(parents, parentVec, emb.dim, kernel, ctx.config.seed);
    const ops: string[] = [...cfg.operators, ...(generator ? [`generator:${generator.name}`] : [])];
    for (let round = 0; round < cfg.per_parent && synthTokens < synthTarget; round++) {
      // One round: one variant per parent, in selection order, then checked in that order.
      const batch: Candidate[] = parents.map((p, i) => {
        const seed = Number(BigInt.asUintN(32, xxh64(`${ctx.config.seed}:${p.uid}:${round}`)));
        const op = ops[(seed + round) % ops.length]!;
        const text = op.startsWith('generator:') ? null : OPERATORS[op as OperatorName](p.text, cfg.strength, rng(seed), related[i]! >= 0 ? parents[related[i]!]!.text : undefined);
        return { parent: i, op, seed, text, reason: null, detail: null, tokens: 0, cosine: null, vector: null };
      });
      if (generator) {
        const viaGen = batch.filter((b) => b.op.startsWith('generator:'));
        const out = await generator.generate(
          viaGen.map((b) => parents[b.parent]!.text),
          ctx.config.seed + round,
        );
        const stopped = generator instanceof HttpCompletionsGenerator ? generator.stopped : null;
        viaGen.forEach((b, k) => {
          b.text = out[k] ?? null;
          if (b.text === null) [b.reason, b.detail] = ['generator_failed', stopped === null ? null : `endpoint given up: ${stopped}`];
        });
      }
      const live = batch.filter((b) => b.text !== null && b.reason === null);
      const vecs = live.length ? await emb.encoder.encode(live.map((b) => b.text!)) : new Float32Array(0);
      live.forEach((b, k) => {
        b.vector = vecs.subarray(k * emb.dim, (k + 1) * emb.dim);
        let dot = 0;
        for (let j = 0; j < emb.dim; j++) dot += b.vector[j]! * parentVec[b.parent * emb.dim + j]!;
        b.cosine = dot;
      });
      for (const b of batch) {
        if (b.text === null) {
          if (b.reason) candidates.push(b);
          continue;
        }
        if (synthTokens >= synthTarget) b.reason = 'over_synthetic_share';
        else {
          b.tokens = counter.count(b.text);
          const verdict = honest.check(b.text, parents[b.parent]!.text, b.cosine!);
          if (verdict) {
            b.reason = verdict.reason;
            b.detail = verdict.detail;
          } else if (synthTokens + b.tokens > synthTarget) {
            b.reason = 'over_synthetic_share';
          } else {
            honest.add(b.text);
            synthTokens += b.tokens;
          }
        }
        // Only kept variants keep their vector, as a copy, so the round's batch can be freed.
        b.vector = b.reason === null ? b.vector!.slice() : null;
        candidates.push(b);
      }
    }
  } finally {
    await kernel.release();
    await emb.encoder.close();
    await generator?.close?.();
  }
  if (generator instanceof HttpCompletionsGenerator && generator.stopped !== null) {
    ctx.log.warn(
      `augment: stopped calling ${cfg.generator?.kind === 'http' ? cfg.generator.url : 'the generator'} after ${generator.stopped}; its remaining variants are generator_failed. Check the server, or raise stages.augment.generator.max_consecutive_failures / timeout_ms`,
    );
  }
  await writeAugmentations(ctx, parents, candidates, cfg, emb.dim);
  counters.in = candidates.length;
  for (const b of candidates) {
    if (b.reason === null) counters.out++;
    else counters.rejected[b.reason] = (counters.rejected[b.reason] ?? 0) + 1;
  }
  const byOp: Record<string, number> = {};
  for (const b of candidates) if (b.reason === null) byOp[b.op] = (byOp[b.op] ?? 0) + 1;
  counters.seconds = (performance.now() - t0) / 1000;
  return {
    counters,
    manifest: {
      synthetic_target_tokens: synthTarget,
      synthetic_tokens: synthTokens,
      generated: candidates.length,
      kept: counters.out,
      rejected: counters.rejected,
      kept_by_operator: byOp,
      parents_used: new Set(candidates.filter((b) => b.reason === null).map((b) => b.parent)).size,
      split: split(target, uniqueSelected, synthTokens),
    },
  };
}

/** How the training-token target is made up: unique real text, repeats of it, synthetic text. */
export function split(target: number, unique: number, synthetic: number): TokenSplit {
  return { unique_real: unique, repeated_real: Math.max(0, target - unique - synthetic), synthetic };
}

/**
 * Exact keys and MinHash LSH bands of the real rows kept by dedup (and of accepted variants), to
 * tell whether a variant adds anything.
 */
class HonestyIndex {
  private readonly keys = new Set<bigint>();
  private readonly bands = new Map<string, number[]>();
  private readonly sigs: Uint32Array[] = [];
  private readonly ids: string[] = [];
  private readonly sig: Uint32Array;
  private readonly bh: Uint32Array;
  private constructor(
    private readonly hasher: MinHasher,
    private readonly b: number,
    private readonly r: number,
    private readonly keyOpts: Parameters<typeof dedupKey>[1],
    private readonly cfg: AugmentConfig,
  ) {
    this.sig = new Uint32Array(hasher.numPerm);
    this.bh = new Uint32Array(b);
  }

  static async build(ctx: BarrierContext, keyOpts: Parameters<typeof dedupKey>[1], cfg: AugmentConfig): Promise<HonestyIndex> {
    const near = ctx.config.stages.dedup.near;
    // Missing a near-duplicate here costs more than a spare comparison: weigh false negatives 4:1.
    const { bands, rows } = optimalBands(cfg.near_threshold, near.num_perm, 0.2, 0.8);
    const idx = new HonestyIndex(new MinHasher(near.num_perm, near.shingle, ctx.config.seed), bands, rows, keyOpts, cfg);
    const res = await ctx.store.conn.stream(`SELECT id, text, ${KEPT_SQL} FROM samples WHERE text IS NOT NULL`);
    for (;;) {
      const chunk = await res.fetchChunk();
      if (chunk === null || chunk.rowCount === 0) break;
      const [ids, texts, kept] = [0, 1, 2].map((j) => chunk.getColumnValues(j));
      for (let r = 0; r < chunk.rowCount; r++) {
        const t = String(texts![r]);
        idx.keys.add(xxh64(dedupKey(t, keyOpts)));
        // Rows dedup removed are near-duplicates of kept ones: signing the kept rows is enough.
        if (kept![r]) idx.addSig(t, String(ids![r]));
      }
    }
    return idx;
  }

  private addSig(text: string, id: string): void {
    const sig = new Uint32Array(this.hasher.numPerm);
    this.hasher.signature(dedupKey(text, this.keyOpts), sig);
    bandHashes(sig, this.b, this.r, this.bh);
    const n = this.sigs.length;
    this.sigs.push(sig);
    this.ids.push(id);
    for (let band = 0; band < this.b; band++) {
      const k = `${band}:${this.bh[band]}`;
      const list = this.bands.get(k);
      if (list) list.push(n);
      else this.bands.set(k, [n]);
    }
  }

  check(text: string, parentText: string, cosine: number): { reason: AugmentReason; detail: string } | null {
    const key = dedupKey(text, this.keyOpts);
    if (this.keys.has(xxh64(key))) return { reason: 'aug_exact_dup', detail: 'same dedup key as real text or an earlier augmentation' };
    // The parent is the likeliest near-duplicate: compared exactly, not through LSH.
    const toParent = sortedJaccard(shingleHashes(key, this.hasher.shingle), shingleHashes(dedupKey(parentText, this.keyOpts), this.hasher.shingle));
    if (toParent >= this.cfg.near_threshold) return { reason: 'aug_near_dup', detail: `jaccard ${toParent.toFixed(3)} with its parent` };
    this.hasher.signature(dedupKey(text, this.keyOpts), this.sig);
    bandHashes(this.sig, this.b, this.r, this.bh);
    const seen = new Set<number>();
    for (let band = 0; band < this.b; band++) {
      for (const j of this.bands.get(`${band}:${this.bh[band]}`) ?? []) {
        if (seen.has(j)) continue;
        seen.add(j);
        let same = 0;
        const s = this.sigs[j]!;
        for (let p = 0; p < s.length; p++) if (s[p] === this.sig[p]) same++;
        const jac = same / s.length;
        // A signature estimate errs by ~0.04 at 128 permutations: err on the side of rejecting.
        if (jac >= this.cfg.near_threshold - 0.08) return { reason: 'aug_near_dup', detail: `jaccard~${jac.toFixed(3)} with ${this.ids[j]}` };
      }
    }
    if (cosine < this.cfg.min_parent_cosine) return { reason: 'aug_drift', detail: `cosine ${cosine.toFixed(3)} to parent < ${this.cfg.min_parent_cosine}` };
    return null;
  }

  add(text: string): void {
    this.keys.add(xxh64(dedupKey(text, this.keyOpts)));
    this.addSig(text, 'an earlier augmentation');
  }
}

/** The run's own encoder: the built-in model it fitted (saved with the run) or the configured model. */
async function openRunEncoder(ctx: BarrierContext): Promise<{ encoder: Encoder; dim: number }> {
  const cfg = ctx.config.stages.embed;
  if (!cfg.enabled) throw new Error('internal: the augment stage needs the embed stage (config validation should have said so)');
  let encoder: Encoder;
  if (cfg.model === 'builtin' && existsSync(path.join(ctx.artifactDir, BUILTIN_MANIFEST))) encoder = await BuiltinEncoder.open(await loadBuiltin(ctx.artifactDir), { device: cfg.device });
  else encoder = await openEncoder(cfg, { baseDir: ctx.baseDir, seed: ctx.config.seed, sample: async () => [], notice: ctx.log.info });
  return { encoder, dim: encoder.dim };
}

/**
 * For `concat`: a related parent for each parent, another of the same label when labels exist, else
 * another of the same k-means cluster of the embeddings (-1 when it has none).
 */
async function relatedParents(parents: Parent[], x: Float32Array, d: number, kernel: MatMulKernel, seed: number): Promise<Int32Array> {
  const n = parents.length;
  const out = new Int32Array(n).fill(-1);
  if (n < 2) return out;
  const k = Math.max(1, Math.round(Math.sqrt(n)));
  const { centroids } = await fitKMeans(x, n, d, k, kernel, { seed });
  const assign = await assignClusters(x, n, d, centroids, k, kernel);
  const groups = new Map<string, number[]>();
  parents.forEach((p, i) => {
    const key = p.label !== null ? `l:${p.label}` : `c:${assign[i]}`;
    groups.set(key, [...(groups.get(key) ?? []), i]);
  });
  for (const members of groups.values()) if (members.length > 1) members.forEach((i, t) => (out[i] = members[(t + 1) % members.length]!));
  return out;
}

async function openGenerator(cfg: AugmentConfig, baseDir: string): Promise<Generator | null> {
  const g = cfg.generator;
  if (!g) return null;
  if (g.kind === 'http')
    return new HttpCompletionsGenerator({
      url: g.url,
      model: g.model,
      prompt: g.prompt,
      maxTokens: g.max_tokens,
      temperature: g.temperature,
      timeoutMs: g.timeout_ms,
      retries: g.retries,
      concurrency: g.concurrency,
      maxResponseBytes: g.max_response_bytes,
      maxConsecutiveFailures: g.max_consecutive_failures,
    });
  return Seq2SeqGenerator.open(path.resolve(baseDir, g.model), g.back_model ? path.resolve(baseDir, g.back_model) : undefined, g.max_length);
}

async function writeAugmentations(ctx: BarrierContext, parents: Parent[], cands: Candidate[], cfg: AugmentConfig, d: number): Promise<void> {
  const c = ctx.store.conn;
  const maxUid = Number((await c.runAndReadAll('SELECT coalesce(max(uid), -1) FROM samples')).getRows()[0]![0]);
  const app = await c.createAppender('augmentations');
  const p = (b: Candidate): Parent => parents[b.parent]!;
  const uids = cands.map((_, i) => BigInt(maxUid + 1 + i));
  appendColumns(
    app,
    [BIGINT, VARCHAR, VARCHAR, BIGINT, VARCHAR, DOUBLE, UBIGINT, VARCHAR, VARCHAR, BIGINT, VARCHAR, VARCHAR, VARCHAR, INTEGER, VARCHAR, INTEGER, DOUBLE, VARCHAR, VARCHAR, VARCHAR, BOOLEAN],
    [
      uids,
      cands.map((b) => `${p(b).id}~${b.op}~${b.seed.toString(16)}`),
      cands.map((b) => p(b).id),
      cands.map((b) => p(b).uid),
      cands.map((b) => b.op),
      cands.map(() => cfg.strength),
      cands.map((b) => BigInt(b.seed)),
      cands.map((b) => p(b).source),
      cands.map((b) => p(b).file),
      cands.map((b) => p(b).row),
      cands.map((b) => p(b).lang),
      cands.map((b) => p(b).label),
      cands.map((b) => b.text),
      cands.map((b) => (b.text === null ? null : codePointLength(b.text))),
      cands.map((b) => p(b).meta),
      cands.map((b) => (b.text === null ? null : b.tokens || null)),
      cands.map((b) => b.cosine),
      cands.map((b) => (b.reason === null ? 'selected' : 'rejected')),
      cands.map((b) => b.reason),
      cands.map((b) => b.detail),
      cands.map(() => true),
    ],
  );
  app.closeSync();
  // Kept variants get vectors like real rows, so `output.embeddings` covers them too.
  const kept = cands.map((b, i) => ({ b, uid: uids[i]! })).filter((x) => x.b.vector !== null);
  if (kept.length === 0) return;
  const dtype = ctx.config.stages.embed.dtype;
  const keys = kept.map((x) => xxh64(x.b.text!));
  const k2 = await c.createAppender('embed_keys');
  appendColumns(k2, [BIGINT, UBIGINT], [kept.map((x) => x.uid), keys]);
  k2.closeSync();
  const vapp = await c.createAppender('embedding_vectors');
  const all = new Float32Array(kept.length * d);
  kept.forEach((x, i) => all.set(x.b.vector!, i * d));
  const chunk = DuckDBDataChunk.create([UBIGINT, arrayType(dtype, d)], kept.length);
  chunk.setColumnValues(0, keys);
  setArrayColumn(chunk, 1, dtype === 'float32' ? all : toHalfArray(all));
  vapp.appendDataChunk(chunk);
  vapp.closeSync();
  await c.run(`DELETE FROM embedding_vectors WHERE rowid NOT IN (SELECT min(rowid) FROM embedding_vectors GROUP BY key)`);
}
