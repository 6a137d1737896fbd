import { DuckDBInstance } from '@duckdb/node-api';
import { readEmbeddingColumn } from '../../src/embed/vector-chunk.js';
import { accuracy, SoftmaxProbe } from '../../src/select/probe.js';

export interface SelectionQuality {
  /** Facility-location value: sum over the pool of each row's best cosine to a selected row. */
  facility: number;
  /** Accuracy over the pool of a softmax probe trained on the selected rows' labels. */
  accuracy: number;
  selected: number;
  pool: number;
}

/**
 * How good a selection is over a reference run's pool (the rows its dedup kept) with the reference's
 * vectors, so two selections (one process vs shards + merge) are measured on the same ground. The
 * label is read from `labelSql`, an expression over samples `s` (e.g. json_extract_string(s.meta, '$.label')).
 */
export async function selectionQuality(referenceStore: string, selectedIds: ReadonlySet<string>, labelSql: string): Promise<SelectionQuality> {
  const inst = await DuckDBInstance.create(referenceStore, { access_mode: 'READ_ONLY' });
  const conn = await inst.connect();
  const ids: string[] = [];
  const labels: string[] = [];
  const parts: Float32Array[] = [];
  try {
    const result = await conn.stream(
      `SELECT s.id, ${labelSql} AS label, e.embedding FROM samples s JOIN embeddings e USING (uid) WHERE s.status = 'selected' OR s.reason = 'over_budget' ORDER BY s.uid`,
    );
    for (;;) {
      const chunk = await result.fetchChunk();
      if (chunk === null || chunk.rowCount === 0) break;
      ids.push(...(chunk.getColumnValues(0) as string[]));
      labels.push(...(chunk.getColumnValues(1) as string[]).map(String));
      parts.push(Float32Array.from(readEmbeddingColumn(chunk, 2)));
    }
  } finally {
    conn.closeSync();
    inst.closeSync();
  }
  const n = ids.length;
  const d = n === 0 ? 0 : parts.reduce((a, p) => a + p.length, 0) / n;
  const x = new Float32Array(n * d);
  let off = 0;
  for (const p of parts) {
    x.set(p, off);
    off += p.length;
  }
  const classes = [...new Set(labels)].sort();
  const y = Int32Array.from(labels, (l) => classes.indexOf(l));
  const sel = ids.flatMap((id, i) => (selectedIds.has(id) ? [i] : []));
  let facility = 0;
  for (let i = 0; i < n; i++) {
    let best = -1;
    for (const j of sel) {
      let dot = 0;
      for (let k = 0; k < d; k++) dot += x[i * d + k]! * x[j * d + k]!;
      if (dot > best) best = dot;
    }
    facility += best;
  }
  const xs = new Float32Array(sel.length * d);
  sel.forEach((j, t) => xs.set(x.subarray(j * d, (j + 1) * d), t * d));
  const probe = new SoftmaxProbe().fit(
    xs,
    sel.length,
    d,
    Int32Array.from(sel, (j) => y[j]!),
    classes.length,
  );
  return { facility, accuracy: accuracy(probe.predict(x, n), y), selected: sel.length, pool: n };
}
