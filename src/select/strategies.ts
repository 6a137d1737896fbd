import { SELECT_STRATEGIES } from '../config/schema.js';
import { shuffled } from '../math/random.js';
import type { MatMulKernel } from '../onnx/kernels.js';
import { badge } from './badge.js';
import { facilityLocation } from './facility.js';
import { coverageRank } from './ngram-coverage.js';
import { kCenterGreedy } from './kcenter.js';
import { fitKMeans, type KMeansResult } from '../math/kmeans.js';
import { KNN_KMEANS_ITERS, knnGraph, typicality, type KnnGraph } from './knn-graph.js';
import type { Pool } from './pool.js';
import { typiClust } from './typical.js';
import { ensembleUncertainty, type Uncertainty } from './uncertainty.js';

export const STRATEGIES = SELECT_STRATEGIES;
export type StrategyName = (typeof STRATEGIES)[number];

/** One chosen row and why: the strategy (or hybrid phase) that picked it and its signal values. */
export interface Pick {
  index: number;
  by: string;
  signals: Record<string, number>;
}

export interface HybridOptions {
  /** Labelled rows per class below which the hybrid picks typical rows (cold start). */
  coldStartPerClass: number;
  /** Uncertain candidates considered per pick in the warm phase. */
  candidateFactor: number;
}

export const DEFAULT_HYBRID: HybridOptions = { coldStartPerClass: 2, candidateFactor: 10 };

/**
 * What every strategy needs about one pool, computed once and shared across rounds: the kNN graph
 * and typicality do not depend on labels.
 */
export class SelectionContext {
  private graphMemo?: Promise<KnnGraph>;
  private typMemo?: Float32Array;
  private readonly kmeansMemo = new Map<number, Promise<KMeansResult>>();
  constructor(
    readonly pool: Pool,
    readonly kernel: MatMulKernel,
    readonly seed: number,
    readonly neighbours = 20,
    /** Pools up to this size get an exact kNN graph; larger ones the clustered search. */
    readonly exactBelow = 20_000,
  ) {}

  graph(): Promise<KnnGraph> {
    this.graphMemo ??= knnGraph(this.pool, this.neighbours, this.kernel, { seed: this.seed, exactBelow: this.exactBelow, kmeans: (c) => this.kmeans(c) });
    return this.graphMemo;
  }

  /** The pool's spherical k-means with k clusters, fitted once per k (the kNN search and the cluster entropy share it). */
  kmeans(k: number): Promise<KMeansResult> {
    let m = this.kmeansMemo.get(k);
    if (!m) {
      m = fitKMeans(this.pool.x, this.pool.n, this.pool.d, k, this.kernel, { seed: this.seed, iters: KNN_KMEANS_ITERS });
      this.kmeansMemo.set(k, m);
    }
    return m;
  }

  async typicality(): Promise<Float32Array> {
    this.typMemo ??= typicality(await this.graph());
    return this.typMemo;
  }
}

export interface SelectRequest {
  strategy: StrategyName;
  count: number;
  /** Pool rows whose labels are known, and their class ids. */
  labelled: Int32Array;
  labels: Int32Array;
  classes: number;
  /** Rows that may not be picked (besides the labelled ones). */
  exclude?: Uint8Array;
  seed: number;
  hybrid?: HybridOptions;
  /** Probe-ensemble uncertainty already computed for these labels (reused instead of refitting). */
  uncertainty?: Uncertainty;
  /**
   * Rank training data rather than pick rows to annotate: labelled rows are candidates like any other
   * (their labels still train the probes), and the hybrid spends its gains by `importance`.
   */
  rankAll?: boolean;
  /** Per-row weight of the hybrid's training-data ranking (e.g. importance for a target); default 1. */
  importance?: Float32Array;
  /** The pool rows' texts: the training-data ranking measures the n-grams each row adds. */
  texts?: readonly string[];
}

/**
 * Picks `count` rows of the pool by one strategy. Strategies that need a probe fall back to typical
 * picks while fewer than two classes are labelled (there is no classifier to be uncertain yet).
 */
export async function selectRows(ctx: SelectionContext, req: SelectRequest): Promise<Pick[]> {
  const { pool } = ctx;
  const blocked = new Uint8Array(pool.n);
  if (req.exclude) blocked.set(req.exclude);
  if (!req.rankAll) for (const i of req.labelled) blocked[i] = 1;
  const free = (i: number): boolean => !blocked[i];
  const labelledClasses = new Set(req.labels).size;
  const canProbe = labelledClasses >= 2;
  const strategy = !canProbe && ['entropy', 'margin', 'bald', 'badge'].includes(req.strategy) ? 'typical' : req.strategy;
  switch (strategy) {
    case 'random': {
      const idx = shuffled(pool.n, req.seed).filter(free).slice(0, req.count);
      return idx.map((index) => ({ index, by: 'random', signals: {} }));
    }
    case 'entropy':
    case 'margin':
    case 'bald': {
      const u = uncertainty(ctx, req, strategy === 'bald' ? 5 : 1);
      const score = strategy === 'entropy' ? u.entropy : strategy === 'margin' ? u.margin : u.bald;
      return topBy(score, req.count, free).map((index) => ({ index, by: strategy, signals: signalsOf(u, index) }));
    }
    case 'kcenter': {
      const r = await kCenterGreedy(pool, req.count, excludedList(blocked), ctx.kernel);
      return Array.from(r.picks, (index, t) => ({ index, by: 'kcenter', signals: { distance: r.distance[t]! } }));
    }
    case 'typical': {
      const typ = await ctx.typicality();
      const picks = await typiClust(pool, req.count, req.rankAll ? [] : req.labelled, typ, ctx.kernel, { seed: req.seed, exclude: blocked });
      return Array.from(picks, (index) => ({ index, by: 'typical', signals: { typicality: typ[index]! } }));
    }
    case 'badge': {
      const u = uncertainty(ctx, req, 1);
      return Array.from(badge(pool, req.count, u.proba, u.classes, blocked, req.seed), (index) => ({ index, by: 'badge', signals: signalsOf(u, index) }));
    }
    case 'hybrid':
      return req.rankAll ? trainingHybrid(ctx, req, blocked, canProbe) : hybrid(ctx, req, blocked, canProbe);
  }
}

/**
 * The default strategy. While labels are few (under `coldStartPerClass` per class, or fewer than two
 * classes) a probe's uncertainty is noise, so it takes typical rows of uncovered clusters. After
 * that it takes the most uncertain rows by margin, `candidateFactor` candidates per pick, and among
 * them runs facility location weighted by uncertainty: uncertain rows that also represent much of
 * the pool, never a batch of near-identical ones.
 */
async function hybrid(ctx: SelectionContext, req: SelectRequest, blocked: Uint8Array, canProbe: boolean): Promise<Pick[]> {
  const opts = req.hybrid ?? DEFAULT_HYBRID;
  const typ = await ctx.typicality();
  if (!canProbe || req.labelled.length < opts.coldStartPerClass * req.classes) {
    const picks = await typiClust(ctx.pool, req.count, req.labelled, typ, ctx.kernel, { seed: req.seed, exclude: blocked });
    return Array.from(picks, (index) => ({ index, by: 'hybrid:typical', signals: { typicality: typ[index]! } }));
  }
  const u = uncertainty(ctx, req, 3);
  const cand = topBy(u.margin, req.count * opts.candidateFactor, (i) => !blocked[i]);
  const eligible = new Uint8Array(ctx.pool.n);
  for (const i of cand) eligible[i] = 1;
  const r = facilityLocation(await ctx.graph(), req.count, excludedList(blocked), u.margin, eligible);
  return Array.from(r.picks, (index, t) => ({ index, by: 'hybrid:uncertain-diverse', signals: { ...signalsOf(u, index), typicality: typ[index]!, gain: r.gain[t]! } }));
}

/**
 * The hybrid as a ranking of training data: n-gram coverage (`coverageRank`) over the whole pool,
 * each row's gain weighted by its importance and, once the probes are past their cold start, by
 * 1/2 + 1/2 its margin uncertainty. Uncertainty only tilts the order: for a language model a
 * confidently classified row is still text, where for annotation it is a wasted question.
 */
async function trainingHybrid(ctx: SelectionContext, req: SelectRequest, blocked: Uint8Array, canProbe: boolean): Promise<Pick[]> {
  if (!req.texts) throw new Error('the training-data ranking needs the pool texts');
  const opts = req.hybrid ?? DEFAULT_HYBRID;
  const warm = canProbe && req.labelled.length >= opts.coldStartPerClass * req.classes;
  const u = warm ? uncertainty(ctx, req, 3) : undefined;
  const r = coverageRank(req.texts, req.count, { weight: coverageWeight(ctx.pool.n, req.importance, u?.margin), blocked });
  const typ = await ctx.typicality();
  const by = u ? UNCERTAIN_COVERAGE : 'hybrid:coverage';
  return Array.from(r.picks, (index, t) => ({ index, by, signals: { ...(u ? signalsOf(u, index) : {}), typicality: typ[index]!, gain: r.gain[t]! } }));
}

/** What the training-data hybrid calls the picks it weighed by uncertainty. */
export const UNCERTAIN_COVERAGE = 'hybrid:uncertain-coverage';

/** The training-data hybrid's weight of each row: its importance, times 1/2 + 1/2 its margin once the probes are warm. */
export function coverageWeight(n: number, importance?: Float32Array, margin?: Float32Array): Float32Array {
  const weight = new Float32Array(n);
  for (let i = 0; i < n; i++) weight[i] = (importance?.[i] ?? 1) * (margin ? 0.5 + 0.5 * margin[i]! : 1);
  return weight;
}

function uncertainty(ctx: SelectionContext, req: SelectRequest, members: number): Uncertainty {
  if (req.uncertainty) return req.uncertainty;
  return ensembleUncertainty(ctx.pool, req.labelled, req.labels, req.classes, { members, seed: req.seed });
}

function signalsOf(u: Uncertainty, i: number): Record<string, number> {
  return { least_confidence: u.leastConfidence[i]!, margin: u.margin[i]!, entropy: u.entropy[i]!, bald: u.bald[i]! };
}

/** Indices of the `count` highest scores among rows passing `ok`, ties to the lower index. */
export function topBy(score: Float32Array, count: number, ok: (i: number) => boolean): number[] {
  const idx: number[] = [];
  for (let i = 0; i < score.length; i++) if (ok(i)) idx.push(i);
  return idx.sort((a, b) => score[b]! - score[a]! || a - b).slice(0, count);
}

function excludedList(blocked: Uint8Array): Int32Array {
  const out: number[] = [];
  for (let i = 0; i < blocked.length; i++) if (blocked[i]) out.push(i);
  return Int32Array.from(out);
}
