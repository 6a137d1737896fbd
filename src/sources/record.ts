import { emptyBatch, pushRow, type Batch } from '../core/batch.js';
import type { Reason } from '../core/reasons.js';
import type { SourceConfig } from '../config/schema.js';
import type { InputFile } from './discover.js';
import type { RowPredicate } from './where.js';

/** Shared state of one read: the global uid counter and the limits every reader obeys. */
export interface ReadContext {
  nextUid: number;
  batchSize: number;
  maxRowBytes: number;
  previewChars: number;
  warn: (msg: string) => void;
  /** Bytes of input files read so far (compressed bytes for gzip), for progress. */
  bytesRead: number;
}

/** Turns field values into rows of batches for one file, deriving ids and applying the column mapping. */
export class BatchBuilder {
  private batch: Batch;
  /** Field values of each row for the `where` filter (null for rows already rejected). */
  private objs: (Record<string, unknown> | null)[] = [];
  constructor(
    private readonly ctx: ReadContext,
    private readonly src: SourceConfig,
    private readonly file: InputFile,
    private readonly where: RowPredicate | null = null,
  ) {
    this.batch = emptyBatch(src.name, file.rel, ctx.batchSize);
  }

  /** Applies the `where` filter (when the reader could not push it into DuckDB) and hands the batch over. */
  async flush(): Promise<Batch> {
    if (this.where) {
      const keep = await this.where.evaluate(this.objs);
      keep.forEach((k, i) => {
        if (!k && this.objs[i] !== null) this.rejectAt(i, 'where_filter', this.src.where ?? null);
      });
    }
    this.objs = [];
    return this.take();
  }

  get full(): boolean {
    return this.batch.size >= this.ctx.batchSize;
  }

  /** Returns the filled batch and starts a new one. */
  take(): Batch {
    const b = this.batch;
    this.batch = emptyBatch(this.src.name, this.file.rel, this.ctx.batchSize);
    return b;
  }

  get size(): number {
    return this.batch.size;
  }

  derivedId(row: number): string {
    return `${this.src.name}:${this.file.rel}:${row}`;
  }

  /** A row the reader could not parse: kept with its reason and raw content. */
  malformed(row: number, reason: Reason, detail: string | null, raw: string): void {
    pushRow(this.batch, {
      uid: this.ctx.nextUid++,
      row,
      id: this.derivedId(row),
      text: null,
      lang: this.src.lang ?? null,
      reason,
      detail,
      raw: raw.slice(0, this.ctx.previewChars),
    });
    this.objs.push(null);
  }

  /**
   * A parsed row. `get` reads a column by name (undefined when absent). Returns the batch index so a
   * reader can reject it later (the `where` filter).
   */
  record(row: number, get: (col: string) => unknown, rawForQuarantine: () => string, fields: Record<string, unknown> | null = null): number {
    const cols = this.src.columns;
    const value = get(cols.text);
    let text: string | null = null;
    let reason: Reason | null = null;
    let detail: string | null = null;
    if (value === undefined || value === null) {
      reason = 'missing_text';
      detail = value === null ? `column "${cols.text}" is null` : `no column "${cols.text}"`;
    } else if (typeof value !== 'string') {
      reason = 'non_string_text';
      detail = `column "${cols.text}" is ${Array.isArray(value) ? 'a list' : typeof value}`;
    } else if (!wellFormed(value)) {
      reason = 'lone_surrogate';
      detail = `column "${cols.text}" has an unpaired surrogate at character ${firstLoneSurrogate(value)}`;
    } else text = value;
    const idVal = cols.id === undefined ? undefined : get(cols.id);
    let id = idVal === undefined || idVal === null || idVal === '' ? this.derivedId(row) : typeof idVal === 'number' ? numberLiteral(idVal, cols.id!, rawForQuarantine) : scalarString(idVal);
    if (!wellFormed(id)) {
      // Stored as UTF-8 it would silently become U+FFFD (and could collide with another id).
      if (reason === null) [reason, detail] = ['lone_surrogate', `column "${cols.id}" (the id) has an unpaired surrogate`];
      id = this.derivedId(row);
    }
    const langVal = cols.lang === undefined ? undefined : get(cols.lang);
    const labelVal = cols.label === undefined ? undefined : get(cols.label);
    let meta: string | null = null;
    if (cols.metadata.length > 0) {
      const m: Record<string, unknown> = {};
      for (const k of cols.metadata) {
        const v = get(k);
        m[k] = typeof v === 'bigint' ? Number(v) : (v ?? null);
      }
      meta = JSON.stringify(m);
    }
    const i = this.batch.size;
    pushRow(this.batch, {
      uid: this.ctx.nextUid++,
      row,
      id,
      text,
      lang: langVal === undefined || langVal === null ? (this.src.lang ?? null) : scalarString(langVal),
      label: labelVal === undefined || labelVal === null ? null : scalarString(labelVal),
      meta,
      reason,
      detail,
      raw: reason === null ? null : rawForQuarantine().slice(0, this.ctx.previewChars),
    });
    this.objs.push(reason === null ? fields : null);
    return i;
  }

  rejectAt(i: number, reason: Reason, detail: string | null): void {
    if (this.batch.reason[i] !== null) return;
    this.batch.reason[i] = reason;
    this.batch.detail[i] = detail;
  }

  current(): Batch {
    return this.batch;
  }
}

function scalarString(v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean') return String(v);
  return JSON.stringify(v);
}

/**
 * A JSON number as it was written: JSON.parse turns 9007199254740993 into ...992, -0.0 into 0 and
 * 1e400 into Infinity, so two ids could collide or an id change. The literal is taken from the raw
 * line (the first occurrence of the key); String(v) when it cannot be found.
 */
function numberLiteral(v: number, key: string, raw: () => string): string {
  if (Number.isSafeInteger(v) && !Object.is(v, -0)) return String(v);
  const m = new RegExp(`"${key.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}"\\s*:\\s*(-?\\d[\\d.eE+-]*)`).exec(raw());
  return m ? m[1]! : String(v);
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** String.prototype.isWellFormed: native in every Node winnow supports (>= 20), not yet in TypeScript's ES2023 lib. */
function wellFormed(s: string): boolean {
  return (s as unknown as { isWellFormed(): boolean }).isWellFormed();
}

function firstLoneSurrogate(s: string): number {
  return LONE_SURROGATE.exec(s)?.index ?? -1;
}
