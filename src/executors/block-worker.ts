import { workerData } from 'node:worker_threads';
import { MatMulKernel } from '../onnx/kernels.js';
import { rankBlock, transferables, type BlockInput, type Signal } from '../select/rank-block.js';
import type { BlockRanking } from '../select/blocks.js';
import type { Device } from '../onnx/runtime.js';
import { serveTasks } from './task-pool.js';

/**
 * A worker thread of the block executor: opens its own matrix kernel once, then ranks each block it
 * is sent and moves the ranking's buffers back.
 */
export interface BlockWorkerInput {
  device: Device;
  /** onnxruntime intra-op threads of this worker's kernel (the cores shared among the workers). */
  threads: number;
}

const { device, threads } = workerData as BlockWorkerInput;
const kernel = MatMulKernel.open(device, threads);

serveTasks<BlockInput, BlockRanking<Signal>>(async (input) => {
  const ranking = await rankBlock(input, await kernel);
  return { output: ranking, transfer: transferables(ranking) };
});
