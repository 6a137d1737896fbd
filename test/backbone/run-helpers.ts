import path from 'node:path';
import { loadPipelineFile } from '../../src/config/load.js';
import { runPipeline, type RunSummary } from '../../src/pipeline/run.js';
import { silentLogger, type Logger } from '../../src/util/log.js';
import { queryStore, writePipeline } from '../helpers.js';

export interface RunResult {
  summary: RunSummary;
  out: string;
  warnings: string[];
  q: <T = Record<string, unknown>>(sql: string) => Promise<T[]>;
}

/** Writes a pipeline YAML into `dir`, runs it in-process and gives a query helper over its store. */
export async function runYaml(dir: string, yaml: string): Promise<RunResult> {
  const file = writePipeline(dir, yaml);
  const out = path.join(dir, 'out');
  const warnings: string[] = [];
  const log: Logger = { ...silentLogger, warn: (m) => warnings.push(m) };
  const summary = await runPipeline(loadPipelineFile(file), { outDir: out, log });
  return { summary, out, warnings, q: (sql) => queryStore(path.join(out, 'results.duckdb'), sql) };
}
