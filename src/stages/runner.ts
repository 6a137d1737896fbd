import type { Batch } from '../core/batch.js';
import type { Stage, StageContext } from './stage.js';

export interface StageCounters {
  stage: string;
  /** Rows alive when they reached the stage. */
  in: number;
  /** Rows still alive after it. */
  out: number;
  rejected: Record<string, number>;
  seconds: number;
}

/** Counts alive rows and newly rejected rows (by reason) for every batch flowing past a point. */
function aliveMask(b: Batch): Uint8Array {
  const m = new Uint8Array(b.size);
  for (let i = 0; i < b.size; i++) m[i] = b.reason[i] === null ? 1 : 0;
  return m;
}

/** What one batch did at each point of the chain (read, then every stage): in, out, rejected by reason. */
export type BatchCounts = { in: number; out: number; rejected: Record<string, number> }[];

const batchCounts = new WeakMap<Batch, BatchCounts>();

/**
 * The counts a batch contributed at every point of the chain. A resumable run adds them to its
 * totals only once the batch is in the run store, so checkpointed totals always match stored rows
 * (the live counters run ahead of the store by the batches in flight).
 */
export function countsOf(b: Batch): BatchCounts {
  return batchCounts.get(b) ?? [];
}

/** Adds one batch's counts into totals laid out like `runStages`' counters. */
export function addCounts(totals: StageCounters[], counts: BatchCounts): void {
  counts.forEach((d, k) => {
    const t = totals[k]!;
    t.in += d.in;
    t.out += d.out;
    for (const [r, n] of Object.entries(d.rejected)) t.rejected[r] = (t.rejected[r] ?? 0) + n;
  });
}

export function record(b: Batch, d: BatchCounts[number]): void {
  const list = batchCounts.get(b);
  if (list) list.push(d);
  else batchCounts.set(b, [d]);
}

/**
 * Chains stages and measures each: rows in/out, rejections by reason, and the seconds spent inside
 * the stage itself (time waiting on the upstream stage is subtracted, so slow readers do not make
 * a fast stage look slow).
 */
export function runStages(
  source: AsyncIterable<Batch>,
  stages: { name: string; stage: Stage }[],
  ctx: StageContext,
  sourceCounters: StageCounters,
): { output: AsyncIterable<Batch>; counters: StageCounters[] } {
  const counters: StageCounters[] = [sourceCounters];
  let upstream: AsyncIterable<Batch> = countSource(source, sourceCounters);
  for (const { name, stage } of stages) {
    const c: StageCounters = { stage: name, in: 0, out: 0, rejected: {}, seconds: 0 };
    counters.push(c);
    upstream = measure(upstream, stage, c, ctx);
  }
  return { output: upstream, counters };
}

export async function* countSource(source: AsyncIterable<Batch>, c: StageCounters): AsyncGenerator<Batch> {
  const it = source[Symbol.asyncIterator]();
  for (;;) {
    const t0 = performance.now();
    const r = await it.next();
    c.seconds += (performance.now() - t0) / 1000;
    if (r.done) return;
    const b = r.value;
    const d: BatchCounts[number] = { in: b.size, out: 0, rejected: {} };
    for (let i = 0; i < b.size; i++) {
      const reason = b.reason[i];
      if (reason === null || reason === undefined) d.out++;
      else d.rejected[reason] = (d.rejected[reason] ?? 0) + 1;
    }
    record(b, d);
    addCounts([c], [d]);
    yield b;
  }
}

/** What a stage did to a batch, given which rows were alive before it. */
function stageDelta(b: Batch, before: Uint8Array | undefined): BatchCounts[number] {
  const d: BatchCounts[number] = { in: 0, out: 0, rejected: {} };
  if (before) for (let i = 0; i < before.length; i++) d.in += before[i]!;
  for (let i = 0; i < b.size; i++) {
    const reason = b.reason[i];
    if (reason === null || reason === undefined) d.out++;
    else if (before === undefined || before[i] === 1) d.rejected[reason] = (d.rejected[reason] ?? 0) + 1;
  }
  return d;
}

/**
 * Runs one batch through the stages (each stage sees a stream of that one batch): what a worker
 * thread of the local executor does. Returns the stages' counts and seconds for the batch.
 */
export async function runBatch(b: Batch, stages: { name: string; stage: Stage }[], ctx: StageContext): Promise<{ batch: Batch; counts: BatchCounts; seconds: number[] }> {
  const counts: BatchCounts = [];
  const seconds: number[] = [];
  let cur = b;
  for (const { name, stage } of stages) {
    const before = aliveMask(cur);
    const t0 = performance.now();
    let out: Batch | undefined;
    for await (const x of stage(
      (async function* () {
        yield cur;
      })(),
      ctx,
    ))
      out = x;
    if (!out) throw new Error(`stage ${name} yielded no batch for the batch it was given`);
    seconds.push((performance.now() - t0) / 1000);
    counts.push(stageDelta(out, before));
    cur = out;
  }
  return { batch: cur, counts, seconds };
}

async function* measure(upstream: AsyncIterable<Batch>, stage: Stage, c: StageCounters, ctx: StageContext): AsyncGenerator<Batch> {
  const masks = new WeakMap<Batch, Uint8Array>();
  let waited = 0;
  const tapped = (async function* () {
    const it = upstream[Symbol.asyncIterator]();
    for (;;) {
      const t0 = performance.now();
      const r = await it.next();
      waited += performance.now() - t0;
      if (r.done) return;
      const m = aliveMask(r.value);
      for (let i = 0; i < m.length; i++) c.in += m[i]!;
      masks.set(r.value, m);
      yield r.value;
    }
  })();
  const it = stage(tapped, ctx)[Symbol.asyncIterator]();
  for (;;) {
    const t0 = performance.now();
    const before = waited;
    const r = await it.next();
    c.seconds += Math.max(0, performance.now() - t0 - (waited - before)) / 1000;
    if (r.done) return;
    const b = r.value;
    const d = stageDelta(b, masks.get(b));
    record(b, d);
    // The live `in` was counted as the batch entered the stage.
    addCounts([c], [{ ...d, in: 0 }]);
    yield b;
  }
}
