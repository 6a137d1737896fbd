import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'vitest';
import { fixture, runCli, tempDir, writeJsonl, writePipeline } from '../helpers.js';

export interface StateJson {
  run_id: string | null;
  counts: { input: number; selected: number; rejected_total: number; rejected: Record<string, number> } | null;
  state: { seq: number; status: string; files: Record<string, number>; superseded_rows: number; out_dir: string | null; latest: string | null; resumed_pending: boolean };
}

export const yor = fixture('sib200/yor_Latn');
export const hau = fixture('sib200/hau_Latn');
export const amh = fixture('sib200/amh_Ethi');
export const swh = fixture('sib200/swh_Latn');

/** A lake that grows over three days, on fixture data from SIB-200. */
export function day1(lake: string): void {
  mkdirSync(lake, { recursive: true });
  writeJsonl(path.join(lake, 'yor.jsonl'), yor.slice(0, 300));
  writeJsonl(path.join(lake, 'hau.jsonl'), hau.slice(0, 300));
}
/** Day 2: a new file, and yor.jsonl changed (one row edited, 100 rows appended). */
export function day2(lake: string): void {
  writeJsonl(path.join(lake, 'amh.jsonl'), amh.slice(0, 200));
  const edited = yor.slice(0, 400).map((r, i) => (i === 4 ? { ...r, text: `Àtúnṣe: ${r.text}` } : r));
  writeJsonl(path.join(lake, 'yor.jsonl'), edited);
}
/** Day 3: a new file holding 31 rows of day-1 text (hau rows 10-40) and 50 new rows. */
export function day3(lake: string): void {
  mkdirSync(path.join(lake, 'day3'), { recursive: true });
  writeJsonl(path.join(lake, 'day3', 'mix.jsonl'), [...hau.slice(9, 40), ...swh.slice(0, 50)]);
}

export function pipeline(dir: string): string {
  return writePipeline(
    dir,
    `name: lake
seed: 3
sources:
  - name: lake
    path: lake/**/*.jsonl
    columns: { text: text, id: id, lang: lang }
stages:
  langid: { enabled: false }
  embed: { model: builtin, builtin: { dim: 32, buckets: 8192 } }
  select: { strategy: hybrid }
`,
  );
}

/** A job folder with the day-1 lake and its pipeline; the state folder is not made yet. */
export function day1Job(prefix: string): { dir: string; yaml: string; state: string } {
  const dir = tempDir(prefix);
  day1(path.join(dir, 'lake'));
  return { dir, yaml: pipeline(dir), state: path.join(dir, 'state') };
}

export async function step(yaml: string, state: string): Promise<StateJson> {
  const r = await runCli(['run', yaml, '--state', state, '--json', '--quiet']);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as StateJson;
}
