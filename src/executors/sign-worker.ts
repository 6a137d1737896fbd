import { workerData } from 'node:worker_threads';
import { MinHasher } from '../dedup/minhash.js';
import { signedTransferables, signTexts, type SignParams, type Signed } from '../dedup/sign.js';
import { serveTasks } from './task-pool.js';

/** A worker thread of dedup's signing: signs each window of texts it is sent and moves the arrays back. */
const params = workerData as SignParams;
const hasher = new MinHasher(params.numPerm, params.shingle, params.seed);

serveTasks<string[], Signed>(async (texts) => {
  const output = signTexts(texts, params, hasher);
  return { output, transfer: signedTransferables(output) };
});
