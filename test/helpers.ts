import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { DuckDBInstance } from '@duckdb/node-api';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const FIXTURES = path.join(ROOT, 'test', 'fixtures');
export const CLI = path.join(ROOT, 'dist', 'cli', 'main.js');

export interface FixtureRow {
  id: string;
  lang: string;
  text: string;
  split?: string;
  label?: string;
  [k: string]: unknown;
}

/** Rows of a fixture copied from ../shared/datasets (gzipped JSON Lines), e.g. fixture('sib200/yor_Latn'). */
export function fixture(name: string): FixtureRow[] {
  const text = gunzipSync(readFileSync(path.join(FIXTURES, `${name}.jsonl.gz`))).toString('utf8');
  return text
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => JSON.parse(l) as FixtureRow);
}

const made: string[] = [];

/** A new folder under the system temp folder, removed when the test file ends (test/setup.ts). */
export function tempDir(prefix = 'winnow-test-'): string {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}

export function removeTempDirs(): void {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
}

export function writeJsonl(file: string, rows: unknown[]): void {
  writeFileSync(file, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs the built CLI (dist/) as a user would, in its own process. Logs are text unless `logFormat`
 * says otherwise (a child's stdout is a pipe, which would make them JSON lines).
 */
export function runCli(args: string[], opts: { cwd?: string; timeoutMs?: number; logFormat?: 'text' | 'json' } = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    const env = { ...process.env, WINNOW_LOG_FORMAT: opts.logFormat ?? 'text' };
    execFile(process.execPath, [CLI, ...args], { cwd: opts.cwd ?? ROOT, env, timeout: opts.timeoutMs ?? 120_000, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** Runs SQL on a finished run's store through a read-only connection (or on files, with ":memory:"). */
export async function queryStore<T = Record<string, unknown>>(dbFile: string, sql: string): Promise<T[]> {
  const inst = await DuckDBInstance.create(dbFile, dbFile === ':memory:' ? {} : { access_mode: 'READ_ONLY' });
  const conn = await inst.connect();
  try {
    const r = await conn.runAndReadAll(sql);
    return r.getRowObjectsJson() as T[];
  } finally {
    conn.closeSync();
    inst.closeSync();
  }
}

/** Writes a pipeline YAML into `dir` and returns its path. */
export function writePipeline(dir: string, yaml: string, name = 'pipeline.yaml'): string {
  const p = path.join(dir, name);
  writeFileSync(p, yaml);
  return p;
}
