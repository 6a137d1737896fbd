import type { Batch } from '../core/batch.js';
import type { Pipeline } from '../config/schema.js';
import { mapConcurrent } from './concurrency.js';

export interface StageContext {
  seed: number;
  warn: (msg: string) => void;
}

/**
 * A streaming stage: a function over an async stream of record batches (the datatrove
 * `PipelineStep.run` shape). It may mark rows rejected but never drops them, so the store sees all.
 */
export type Stage = (input: AsyncIterable<Batch>, ctx: StageContext) => AsyncIterable<Batch>;

/** What a stage may need besides its config: the folder relative paths resolve against. */
export interface StageEnv {
  baseDir: string;
}

/** Registry entry: how a stage is built from the pipeline config, and whether it is on. */
export interface StageDefinition {
  name: string;
  enabled: (p: Pipeline) => boolean;
  create: (p: Pipeline, env: StageEnv) => Stage;
  /** Checks that must pass before any row is read (a model file that must load). */
  preflight?: (p: Pipeline, env: StageEnv) => Promise<void>;
  /** Extra samples columns the stage fills through Batch.extra. */
  columns?: ExtraColumn[];
}

export interface ExtraColumn {
  name: string;
  type: 'VARCHAR' | 'DOUBLE' | 'INTEGER' | 'JSON';
}

/**
 * Lifts a per-batch function into a Stage. With concurrency > 1 (async work such as model
 * inference) batches run in parallel through p-queue, stay in order, and at most 2 x concurrency
 * are in flight, which is the backpressure that bounds memory.
 */
export function batchStage(fn: (b: Batch) => Batch | Promise<Batch>, concurrency = 1): Stage {
  if (concurrency <= 1) {
    return async function* (input) {
      for await (const b of input) yield await fn(b);
    };
  }
  return (input) => mapConcurrent(input, async (b) => fn(b), concurrency);
}
