import { existsSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import type { Device } from '../onnx/runtime.js';
import type { BlockRanking } from '../select/blocks.js';
import { inputTransferables, type BlockInput, type Signal } from '../select/rank-block.js';
import type { BlockWorkerInput } from './block-worker.js';
import { builtWorker, errorFromWorker, threadExited, type WorkerError } from './worker-thread.js';

const WORKER_FILE = builtWorker('block-worker');

export type RankFn = (input: BlockInput) => Promise<BlockRanking<Signal>>;

/**
 * Ranks blocks on worker threads, one block per worker at a time, each worker with its own matrix
 * kernel on its share of the cores. Null when the built worker is missing (running from sources):
 * the blocks are then ranked on the main thread, with the same result.
 */
export function openBlockWorkers(workers: number, device: Device, cores: number): { rank: RankFn; close: () => Promise<void> } | null {
  if (!existsSync(WORKER_FILE)) return null;
  const workerData: BlockWorkerInput = { device, threads: Math.max(1, Math.floor(cores / workers)) };
  const pool = Array.from({ length: workers }, () => new Worker(WORKER_FILE, { workerData }));
  const idle = [...pool];
  const waiting = new Map<number, { resolve: (r: BlockRanking<Signal>) => void; reject: (e: Error) => void; worker: Worker }>();
  let closing = false;
  let next = 0;
  for (const w of pool) {
    w.on('message', (m: { id: number; ranking?: BlockRanking<Signal>; error?: WorkerError }) => {
      const job = waiting.get(m.id)!;
      waiting.delete(m.id);
      idle.push(w);
      if (m.error) job.reject(errorFromWorker(m.error));
      else job.resolve(m.ranking!);
    });
    const fail = (err: Error): void => {
      for (const [id, job] of waiting) {
        if (job.worker !== w) continue;
        waiting.delete(id);
        job.reject(err);
      }
    };
    w.on('error', fail);
    // A thread that ends while it ranks (killed by the runtime, out of memory) must fail the stage, not hang it.
    w.on('exit', (code) => {
      if (!closing) fail(threadExited('the select stage', code));
    });
  }
  const rank: RankFn = (input) =>
    new Promise((resolve, reject) => {
      const w = idle.pop();
      if (!w) return reject(new Error('block executor: more blocks sent than workers (internal)'));
      const id = next++;
      waiting.set(id, { resolve, reject, worker: w });
      w.postMessage({ id, input }, inputTransferables(input));
    });
  const close = async (): Promise<void> => {
    closing = true;
    await Promise.all(pool.map((w) => w.terminate()));
  };
  return { rank, close };
}

/**
 * Ranks `count` blocks, at most `concurrency` at a time: block b is read (on the main thread, from
 * the store) only when a slot is free, so at most `concurrency` blocks are in memory, and each
 * ranking lands at its block's index whatever order they finish in.
 */
export async function rankBlocks(count: number, concurrency: number, read: (b: number) => Promise<BlockInput>, rank: RankFn): Promise<BlockRanking<Signal>[]> {
  const parts = new Array<BlockRanking<Signal>>(count);
  const running = new Set<Promise<void>>();
  for (let b = 0; b < count; b++) {
    const job = rank(await read(b)).then((r) => void (parts[b] = r));
    running.add(job);
    // A failure surfaces at the next race or at the end; until then it must not count as unhandled.
    job.then(
      () => running.delete(job),
      () => undefined,
    );
    while (running.size >= concurrency) await Promise.race(running);
  }
  await Promise.all(running);
  return parts;
}
