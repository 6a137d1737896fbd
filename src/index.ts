/**
 * winnow as a library: the CLI is a thin layer over these.
 *
 *   import { run, query, plan } from 'winnow';
 *   const summary = await run({ pipeline: 'pipelines/quickstart.yaml', out: 'out/qs' });
 *   const rows = await query(summary.outDir, "SELECT reason, count(*) AS n FROM samples GROUP BY ALL");
 */
import path from 'node:path';
import { makePlan, type Plan, type PlanInput } from './budget/plan.js';
import { queryStoreObjects } from './cli/commands/query.js';
import { loadPipelineFile, validatePipeline, type LoadedPipeline } from './config/load.js';
import { runPipeline, type RunSummary } from './pipeline/run.js';
import { createLogger, silentLogger, type Logger } from './util/log.js';

export { ConfigError, InputError, WinnowError, ExitCode } from './core/errors.js';
export { REASONS } from './core/reasons.js';
export { PipelineSchema, type Pipeline } from './config/schema.js';
export type { Plan, PlanInput, RunSummary, Logger, LoadedPipeline };

export interface RunInput {
  /** A pipeline YAML file, or a config object (validated like one: unknown keys are errors). */
  pipeline: string | Record<string, unknown>;
  /** The output folder (new, empty, or one a winnow run made). */
  out: string;
  /** Where relative paths of a config object resolve (default: the working folder). */
  baseDir?: string;
  /** A logger, 'text' or 'json' to stderr, or 'silent' (the default). */
  log?: Logger | 'text' | 'json' | 'silent';
  /** Worker threads for the streaming stages (default: execution.workers, i.e. every core). */
  workers?: number;
  /** Memory budget such as "8GB" (default: execution.memory). */
  memory?: string;
}

/** Runs a pipeline to completion (or resumes it from its checkpoints) and returns its summary. */
export async function run(input: RunInput): Promise<RunSummary> {
  const loaded: LoadedPipeline =
    typeof input.pipeline === 'string'
      ? loadPipelineFile(input.pipeline)
      : { config: validatePipeline(input.pipeline, 'run({ pipeline })'), baseDir: path.resolve(input.baseDir ?? '.'), origin: 'run({ pipeline })' };
  const log = input.log === undefined || input.log === 'silent' ? silentLogger : typeof input.log === 'string' ? createLogger({ format: input.log }) : input.log;
  return runPipeline(loaded, { outDir: path.resolve(input.out), log, workers: input.workers, memory: input.memory });
}

/** SQL on a finished run (its folder or results.duckdb), read-only; rows as objects (BIGINT as strings). */
export async function query<T = Record<string, unknown>>(runDir: string, sql: string, opts: { allowFiles?: boolean } = {}): Promise<T[]> {
  return queryStoreObjects<T>(runDir, sql, opts);
}

/** The compute-optimal token budget for a model size, compute or token target (Chinchilla, datablations). */
export function plan(input: PlanInput): Plan {
  return makePlan(input);
}
