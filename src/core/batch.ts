import type { Reason } from './reasons.js';

/**
 * A batch of records from one file of one source, column by column. Stages never drop rows from a
 * batch: a rejected row keeps its slot with a reason, so the run store sees every input record.
 */
export interface Batch {
  readonly source: string;
  /** Path of the input file relative to the source's base folder (stable across machines). */
  readonly file: string;
  size: number;
  /** Global ingest ordinal, assigned by the reader in deterministic order. */
  uid: Float64Array;
  /** 1-based line (JSONL/text) or row (CSV/Parquet) number inside `file`. */
  row: Float64Array;
  id: string[];
  text: (string | null)[];
  lang: (string | null)[];
  label: (string | null)[];
  /** Pass-through metadata, one JSON object string per row (null when none configured). */
  meta: (string | null)[];
  reason: (Reason | null)[];
  /** The value that decided a rejection, e.g. "chars=3 < 5", so users can see why. */
  detail: (string | null)[];
  /** Raw (truncated) content of malformed rows, kept for the quarantine table. */
  raw: (string | null)[];
  /** Per-row values of the extra samples columns that streaming stages declare (e.g. lang_pred). */
  extra: Record<string, (string | number | null)[]>;
}

export function emptyBatch(source: string, file: string, capacity: number): Batch {
  return {
    source,
    file,
    size: 0,
    uid: new Float64Array(capacity),
    row: new Float64Array(capacity),
    id: [],
    text: [],
    lang: [],
    label: [],
    meta: [],
    reason: [],
    detail: [],
    raw: [],
    extra: {},
  };
}

export interface RowInput {
  uid: number;
  row: number;
  id: string;
  text: string | null;
  lang?: string | null;
  label?: string | null;
  meta?: string | null;
  reason?: Reason | null;
  detail?: string | null;
  raw?: string | null;
}

export function pushRow(b: Batch, r: RowInput): void {
  const i = b.size++;
  b.uid[i] = r.uid;
  b.row[i] = r.row;
  b.id.push(r.id);
  b.text.push(r.text);
  b.lang.push(r.lang ?? null);
  b.label.push(r.label ?? null);
  b.meta.push(r.meta ?? null);
  b.reason.push(r.reason ?? null);
  b.detail.push(r.detail ?? null);
  b.raw.push(r.raw ?? null);
}

/** Marks row i rejected unless an earlier stage already did (the first reason wins). */
export function reject(b: Batch, i: number, reason: Reason, detail: string | null = null): void {
  if (b.reason[i] !== null) return;
  b.reason[i] = reason;
  b.detail[i] = detail;
}
