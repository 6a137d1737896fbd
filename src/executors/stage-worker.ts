import { parentPort, workerData } from 'node:worker_threads';
import type { Pipeline } from '../config/schema.js';
import type { Batch } from '../core/batch.js';
import { runBatch } from '../stages/runner.js';
import { STREAMING_STAGES } from '../stages/streaming.js';
import { postableError } from './worker-thread.js';

/**
 * A worker thread of the local executor: builds the pipeline's streaming stages once, then runs
 * each batch it is sent through them and sends it back with the stages' counts and seconds.
 */
export interface WorkerInput {
  config: Pipeline;
  baseDir: string;
  stages: string[];
}

const { config, baseDir, stages: names } = workerData as WorkerInput;
const port = parentPort!;
const stages = STREAMING_STAGES.filter((d) => names.includes(d.name)).map((d) => ({ name: d.name, stage: d.create(config, { baseDir }) }));
const ctx = { seed: config.seed, warn: (msg: string) => port.postMessage({ warn: msg }) };

port.on('message', (msg: { id: number; batch: Batch }) => {
  runBatch(msg.batch, stages, ctx).then(
    (r) => port.postMessage({ id: msg.id, batch: r.batch, counts: r.counts, seconds: r.seconds }),
    (err: Error) => port.postMessage({ id: msg.id, error: postableError(err) }),
  );
});
