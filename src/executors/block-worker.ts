import { parentPort, workerData } from 'node:worker_threads';
import { MatMulKernel } from '../onnx/kernels.js';
import { rankBlock, transferables, type BlockInput } from '../select/rank-block.js';
import type { Device } from '../onnx/runtime.js';
import { postableError } from './worker-thread.js';

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
const port = parentPort!;
const kernel = MatMulKernel.open(device, threads);

port.on('message', (msg: { id: number; input: BlockInput }) => {
  kernel
    .then((k) => rankBlock(msg.input, k))
    .then(
      (r) => port.postMessage({ id: msg.id, ranking: r }, transferables(r)),
      (err: Error) => port.postMessage({ id: msg.id, error: postableError(err) }),
    );
});
