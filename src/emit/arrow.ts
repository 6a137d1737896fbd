import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { finished } from 'node:stream/promises';
import type { DuckDBConnection } from '@duckdb/node-api';
import {
  Dictionary,
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
  vectorFromArray,
  type Data,
  type DataType,
  type Vector,
} from 'apache-arrow';
import type { OutputColumn } from './columns.js';

const ROWS_PER_BATCH = 16_384;

interface DictState {
  type: Dictionary;
  index: Map<string, number>;
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
  for (const c of columns) {
    if (c.kind !== 'dict') continue;
    const distinct = await conn.runAndReadAll(`SELECT DISTINCT "${c.name}" FROM (${query}) WHERE "${c.name}" IS NOT NULL ORDER BY 1`);
    const values = distinct.getRows().map((r) => String(r[0]));
    const indexType = values.length < 128 ? new Int8() : values.length < 32_768 ? new Int16() : new Int32();
    const type = new Dictionary(new Utf8(), indexType, dictId++);
    dicts.set(c.name, { type, index: new Map(values.map((v, i) => [v, i])), vector: vectorFromArray(values, new Utf8()) });
  }
  const fields = columns.map((c) => new Field(c.name, c.kind === 'dict' ? dicts.get(c.name)!.type : arrowType(c.kind), true));
  const schema = new Schema(fields);

  const writer = new RecordBatchFileWriter();
  const file = createWriteStream(outPath);
  const bytes = writer.toNodeStream();
  bytes.pipe(file);
  writer.reset(undefined, schema);

  let rows = 0;
  let buffered: unknown[][] = columns.map(() => []);
  let bufferedRows = 0;
  const emit = async (): Promise<void> => {
    if (bufferedRows === 0) return;
    const data = columns.map((c, j) => columnData(c, buffered[j]!, dicts.get(c.name)));
    const struct = makeData({ type: new Struct(fields), length: bufferedRows, nullCount: 0, children: data });
    writer.write(new RecordBatch(schema, struct));
    rows += bufferedRows;
    buffered = columns.map(() => []);
    bufferedRows = 0;
    // Let the byte stream reach the file before building the next batch, or memory grows with the file.
    if (file.writableNeedDrain) await once(file, 'drain');
    else await new Promise((r) => setImmediate(r));
  };

  const result = await conn.stream(query);
  for (;;) {
    const chunk = await result.fetchChunk();
    if (chunk === null || chunk.rowCount === 0) break;
    const cols = chunk.getColumns();
    for (let j = 0; j < columns.length; j++) {
      const target = buffered[j]!;
      for (const v of cols[j]!) target.push(v);
    }
    bufferedRows += chunk.rowCount;
    if (bufferedRows >= ROWS_PER_BATCH) await emit();
  }
  await emit();
  writer.finish();
  writer.close();
  await finished(file);
  return rows;
}

function arrowType(kind: OutputColumn['kind']): DataType {
  switch (kind) {
    case 'utf8':
      return new Utf8();
    case 'uint32':
      return new Uint32();
    case 'int64':
      return new Int64();
    default:
      throw new Error(`no plain Arrow type for ${kind}`);
  }
}

function columnData(c: OutputColumn, values: unknown[], dict: DictState | undefined): Data {
  switch (c.kind) {
    case 'utf8':
      return vectorFromArray(values.map((v) => (v === null ? null : String(v))), new Utf8()).data[0]!;
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
    case 'dict': {
      const d = dict!;
      const IndexArray = d.type.indices.ArrayType as Int8ArrayConstructor | Int16ArrayConstructor | Int32ArrayConstructor;
      const idx = new IndexArray(values.length);
      const nulls = nullBitmap(values);
      values.forEach((v, i) => (idx[i] = v === null ? 0 : d.index.get(String(v))!));
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
