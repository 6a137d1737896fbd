import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { Pipeline } from '../config/schema.js';
import type { Batch } from '../core/batch.js';
import { ConfigError } from '../core/errors.js';
import { addCounts, countSource, countsOf, record, runStages, type BatchCounts, type StageCounters } from '../stages/runner.js';
import type { Stage, StageContext } from '../stages/stage.js';
import type { WorkerInput } from './stage-worker.js';
import { builtWorker, errorFromWorker, threadExited, type WorkerError } from './worker-thread.js';

/** Input below this many bytes per extra worker is streamed on the main thread (starting workers costs more). */
const BYTES_PER_WORKER = 4 << 20;
/** Batches queued per worker: enough that a worker never waits while the main thread stores a batch. */
const IN_FLIGHT_PER_WORKER = 4;
const WORKER_FILE = builtWorker('stage-worker');

/**
 * How many worker threads run the streaming stages: the configured number, or with `auto` every
 * core, fewer when the input is too small to pay for them. One means the main thread.
 */
export function workerCount(setting: number | 'auto', inputBytes: number): number {
  if (setting !== 'auto') return setting;
  return Math.max(1, Math.min(availableParallelism(), Math.floor(inputBytes / BYTES_PER_WORKER)));
}

export interface StreamExecution {
  output: AsyncIterable<Batch>;
  /** Live counters laid out as runStages': read, then each stage. */
  counters: StageCounters[];
  /** Stops the workers (after the output is drained, or on error). */
  close: () => Promise<void>;
}

/**
 * The local executor, kept apart from the stages as datatrove keeps its executors apart from its
 * steps: with one worker the stages run on the main thread (runStages); with more, each batch is
 * sent to a pool of worker threads that run every streaming stage on it, and batches come back in
 * input order, so outputs and counts are identical for any number of workers. At most
 * IN_FLIGHT_PER_WORKER batches per worker are in flight, which keeps memory flat.
 */
export function executeStreaming(
  source: AsyncIterable<Batch>,
  stages: { name: string; stage: Stage }[],
  ctx: StageContext,
  readCounters: StageCounters,
  pool: { workers: number; config: Pipeline; baseDir: string },
): StreamExecution {
  if (pool.workers <= 1 || stages.length === 0) return { ...runStages(source, stages, ctx, readCounters), close: async () => undefined };
  if (!existsSync(WORKER_FILE)) throw new ConfigError(`execution.workers: ${pool.workers} worker threads need the built worker ${WORKER_FILE}; run \`npm run build\`, or set execution.workers: 1`);
  const counters: StageCounters[] = [readCounters, ...stages.map((s) => ({ stage: s.name, in: 0, out: 0, rejected: {}, seconds: 0 }))];
  const workerData: WorkerInput = { config: pool.config, baseDir: pool.baseDir, stages: stages.map((s) => s.name) };
  const workers = Array.from({ length: pool.workers }, () => new Worker(WORKER_FILE, { workerData }));
  const waiting = new Map<number, { resolve: (b: Batch) => void; reject: (e: Error) => void; read: BatchCounts }>();
  let failure: Error | null = null;
  let closing = false;
  for (const w of workers) {
    w.on('message', (m: { warn?: string; id?: number; batch?: Batch; counts?: BatchCounts; seconds?: number[]; error?: WorkerError }) => {
      if (m.warn !== undefined) return ctx.warn(m.warn);
      const job = waiting.get(m.id!)!;
      waiting.delete(m.id!);
      if (m.error) return job.reject(errorFromWorker(m.error));
      const batch = m.batch!;
      // The batch came back as a copy: carry the read counts over, then the stages'.
      record(batch, job.read[0]!);
      m.counts!.forEach((d, k) => {
        record(batch, d);
        addCounts([counters[k + 1]!], [{ ...d }]);
        counters[k + 1]!.seconds += m.seconds![k]! / pool.workers;
      });
      job.resolve(batch);
    });
    const fail = (err: Error): void => {
      failure ??= err;
      for (const job of waiting.values()) job.reject(failure);
      waiting.clear();
    };
    w.on('error', fail);
    // A thread that ends while batches wait (killed by the runtime, out of memory) must fail the run, not hang it.
    w.on('exit', (code) => {
      if (!closing) fail(threadExited('the streaming stages', code));
    });
  }
  let next = 0;
  const send = (b: Batch): Promise<Batch> =>
    new Promise<Batch>((resolve, reject) => {
      if (failure) return reject(failure);
      const id = next++;
      waiting.set(id, { resolve, reject, read: countsOf(b) });
      workers[id % workers.length]!.postMessage({ id, batch: b });
    });
  const output = (async function* () {
    const pending: Promise<Batch>[] = [];
    for await (const b of countSource(source, readCounters)) {
      const p = send(b);
      p.catch(() => undefined); // surfaced in order by the await below
      pending.push(p);
      while (pending.length >= IN_FLIGHT_PER_WORKER * workers.length) yield await pending.shift()!;
    }
    while (pending.length > 0) yield await pending.shift()!;
  })();
  const close = async (): Promise<void> => {
    closing = true;
    await Promise.all(workers.map((w) => w.terminate()));
  };
  return { output, counters, close };
}
