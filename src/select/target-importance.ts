import { ALIVE } from '../core/reasons.js';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { SelectConfig } from '../config/schema.js';
import { ConfigError } from '../core/errors.js';
import { quoteLiteral } from '../store/sql.js';
import { countWindow, NgramBag, type WindowBags } from './importance.js';
import { openTaskPool, runConcurrent, type TaskPool } from '../executors/task-pool.js';
import { builtWorker } from '../executors/worker-thread.js';
import type { NgramTask } from '../executors/ngram-worker.js';
import { poolRows } from './store-pool.js';

/** The two n-gram models importance weighs a row by: the wanted text's and the raw text's. */
export interface ImportanceModel {
  wanted: NgramBag;
  raw: NgramBag;
  /** What the weights compare: `source:<name>`, `file:<path>` or `kept-vs-read`. */
  target: string;
  targetTexts: number;
}

/**
 * The importance model of a pool (the rows `where` picks among those with an embedding) for the
 * configured target. With a target, its texts against the pool's (DSIR). Without one, the rows kept
 * so far against every row read: what the filters kept is the best description of the wanted text
 * there is, and a kept row whose n-grams are those of rejected rows (junk, other languages, repeats)
 * weighs less. Texts stream past: the pool's rows are weighed later, a block at a time.
 */
export async function importanceModel(c: DuckDBConnection, where: string, target: SelectConfig['target'], baseDir: string, threads = 1): Promise<ImportanceModel> {
  const poolBag = new NgramBag();
  if (target?.source === undefined && target?.path === undefined) {
    // Every row read, in one pass: a pool row is hashed once for both bags.
    const raw = new NgramBag();
    await streamTexts(c, `SELECT s.text, e.uid IS NOT NULL AND coalesce(${where}, false) FROM samples s LEFT JOIN embeddings e USING (uid) WHERE s.text IS NOT NULL`, raw, poolBag, threads);
    return checked({ wanted: poolBag, raw, target: 'kept-vs-read', targetTexts: poolBag.texts });
  }
  await streamTexts(c, `SELECT s.text, true ${poolRows(where)}`, null, poolBag, threads);
  const wanted = new NgramBag();
  if (target.source !== undefined) {
    await streamTexts(c, `SELECT text, true FROM samples WHERE ${ALIVE} AND source::VARCHAR = ${quoteLiteral(target.source)}`, null, wanted, threads);
    return checked({ wanted, raw: poolBag, target: `source:${target.source}`, targetTexts: wanted.texts });
  }
  for (const t of readTargetFile(path.resolve(baseDir, target.path!))) wanted.add(t);
  return checked({ wanted, raw: poolBag, target: `file:${target.path}`, targetTexts: wanted.texts });
}

function checked(model: ImportanceModel): ImportanceModel {
  if (model.wanted.texts === 0) throw new ConfigError(`stages.select.target: ${model.target} holds no text to select toward; give a source with kept rows or a file with text lines`);
  return model;
}

/** Rows of texts counted at a time, on one thread: enough that a window's counting outweighs sending it. */
const WINDOW_ROWS = 32_768;
const NGRAM_WORKER = builtWorker('ngram-worker');

/**
 * Streams (text, flag) rows: each text goes into `all` (when given) and, when flagged, into
 * `flagged`. From the second window on, windows are counted on worker threads (one window is not
 * worth starting them); a bag is a sum of whole counts, the same whatever order the windows come
 * back in, and whichever thread counted them.
 */
async function streamTexts(c: DuckDBConnection, sql: string, all: NgramBag | null, flagged: NgramBag, threads: number): Promise<void> {
  // Asserted, not annotated: assigned in the callback, so the type must not narrow to null here.
  let pool = null as TaskPool<NgramTask, WindowBags> | null;
  const add = (w: WindowBags): void => {
    if (all && w.all) all.merge(w.all, w.allTexts);
    flagged.merge(w.flagged, w.flaggedTexts);
  };
  try {
    await runConcurrent(textWindows(c, sql, all !== null), threads, async (task, i) => {
      if (i === 1 && threads > 1) pool = openTaskPool<NgramTask, WindowBags>(NGRAM_WORKER, null, threads, 'the select stage');
      add(pool ? await pool.run(task, [task.flags.buffer as ArrayBuffer]) : countWindow(task.texts, task.flags, task.all));
    });
  } finally {
    await pool?.close();
  }
}

async function* textWindows(c: DuckDBConnection, sql: string, all: boolean): AsyncGenerator<NgramTask> {
  const result = await c.stream(sql);
  let texts: string[] = [];
  let flags: number[] = [];
  const take = (): NgramTask => {
    const task = { texts, flags: Uint8Array.from(flags), all };
    texts = [];
    flags = [];
    return task;
  };
  for (;;) {
    const chunk = await result.fetchChunk();
    if (chunk === null || chunk.rowCount === 0) break;
    const fs = chunk.getColumnValues(1) as (boolean | null)[];
    (chunk.getColumnValues(0) as (string | null)[]).forEach((t, r) => {
      if (!t) return;
      texts.push(t);
      flags.push(fs[r] ? 1 : 0);
    });
    if (texts.length >= WINDOW_ROWS) yield take();
  }
  if (texts.length > 0) yield take();
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
