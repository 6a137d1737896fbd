/**
 * The columns of the selection outputs, declared once so the Arrow file, the Parquet file and the
 * `selection` view agree. `sql` is evaluated against the `samples` table.
 */
export type ColumnKind = 'utf8' | 'dict' | 'uint32' | 'int64' | 'bool' | 'f16list';

export interface OutputColumn {
  name: string;
  sql: string;
  kind: ColumnKind;
  /** List size of an f16list column. */
  dim?: number;
}

export function selectionColumns(
  metadata: readonly string[],
  quoteIdent: (s: string) => string,
  quoteLiteral: (s: string) => string,
  embeddingDim: number | null = null,
  selected = false,
  synthetic = false,
): OutputColumn[] {
  const cols: OutputColumn[] = [
    { name: 'id', sql: 'id', kind: 'utf8' },
    { name: 'text', sql: 'text', kind: 'utf8' },
    { name: 'lang', sql: 'lang', kind: 'dict' },
    { name: 'label', sql: 'label', kind: 'dict' },
    { name: 'source', sql: 'source', kind: 'dict' },
    { name: 'file', sql: 'file', kind: 'dict' },
    { name: 'row', sql: '"row"', kind: 'uint32' },
    { name: 'text_chars', sql: 'text_chars', kind: 'uint32' },
    { name: 'tokens', sql: 'tokens', kind: 'uint32' },
  ];
  // Why a row was chosen: the strategy (or hybrid phase) and its place in the ranking.
  if (selected) cols.push({ name: 'select_by', sql: 'select_by', kind: 'dict' }, { name: 'select_rank', sql: 'select_rank', kind: 'uint32' });
  // Augmentations (the augment stage) are flagged, with the real row they were made from.
  if (synthetic)
    cols.push({ name: 'is_synthetic', sql: 'is_synthetic', kind: 'bool' }, { name: 'parent_id', sql: 'parent_id', kind: 'utf8' }, { name: 'aug_operator', sql: 'aug_operator', kind: 'dict' });
  const taken = new Set(cols.map((c) => c.name));
  for (const m of metadata) {
    const name = taken.has(m) ? `meta_${m}` : m;
    taken.add(name);
    cols.push({ name, sql: `meta->>${quoteLiteral(m)}`, kind: 'utf8' });
  }
  if (embeddingDim !== null) cols.push({ name: 'embedding', sql: 'embedding', kind: 'f16list', dim: embeddingDim });
  return cols.map((c) => ({ ...c, sql: `${c.sql} AS ${quoteIdent(c.name)}` }));
}
