import { readFile, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { InputError } from '../core/errors.js';
import { commit, tempPathFor } from '../emit/atomic.js';
import { collectReport, type ReportOptions, type RunInfo } from './collect.js';
import { renderReport } from './render.js';

export async function writeReport(conn: DuckDBConnection, info: RunInfo, file: string, opts: ReportOptions = {}): Promise<void> {
  await writeFile(file, renderReport(await collectReport(conn, info, opts)));
}

/** The RunInfo a finished run's manifest.json holds. */
export function runInfoFromManifest(outDir: string, m: Record<string, unknown>): RunInfo {
  const pipeline = m.pipeline as { config?: { name?: string } } | undefined;
  return {
    outDir,
    name: pipeline?.config?.name ?? 'pipeline',
    runId: String(m.run_id ?? ''),
    counts: m.counts as RunInfo['counts'],
    stages: m.stages as RunInfo['stages'],
    budget: m.budget as RunInfo['budget'],
    select: m.select as RunInfo['select'],
    augment: m.augment as RunInfo['augment'],
  };
}

/** `winnow report <run>`: rebuilds report.html of a finished run from its store and manifest. */
export async function reportForRun(runDir: string, out?: string, opts: ReportOptions = {}): Promise<string> {
  const store = path.join(runDir, 'results.duckdb');
  const manifestFile = path.join(runDir, 'manifest.json');
  if (!existsSync(store) || !existsSync(manifestFile)) throw new InputError(`${runDir} is not a finished run (it needs results.duckdb and manifest.json)`);
  const info = runInfoFromManifest(runDir, JSON.parse(await readFile(manifestFile, 'utf8')) as Record<string, unknown>);
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
