import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { validatePipeline } from '../../src/config/load.js';
import { runPipeline } from '../../src/pipeline/run.js';
import { silentLogger, type Logger } from '../../src/util/log.js';
import { QUALITY_REASONS } from '../../src/quality/verdict.js';
import type { JunkRow } from './quality-junk.js';

export interface CleanGroup {
  /** e.g. "sib200/amh_Ethi". */
  name: string;
  texts: readonly string[];
  /** The rows' language as an input column would give it (without one, thresholds fit per lang_pred or script). */
  lang?: string;
}

export interface QualityEvalResult {
  /** Per clean group: rows, rows the quality stages rejected, and those by reason. */
  clean: { name: string; rows: number; rejected: number; byReason: Record<string, number> }[];
  /** Per junk kind: rows, rejected with the expected reason, rejected otherwise (by reason), kept. */
  junk: { kind: string; expected: string; rows: number; right: number; other: Record<string, number> }[];
  seconds: number;
  qualitySeconds: number;
}

/**
 * Runs the real pipeline (normalize, filters, language ID when asked, the quality stage and its
 * corpus-fitted thresholds) over a lake of clean text (a file per group) with planted junk
 * scattered through the files, as a user's corpus would be, and counts what the quality filters
 * rejected, per clean group and junk kind.
 * Later stages (dedup, embedding, selection) are off: they decide nothing about quality.
 */
export async function evaluateQuality(clean: readonly CleanGroup[], junk: readonly JunkRow[], dir: string, opts: { langid: boolean; adapt?: boolean; log?: Logger }): Promise<QualityEvalResult> {
  // A lake as crawls leave it: a file per source, with the junk scattered through the files.
  const lake = path.join(dir, 'lake');
  mkdirSync(lake, { recursive: true });
  const files = clean.map((g) => g.texts.map((text, i) => JSON.stringify({ id: `clean|${g.name}|${i}`, text, lang: g.lang ?? null })));
  junk.forEach((j, i) => files[i % files.length]!.push(JSON.stringify({ id: `junk|${j.kind}|${j.expected}|${j.script}|${i}`, text: j.text })));
  files.forEach((lines, k) => writeFileSync(path.join(lake, `${String(k).padStart(3, '0')}.jsonl`), lines.join('\n') + '\n'));
  const config = validatePipeline(
    {
      name: 'quality-eval',
      sources: [{ name: 'lake', path: lake, columns: { text: 'text', id: 'id', lang: 'lang' } }],
      stages: {
        langid: { enabled: opts.langid },
        quality: { adapt: { enabled: opts.adapt ?? true } },
        dedup: { exact: { enabled: false }, near: { enabled: false } },
        embed: { enabled: false },
        select: { enabled: false },
        budget: { tokenizer: 'none' },
      },
    },
    'quality evaluation',
  );
  const t0 = performance.now();
  const out = path.join(dir, 'out');
  const summary = await runPipeline({ config, baseDir: dir, origin: 'quality evaluation' }, { outDir: out, log: opts.log ?? silentLogger });
  const seconds = (performance.now() - t0) / 1000;
  const qualitySeconds = summary.stages.filter((s) => s.stage === 'quality' || s.stage === 'quality_fit').reduce((a, s) => a + s.seconds, 0);
  const rows = await outcomes(path.join(out, 'results.duckdb'));
  return { ...tally(rows), seconds, qualitySeconds };
}

async function outcomes(db: string): Promise<{ id: string; reason: string | null }[]> {
  const inst = await DuckDBInstance.create(db, { access_mode: 'READ_ONLY' });
  const conn = await inst.connect();
  try {
    const r = await conn.runAndReadAll(`SELECT id, reason FROM samples`);
    return r.getRowObjectsJson() as { id: string; reason: string | null }[];
  } finally {
    conn.closeSync();
    inst.closeSync();
  }
}

function tally(rows: { id: string; reason: string | null }[]): Omit<QualityEvalResult, 'seconds' | 'qualitySeconds'> {
  const clean = new Map<string, QualityEvalResult['clean'][number]>();
  const junk = new Map<string, QualityEvalResult['junk'][number]>();
  for (const { id, reason } of rows) {
    const parts = id.split('|');
    const isQuality = reason !== null && QUALITY_REASONS.includes(reason);
    if (parts[0] === 'clean') {
      const name = parts[1]!;
      const g = clean.get(name) ?? { name, rows: 0, rejected: 0, byReason: {} };
      clean.set(name, g);
      g.rows++;
      if (isQuality) {
        g.rejected++;
        g.byReason[reason] = (g.byReason[reason] ?? 0) + 1;
      }
    } else {
      const [kind, expected] = [parts[1]!, parts[2]!];
      const j = junk.get(kind) ?? { kind, expected, rows: 0, right: 0, other: {} };
      junk.set(kind, j);
      j.rows++;
      if (reason === expected) j.right++;
      else j.other[reason ?? 'kept'] = (j.other[reason ?? 'kept'] ?? 0) + 1;
    }
  }
  return { clean: [...clean.values()].sort((a, b) => a.name.localeCompare(b.name)), junk: [...junk.values()] };
}
