import type { Device } from '../onnx/runtime.js';
import type { BlockRanking } from '../select/blocks.js';
import { inputTransferables, type BlockInput, type Signal } from '../select/rank-block.js';
import type { BlockWorkerInput } from './block-worker.js';
import { openTaskPool, runConcurrent } from './task-pool.js';
import { builtWorker } from './worker-thread.js';

const WORKER_FILE = builtWorker('block-worker');

export type RankFn = (input: BlockInput) => Promise<BlockRanking<Signal>>;

/**
 * Ranks blocks on worker threads, one block per worker at a time, each worker with its own matrix
 * kernel on its share of the cores. Null when the built worker is missing (running from sources):
 * the blocks are then ranked on the main thread, with the same result.
 */
export function openBlockWorkers(workers: number, device: Device, cores: number): { rank: RankFn; close: () => Promise<void> } | null {
  const workerData: BlockWorkerInput = { device, threads: Math.max(1, Math.floor(cores / workers)) };
  const pool = openTaskPool<BlockInput, BlockRanking<Signal>>(WORKER_FILE, workerData, workers, 'the select stage');
  return pool && { rank: (input) => pool.run(input, inputTransferables(input)), close: pool.close };
}

/**
 * Ranks `count` blocks, at most `concurrency` at a time: block b is read (on the main thread, from
 * the store) only when a slot is free, so at most `concurrency` blocks are in memory, and each
 * ranking lands at its block's index whatever order they finish in.
 */
export async function rankBlocks(count: number, concurrency: number, read: (b: number) => Promise<BlockInput>, rank: RankFn): Promise<BlockRanking<Signal>[]> {
  const parts = new Array<BlockRanking<Signal>>(count);
  const blocks = (async function* () {
    for (let b = 0; b < count; b++) yield await read(b);
  })();
  await runConcurrent(blocks, concurrency, async (input, b) => void (parts[b] = await rank(input)));
  return parts;
}
