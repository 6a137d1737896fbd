import { writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { InputError } from '../core/errors.js';
import { commit, tempPathFor } from '../emit/atomic.js';
import { collectReport, type ReportOptions, type RunInfo } from './collect.js';
import { renderReport } from './render.js';
import { readRunManifest, type RunManifest } from '../pipeline/manifest.js';

export async function writeReport(conn: DuckDBConnection, info: RunInfo, file: string, opts: ReportOptions = {}): Promise<void> {
  await writeFile(file, renderReport(await collectReport(conn, info, opts)));
}

/** The RunInfo a finished run's manifest.json holds. */
export function runInfoFromManifest(outDir: string, m: RunManifest): RunInfo {
  return { outDir, name: m.pipeline.config.name, runId: m.run_id, counts: m.counts, stages: m.stages, budget: m.budget, select: m.select, augment: m.augment };
}

/** `winnow report <run>`: rebuilds report.html of a finished run from its store and manifest. */
export async function reportForRun(runDir: string, out?: string, opts: ReportOptions = {}): Promise<string> {
  const store = path.join(runDir, 'results.duckdb');
  const manifest = existsSync(store) ? readRunManifest(runDir) : null;
  if (!manifest) throw new InputError(`${runDir} is not a finished run (it needs results.duckdb and manifest.json)`);
  const info = runInfoFromManifest(runDir, manifest);
  const target = path.resolve(out ?? path.join(runDir, 'report.html'));
  const tmp = tempPathFor(target);
  const instance = await DuckDBInstance.create(store, { access_mode: 'READ_ONLY' });
  const conn = await instance.connect();
  try {
    await writeReport(conn, info, tmp, opts);
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
  await commit(tmp, target);
  return target;
}
