import { ALIVE } from '../core/reasons.js';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { SelectConfig } from '../config/schema.js';
import { ConfigError } from '../core/errors.js';
import { quoteLiteral } from '../store/sql.js';
import { NgramBag } from './importance.js';

/** The two n-gram models importance weighs a row by: the wanted text's and the raw text's. */
export interface ImportanceModel {
  wanted: NgramBag;
  raw: NgramBag;
  /** What the weights compare: `source:<name>`, `file:<path>` or `kept-vs-read`. */
  target: string;
  targetTexts: number;
}

/**
 * The importance model of a pool (the rows of `pool`, a query of one column of texts) for the
 * configured target. With a target, its texts against the pool's (DSIR). Without one, the rows kept
 * so far against every row read: what the filters kept is the best description of the wanted text
 * there is, and a kept row whose n-grams are those of rejected rows (junk, other languages, repeats)
 * weighs less. Texts stream past: the pool's rows are weighed later, a block at a time.
 */
export async function importanceModel(c: DuckDBConnection, pool: string, target: SelectConfig['target'], baseDir: string): Promise<ImportanceModel> {
  const poolBag = new NgramBag();
  await streamTexts(c, pool, poolBag);
  // The pool is the raw side against a target, and the target side without one.
  let wanted = new NgramBag();
  let raw = poolBag;
  let label: string;
  if (target?.source !== undefined) {
    await streamTexts(c, `SELECT text FROM samples WHERE ${ALIVE} AND source::VARCHAR = ${quoteLiteral(target.source)}`, wanted);
    label = `source:${target.source}`;
  } else if (target?.path !== undefined) {
    for (const t of readTargetFile(path.resolve(baseDir, target.path))) wanted.add(t);
    label = `file:${target.path}`;
  } else {
    wanted = poolBag;
    raw = new NgramBag();
    await streamTexts(c, 'SELECT text FROM samples WHERE text IS NOT NULL', raw);
    label = 'kept-vs-read';
  }
  if (wanted.texts === 0) throw new ConfigError(`stages.select.target: ${label} holds no text to select toward; give a source with kept rows or a file with text lines`);
  return { wanted, raw, target: label, targetTexts: wanted.texts };
}

async function streamTexts(c: DuckDBConnection, sql: string, bag: NgramBag): Promise<void> {
  const result = await c.stream(sql);
  for (;;) {
    const chunk = await result.fetchChunk();
    if (chunk === null || chunk.rowCount === 0) break;
    for (const t of chunk.getColumnValues(0) as (string | null)[]) if (t) bag.add(t);
  }
}

/** Texts of a target file: .txt (one per line) or .jsonl (a "text" field), either optionally gzipped. */
function readTargetFile(file: string): string[] {
  let raw: Buffer;
  try {
    raw = readFileSync(file);
  } catch (e) {
    throw new ConfigError(`stages.select.target.path: cannot read ${file} (${(e as Error).message}); give a .txt or .jsonl file of example texts`);
  }
  const body = (file.endsWith('.gz') ? gunzipSync(raw) : raw).toString('utf8');
  const lines = body.split(/\r?\n/).filter((l) => l.trim() !== '');
  if (!/\.jsonl(\.gz)?$/i.test(file)) return lines;
  return lines.map((l, i) => {
    let text: unknown;
    try {
      text = (JSON.parse(l) as { text?: unknown }).text;
    } catch {
      throw new ConfigError(`stages.select.target.path: ${file} line ${i + 1} is not JSON; each line must be an object with a "text" field`);
    }
    if (typeof text !== 'string') throw new ConfigError(`stages.select.target.path: ${file} line ${i + 1} has no string "text" field`);
    return text;
  });
}
