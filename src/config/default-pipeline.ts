import path from 'node:path';
import type { LoadedPipeline } from './load.js';
import { validatePipeline } from './load.js';

export interface DefaultPipelineOptions {
  input: string[];
  textColumn?: string;
  idColumn?: string;
  langColumn?: string;
  labelColumn?: string;
}

/**
 * The pipeline `winnow run --input ...` runs with no config file: every stage that exists, with its
 * defaults, over one source. Paths are relative to the current folder.
 */
export function defaultPipeline(opts: DefaultPipelineOptions): LoadedPipeline {
  const columns: Record<string, string> = { text: opts.textColumn ?? 'text' };
  // An input's own `id` field is its id; rows without one get a derived id (source:file:row).
  columns.id = opts.idColumn ?? 'id';
  if (opts.langColumn) columns.lang = opts.langColumn;
  if (opts.labelColumn) columns.label = opts.labelColumn;
  const raw = {
    name: 'default',
    sources: [{ name: 'input', path: opts.input.length === 1 ? opts.input[0] : opts.input, columns }],
  };
  return { config: validatePipeline(raw, 'command line'), baseDir: path.resolve('.'), origin: 'command line (--input)' };
}
