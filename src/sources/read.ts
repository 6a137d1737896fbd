import type { DuckDBConnection } from '@duckdb/node-api';
import type { Batch } from '../core/batch.js';
import type { Pipeline, SourceConfig } from '../config/schema.js';
import { checkReadable, discoverSource, type InputFile } from './discover.js';
import { readCsv } from './csv.js';
import { readParquet } from './parquet.js';
import { readJsonl, type FileReadStats } from './jsonl.js';
import type { ReadContext } from './record.js';
import { readText } from './text.js';
import { checkWhereSyntax, RowPredicate } from './where.js';

export interface PlannedSource {
  config: SourceConfig;
  files: InputFile[];
}

export interface FileStats extends FileReadStats {
  source: string;
  file: string;
  abs: string;
  format: string;
  rows: number;
}

/** Everything that can be checked before reading a row: paths, globs, readability, `where` syntax. */
export async function planSources(pipeline: Pipeline, baseDir: string, conn: DuckDBConnection): Promise<PlannedSource[]> {
  const planned: PlannedSource[] = [];
  for (const [i, src] of pipeline.sources.entries()) {
    if (src.where) await checkWhereSyntax(conn, src.where, `sources[${i}].where`);
    planned.push({ config: src, files: await discoverSource(src, baseDir) });
  }
  await checkReadable(planned.flatMap((p) => p.files));
  return planned;
}

/** All sources, file by file in sorted order, as batches. `stats` is filled as files are read. */
export async function* readSources(planned: PlannedSource[], ctx: ReadContext, conn: DuckDBConnection, stats: FileStats[]): AsyncGenerator<Batch> {
  for (const [si, { config, files }] of planned.entries()) {
    const where = config.where ? new RowPredicate(conn, config.where, `sources[${si}].where`) : null;
    for (const file of files) {
      const st: FileStats = { source: config.name, file: file.rel, abs: file.abs, format: file.format, rows: 0, blankLines: 0 };
      stats.push(st);
      const it =
        file.format === 'jsonl'
          ? readJsonl(file, config, ctx, where, st)
          : file.format === 'text'
            ? readText(file, config, ctx, where, st)
            : file.format === 'parquet'
              ? readParquet(file, config, ctx, conn)
              : readCsv(file, config, ctx, where, st);
      for await (const batch of it) {
        st.rows += batch.size;
        yield batch;
      }
    }
  }
}
