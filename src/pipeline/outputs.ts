import path from 'node:path';
import { tempPathFor } from '../emit/atomic.js';

export const OUTPUT_FILES = {
  arrow: 'selection.arrow',
  parquet: 'selection.parquet',
  store: 'results.duckdb',
  report: 'report.html',
  manifest: 'manifest.json',
} as const;

export type OutputName = keyof typeof OUTPUT_FILES;

/** Folder of the built-in encoder fitted by the run (reusable with `embed.model: <out>/model`). */
export const MODEL_DIR = 'model';

/** Each output's final path in the folder, and the hidden temporary name it is written under first. */
export function outputPaths(outDir: string): { finals: Record<OutputName, string>; temps: Record<OutputName, string> } {
  const finals = Object.fromEntries(Object.entries(OUTPUT_FILES).map(([k, v]) => [k, path.join(outDir, v)])) as Record<OutputName, string>;
  const temps = Object.fromEntries(Object.entries(finals).map(([k, v]) => [k, tempPathFor(v)])) as Record<OutputName, string>;
  return { finals, temps };
}
