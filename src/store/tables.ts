/**
 * Every table and view a run store (results.duckdb) can hold, with what it is for. `winnow query
 * --help` lists them from here, and a test checks a real store against it, so the list cannot drift
 * from what runs write.
 */
export const STORE_TABLES: Record<string, { kind: 'table' | 'view'; about: string; when?: string }> = {
  samples: { kind: 'table', about: 'one row per input record: text, status, reason, every stage signal' },
  selection: { kind: 'view', about: 'the selected rows with the columns of selection.arrow' },
  quarantine: { kind: 'table', about: 'malformed input rows with file, line and raw content' },
  runs: { kind: 'table', about: 'the run: id, config, counts, versions' },
  stages: { kind: 'table', about: 'rows in, out and rejected by reason, seconds, per stage' },
  files: { kind: 'table', about: 'every input file with its size, mtime and rows' },
  stream_checkpoint: { kind: 'table', about: 'where a killed run resumes its streaming phase' },
  dedup_params: { kind: 'table', about: 'the dedup settings the index was built with' },
  dedup_index: { kind: 'table', about: 'key hashes and signatures of kept texts (later runs dedup against it)' },
  dedup_signatures: { kind: 'table', about: "a shard's MinHash signatures for the merge", when: '--shard' },
  dup_clusters: { kind: 'view', about: 'duplicate clusters: members, kind and the kept row' },
  semantic_assign: { kind: 'table', about: 'k-means cluster of each row for semantic dedup', when: 'dedup.semantic' },
  embedding_model: { kind: 'table', about: 'the encoder: name, fingerprint, dimension' },
  embedding_vectors: { kind: 'table', about: 'vectors by text key' },
  embed_keys: { kind: 'table', about: 'the text key of each embedded row' },
  embeddings: { kind: 'view', about: 'uid and embedding of every embedded row' },
  label_set: { kind: 'table', about: 'labels `winnow label import` accepts' },
  labels: { kind: 'table', about: 'imported labels by round' },
  label_rounds: { kind: 'table', about: 'label export and import rounds' },
  label_requests: { kind: 'table', about: 'rows asked for in each export round, and why' },
  budget: { kind: 'table', about: 'the token plan, selected tokens and per-group quotas' },
  augmentations: { kind: 'table', about: 'synthetic rows with parent and operator', when: 'augment' },
  output_rows: { kind: 'view', about: 'samples and kept augmentations together', when: 'augment' },
};

/** One line per table for help texts: "  name (view) [only with]: what it is". */
export function storeTablesHelp(): string {
  return Object.entries(STORE_TABLES)
    .map(([name, t]) => `  ${name}${t.kind === 'view' ? ' (view)' : ''}${t.when ? ` [${t.when}]` : ''}: ${t.about}`)
    .join('\n');
}
