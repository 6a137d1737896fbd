import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { finished } from 'node:stream/promises';
import type { DuckDBConnection } from '@duckdb/node-api';
import {
  Bool,
  Dictionary,
  FixedSizeList,
  Float16,
  Field,
  Int16,
  Int32,
  Int64,
  Int8,
  makeData,
  RecordBatch,
  RecordBatchFileWriter,
  Schema,
  Struct,
  Uint32,
  Utf8,
  Vector,
  type Data,
  type DataType,
} from 'apache-arrow';
import { toHalfArray } from '../embed/float16.js';
import { readArrayColumn } from '../embed/vector-chunk.js';
import { quoteIdent, quoteLiteral } from '../store/sql.js';
import type { OutputColumn } from './columns.js';

const ROWS_PER_BATCH = 16_384;

interface DictState {
  type: Dictionary;
  vector: Vector;
}

/**
 * Writes the rows of `query` (columns as declared) to an Arrow IPC file, record batch by record
 * batch: memory holds one batch, not the dataset. Low-cardinality strings are dictionary-encoded
 * with one dictionary per column for the whole file (apache-arrow's file writer rejects
 * replacement dictionaries), so the distinct values are read first.
 */
export async function writeArrowFile(conn: DuckDBConnection, query: string, columns: OutputColumn[], outPath: string): Promise<number> {
  const dicts = new Map<string, DictState>();
  let dictId = 0;
  const selects: string[] = [];
  const types: string[] = [];
  for (const c of columns) {
    const col = quoteIdent(c.name);
    if (c.kind !== 'dict') {
      selects.push(col);
      continue;
    }
    const distinct = await conn.runAndReadAll(`SELECT DISTINCT ${col}::VARCHAR AS v FROM (${query}) WHERE ${col} IS NOT NULL ORDER BY v`);
    const values = distinct.getRows().map((r) => String(r[0]));
    const indexType = values.length < 128 ? new Int8() : values.length < 32_768 ? new Int16() : new Int32();
    dicts.set(c.name, { type: new Dictionary(new Utf8(), indexType, dictId), vector: utf8Data(values) });
    // DuckDB hands over the dictionary index (enum_code of a sorted ENUM), so these strings never
    // cross into JS, and no join disturbs the scan order.
    const typeName = quoteIdent(`__winnow_dict_${dictId++}`);
    types.push(typeName);
    await conn.run(`DROP TYPE IF EXISTS ${typeName}; CREATE TYPE ${typeName} AS ENUM (${values.length > 0 ? values.map(quoteLiteral).join(', ') : "''"})`);
    selects.push(`enum_code(${col}::VARCHAR::${typeName})::INTEGER AS ${col}`);
  }
  const fields = columns.map((c) => new Field(c.name, c.kind === 'dict' ? dicts.get(c.name)!.type : arrowType(c.kind, c.dim), true));
  const schema = new Schema(fields);

  const writer = new RecordBatchFileWriter();
  const file = createWriteStream(outPath);
  const bytes = writer.toNodeStream();
  bytes.pipe(file);
  writer.reset(undefined, schema);

  let rows = 0;
  // Scalar columns buffer JS values; f16list columns buffer half-float parts (rows x dim each).
  let buffered: unknown[][] = columns.map(() => []);
  let bufferedRows = 0;
  const emit = async (): Promise<void> => {
    if (bufferedRows === 0) return;
    const data = columns.map((c, j) => (c.kind === 'f16list' ? halfListData(c.dim!, buffered[j] as Uint16Array[], bufferedRows) : columnData(c, buffered[j]!, dicts.get(c.name))));
    const struct = makeData({ type: new Struct(fields), length: bufferedRows, nullCount: 0, children: data });
    writer.write(new RecordBatch(schema, struct));
    rows += bufferedRows;
    buffered = columns.map(() => []);
    bufferedRows = 0;
    // Let the byte stream reach the file before building the next batch, or memory grows with the file.
    if (file.writableNeedDrain) await once(file, 'drain');
    else await new Promise((r) => setImmediate(r));
  };

  // `query` must yield rows in output order without ORDER BY (insertion order is preserved).
  const result = await conn.stream(`SELECT ${selects.join(', ')} FROM (${query})`);
  for (;;) {
    const chunk = await result.fetchChunk();
    if (chunk === null || chunk.rowCount === 0) break;
    for (let j = 0; j < columns.length; j++) {
      const target = buffered[j]!;
      if (columns[j]!.kind === 'f16list') {
        // Rows without an embedding read as zeros here; the validity is not carried over.
        const raw = readArrayColumn(chunk, j);
        target.push(raw instanceof Uint16Array ? Uint16Array.from(raw) : toHalfArray(Float32Array.from(raw)));
      } else for (const v of chunk.getColumnValues(j)) target.push(v);
    }
    bufferedRows += chunk.rowCount;
    if (bufferedRows >= ROWS_PER_BATCH) await emit();
  }
  await emit();
  for (const t of types) await conn.run(`DROP TYPE IF EXISTS ${t}`);
  writer.finish();
  writer.close();
  await finished(file);
  return rows;
}

function arrowType(kind: OutputColumn['kind'], dim = 0): DataType {
  switch (kind) {
    case 'f16list':
      return new FixedSizeList(dim, new Field('item', new Float16(), false));
    case 'utf8':
      return new Utf8();
    case 'uint32':
      return new Uint32();
    case 'int64':
      return new Int64();
    case 'bool':
      return new Bool();
    default:
      throw new Error(`no plain Arrow type for ${kind}`);
  }
}

/** A FixedSizeList<Float16> column from consecutive (rows x dim) half-float parts. */
function halfListData(dim: number, parts: Uint16Array[], rows: number): Data {
  const all = new Uint16Array(rows * dim);
  let off = 0;
  for (const p of parts) {
    all.set(p, off);
    off += p.length;
  }
  const child = makeData({ type: new Float16(), length: rows * dim, nullCount: 0, data: all });
  return makeData({ type: new FixedSizeList(dim, new Field('item', new Float16(), false)), length: rows, nullCount: 0, child });
}

function columnData(c: OutputColumn, values: unknown[], dict: DictState | undefined): Data {
  switch (c.kind) {
    case 'f16list':
      throw new Error('f16list columns are built by halfListData');
    case 'utf8':
      return utf8Data(values).data[0]!;
    case 'uint32': {
      const arr = new Uint32Array(values.length);
      const nulls = nullBitmap(values);
      values.forEach((v, i) => (arr[i] = v === null ? 0 : Number(v)));
      return makeData({ type: new Uint32(), length: values.length, nullCount: nulls.count, nullBitmap: nulls.bitmap, data: arr });
    }
    case 'int64': {
      const arr = new BigInt64Array(values.length);
      const nulls = nullBitmap(values);
      values.forEach((v, i) => (arr[i] = v === null ? 0n : BigInt(v as number | bigint)));
      return makeData({ type: new Int64(), length: values.length, nullCount: nulls.count, nullBitmap: nulls.bitmap, data: arr });
    }
    case 'bool': {
      const bits = new Uint8Array(Math.ceil(values.length / 8));
      const nulls = nullBitmap(values);
      values.forEach((v, i) => {
        if (v === true) bits[i >> 3]! |= 1 << (i & 7);
      });
      return makeData({ type: new Bool(), length: values.length, nullCount: nulls.count, nullBitmap: nulls.bitmap, data: bits });
    }
    case 'dict': {
      const d = dict!;
      const IndexArray = d.type.indices.ArrayType as Int8ArrayConstructor | Int16ArrayConstructor | Int32ArrayConstructor;
      const idx = new IndexArray(values.length);
      const nulls = nullBitmap(values);
      values.forEach((v, i) => (idx[i] = v === null ? 0 : (v as number)));
      return makeData({ type: d.type, length: values.length, nullCount: nulls.count, nullBitmap: nulls.bitmap, data: idx, dictionary: d.vector });
    }
  }
}

function nullBitmap(values: unknown[]): { bitmap: Uint8Array | undefined; count: number } {
  let count = 0;
  for (const v of values) if (v === null) count++;
  if (count === 0) return { bitmap: undefined, count };
  const bitmap = new Uint8Array((values.length + 7) >> 3);
  values.forEach((v, i) => {
    if (v !== null) bitmap[i >> 3]! |= 1 << (i & 7);
  });
  return { bitmap, count };
}

/**
 * A Utf8 vector built straight into one byte buffer: apache-arrow's generic builder costs several
 * times more per string, and text is most of the bytes.
 */
function utf8Data(values: unknown[]): Vector<Utf8> {
  const n = values.length;
  const offsets = new Int32Array(n + 1);
  let total = 0;
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (v !== null && v !== undefined) total += Buffer.byteLength(v as string, 'utf8');
    offsets[i + 1] = total;
  }
  const bytes = Buffer.allocUnsafe(total);
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (v !== null && v !== undefined) bytes.write(v as string, offsets[i]!, 'utf8');
  }
  const nulls = nullBitmap(values);
  const data = makeData({ type: new Utf8(), length: n, nullCount: nulls.count, nullBitmap: nulls.bitmap, valueOffsets: offsets, data: new Uint8Array(bytes.buffer, bytes.byteOffset, total) });
  return new Vector([data]);
}
