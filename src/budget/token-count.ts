import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ConfigError } from '../core/errors.js';

/** Counts training tokens of a text the way the model to be trained will see them. */
export interface TokenCounter {
  readonly name: string;
  count(text: string): number;
}

const WHITESPACE = /\S+/g;

/**
 * `o200k_base` and `cl100k_base` (gpt-tokenizer, tables shipped in the package), `chars` (code
 * points) and `whitespace` (whitespace-separated words) approximations, or a Hugging Face
 * `tokenizer.json` / model folder given by path (the tokenizer of the model to be trained).
 */
export async function openTokenCounter(spec: string, baseDir: string): Promise<TokenCounter> {
  if (spec === 'chars') return { name: 'chars', count: (t) => [...t].length };
  if (spec === 'whitespace') return { name: 'whitespace', count: (t) => t.match(WHITESPACE)?.length ?? 0 };
  if (spec === 'o200k_base') {
    const m = await import('gpt-tokenizer/encoding/o200k_base');
    return { name: spec, count: (t) => m.countTokens(t) };
  }
  if (spec === 'cl100k_base') {
    const m = await import('gpt-tokenizer/encoding/cl100k_base');
    return { name: spec, count: (t) => m.countTokens(t) };
  }
  const p = path.resolve(baseDir, spec);
  const file = p.endsWith('.json') ? p : path.join(p, 'tokenizer.json');
  let json: object;
  try {
    json = JSON.parse(readFileSync(file, 'utf8')) as object;
  } catch (err) {
    throw new ConfigError(`budget.tokenizer: ${spec} is not o200k_base, cl100k_base, chars, whitespace, nor a readable tokenizer.json (${(err as Error).message})`);
  }
  const { Tokenizer } = await import('@huggingface/tokenizers');
  const configFile = path.join(path.dirname(file), 'tokenizer_config.json');
  let config: object = {};
  try {
    config = JSON.parse(readFileSync(configFile, 'utf8')) as object;
  } catch {
    config = {};
  }
  const tok = new Tokenizer(json as never, config as never);
  return { name: `tokenizer.json ${file}`, count: (t) => tok.encode(t, { add_special_tokens: false } as never).ids.length };
}
