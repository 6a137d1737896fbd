import path from 'node:path';
import { parse, stringify } from 'yaml';
import { loadPipelineFile } from '../../src/config/load.js';
import { runPipeline, type RunSummary } from '../../src/pipeline/run.js';
import { silentLogger, type Logger } from '../../src/util/log.js';
import { queryStore, writePipeline } from '../helpers.js';

export interface RunResult {
  summary: RunSummary;
  out: string;
  warnings: string[];
  /** The run's info messages. */
  infos: string[];
  q: <T = Record<string, unknown>>(sql: string) => Promise<T[]>;
}

/**
 * Writes a pipeline YAML into `dir`, runs it in-process and gives a query helper over its store.
 * Tests switch the embed, language-ID and quality stages off unless the YAML configures them: they
 * have their own tests and would only add seconds (or rejections) here.
 */
export async function runYaml(dir: string, yaml: string, outName = 'out'): Promise<RunResult> {
  const doc = parse(yaml) as { stages?: { embed?: unknown; langid?: unknown; quality?: unknown } };
  doc.stages ??= {};
  doc.stages.embed ??= { enabled: false };
  doc.stages.langid ??= { enabled: false };
  doc.stages.quality ??= { enabled: false };
  const file = writePipeline(dir, stringify(doc));
  const out = path.join(dir, outName);
  const warnings: string[] = [];
  const infos: string[] = [];
  const log: Logger = { ...silentLogger, warn: (m) => warnings.push(m), info: (m) => infos.push(m) };
  const summary = await runPipeline(loadPipelineFile(file), { outDir: out, log });
  return { summary, out, warnings, infos, q: (sql) => queryStore(path.join(out, 'results.duckdb'), sql) };
}
