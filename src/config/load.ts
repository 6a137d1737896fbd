import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { ConfigError } from '../core/errors.js';
import { PipelineSchema, type Pipeline } from './schema.js';

export interface LoadedPipeline {
  config: Pipeline;
  /** Folder that relative paths in the config resolve against. */
  baseDir: string;
  /** Where the config came from, for messages and the manifest. */
  origin: string;
}

/** Reads and validates a pipeline YAML file; throws ConfigError naming the file and key path. */
export function loadPipelineFile(file: string): LoadedPipeline {
  const abs = path.resolve(file);
  let text: string;
  try {
    if (!statSync(abs).isFile()) throw new Error('not a file');
    text = readFileSync(abs, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read pipeline config ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}. Give the path of a YAML file (see pipelines/).`);
  }
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    throw new ConfigError(`${file}: invalid YAML: ${e.message}`);
  }
  let raw: unknown;
  try {
    raw = doc.toJS();
  } catch (err) {
    // The yaml library refuses alias bombs ("Excessive alias count") and very deep nesting here.
    throw new ConfigError(`${file}: invalid YAML: ${(err as Error).message}`);
  }
  if (raw === null || raw === undefined) throw new ConfigError(`${file}: the file is empty; a pipeline needs at least a "sources:" list.`);
  return { config: validatePipeline(raw, file), baseDir: path.dirname(abs), origin: abs };
}

/** Validates a config; the result is frozen (change it with overlay(), which validates again). */
export function validatePipeline(raw: unknown, origin: string): Pipeline {
  const parsed = PipelineSchema.safeParse(raw);
  if (parsed.success) return deepFreeze(parsed.data);
  throw new ConfigError(`${origin}: invalid pipeline config:\n${formatIssues(parsed.error.issues)}`);
}

/** "sources[0].columns.txt: unknown key" style lines, one per problem. */
export function formatIssues(issues: readonly z.core.$ZodIssue[]): string {
  return issues
    .map((issue) => {
      if (issue.code === 'unrecognized_keys') {
        return issue.keys.map((k) => `  - ${keyPath([...issue.path, k])}: unknown key (check the spelling; see the config reference in docs/config.md)`).join('\n');
      }
      const where = issue.path.length > 0 ? keyPath(issue.path) : '(top level)';
      return `  - ${where}: ${issue.message}`;
    })
    .join('\n');
}

export function keyPath(p: readonly PropertyKey[]): string {
  let out = '';
  for (const seg of p) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else out += out === '' ? String(seg) : `.${String(seg)}`;
  }
  return out;
}

function deepFreeze<T>(v: T): T {
  if (v !== null && typeof v === 'object' && !Object.isFrozen(v)) {
    for (const child of Object.values(v)) deepFreeze(child);
    Object.freeze(v);
  }
  return v;
}
