import type { Pipeline } from '../config/schema.js';
import type { MemoryPlan } from '../core/memory.js';
import type { RunStore } from '../store/run-store.js';
import type { Logger } from '../util/log.js';
import type { StageCounters } from './runner.js';

export interface BarrierContext {
  store: RunStore;
  config: Pipeline;
  /** Folder that relative paths in the config resolve against. */
  baseDir: string;
  /** Folder for the run's artifacts (the fitted model); committed to <out>/model with the outputs. */
  artifactDir: string;
  log: Logger;
  /**
   * `shard`: one of n shards (`--shard i/n`): dedup keeps every row's signature for the merge.
   * `merge`: `winnow merge`: dedup reads the shards' signatures instead of signing again, selection
   * runs over the shards' candidates (GreeDi). `run`: a whole run in one process.
   */
  role: 'run' | 'shard' | 'merge';
  /** The run's memory budget: a stage that holds the pool in this process checks it fits (checkFits) before it starts. */
  memory: MemoryPlan;
  /** Worker threads a stage may use (`execution.workers`, or `--workers`): operational, never part of a result. */
  workers: number | 'auto';
}

export interface BarrierResult<M extends object = Record<string, unknown>> {
  counters: StageCounters;
  /** What the stage wants recorded in manifest.json, under its name. */
  manifest?: M;
}

/**
 * A barrier stage needs the whole pool (fitting an encoder, dedup clusters, selection): it runs
 * after the streaming stages, reads its input from the run store and writes its results there.
 */
export interface BarrierStage<M extends object = Record<string, unknown>> {
  name: string;
  enabled: (p: Pipeline) => boolean;
  /** Runs in each shard of `--shard i/n` (the merge runs every stage again over the whole job). */
  perShard?: boolean;
  /**
   * What the stage may add to the run store: table and view names, `samples.<column>` for columns
   * of samples. The runner compares the store before and after the stage and refuses anything
   * undeclared, so the store's contents are named where the stage is registered.
   */
  writes: readonly string[];
  run: (ctx: BarrierContext) => Promise<BarrierResult<M>>;
}
