import { ALIVE } from '../core/reasons.js';
import { BIGINT, DOUBLE } from '@duckdb/node-api';
import type { SourceConfig } from '../config/schema.js';
import { ConfigError } from '../core/errors.js';
import { CharLm, ReferenceLanguageModel } from '../langid/char-lm.js';
import { scriptCounts } from '../langid/script.js';
import { checkReadable, discoverSource } from '../sources/discover.js';
import { readSources, type FileStats } from '../sources/read.js';
import { appendColumns } from '../store/append.js';
import { normalizeText } from './normalize.js';
import type { BarrierContext, BarrierResult, BarrierStage } from './barrier.js';

/** Rows of the corpus the background character model is fitted on. */
const BACKGROUND_SAMPLE = 20_000;

/**
 * Corpus-adapted language ID: a character 4-gram model of the reference sentences against a
 * background model of the corpus (a text the background was fitted on is scored leave-one-out).
 * The threshold is the 1st percentile of 3-fold held-out reference scores minus `margin`, so about
 * 99% of in-language text passes whatever the language. Rows above it are tagged with the
 * reference language (lang_by = reference); the others are rejected as lang_mismatch (action:
 * reject) or keep their ensemble tag. The score of every row is in samples.lang_ref_score.
 */
export const langIdReferenceStage: BarrierStage = {
  name: 'langid_reference',
  enabled: (p) => p.stages.langid.enabled && p.stages.langid.reference !== undefined,
  writes: ['samples.lang_ref_score'],
  run: runReference,
};

async function readReference(ctx: BarrierContext): Promise<string[]> {
  const ref = ctx.config.stages.langid.reference!;
  const src: SourceConfig = {
    name: 'reference',
    path: ref.path,
    format: 'auto',
    text_unit: 'line',
    columns: { text: ref.text_column, metadata: [] },
  };
  const files = await discoverSource(src, ctx.baseDir);
  await checkReadable(files);
  const texts: string[] = [];
  const stats: FileStats[] = [];
  const reader = await ctx.store.instance.connect();
  try {
    const ctxRead = { nextUid: 0, batchSize: 2048, maxRowBytes: ctx.config.limits.max_row_bytes, previewChars: 100, warn: ctx.log.warn, bytesRead: 0 };
    for await (const b of readSources([{ config: src, files }], ctxRead, reader, stats)) {
      for (let i = 0; i < b.size; i++) {
        const t = b.text[i];
        if (b.reason[i] === null && t) texts.push(normalizeText(t, ctx.config.stages.normalize));
      }
    }
  } finally {
    reader.closeSync();
  }
  if (texts.length < 30) throw new ConfigError(`stages.langid.reference: ${ref.path} gave ${texts.length} usable sentences; give a few hundred of the target language`);
  return texts;
}

async function runReference(ctx: BarrierContext): Promise<BarrierResult> {
  const t0 = performance.now();
  const cfg = ctx.config.stages.langid;
  const ref = cfg.reference!;
  const c = ctx.store.conn;
  const reference = await readReference(ctx);
  const rows = (await c.runAndReadAll(`SELECT uid, text FROM samples WHERE ${ALIVE} ORDER BY uid`)).getRows() as [bigint, string][];
  const stride = Math.max(1, Math.ceil(rows.length / BACKGROUND_SAMPLE));
  const inBackground = (i: number) => i % stride === 0;
  const background = new CharLm(4).fit(rows.filter((_, i) => inBackground(i)).map((r) => r[1]));
  const held: number[] = [];
  for (let f = 0; f < 3; f++) {
    const m = new ReferenceLanguageModel(new CharLm(4).fit(reference.filter((_, i) => i % 3 !== f)), background);
    reference.forEach((t, i) => {
      if (i % 3 === f) held.push(m.score(t, false));
    });
  }
  held.sort((a, b) => a - b);
  const threshold = held[Math.floor(held.length * 0.01)]! - ref.margin;
  const model = new ReferenceLanguageModel(new CharLm(4).fit(reference), background);
  const refScript = scriptCounts(reference.join(' ')).script;
  const scores = rows.map(([, text], i) => (scriptCounts(text).script === refScript ? model.score(text, inBackground(i)) : -Infinity));

  await c.run('ALTER TABLE samples ADD COLUMN lang_ref_score DOUBLE; CREATE TEMP TABLE ref_scores (uid BIGINT, score DOUBLE)');
  const app = await c.createAppender('ref_scores');
  appendColumns(app, [BIGINT, DOUBLE], [rows.map((r) => r[0]), scores.map((s) => (Number.isFinite(s) ? s : null))]);
  app.closeSync();
  const reject = cfg.action === 'reject';
  await c.run(`
    UPDATE samples SET lang_ref_score = r.score,
      lang_pred = CASE WHEN r.score > ${threshold} THEN '${ref.lang}' ELSE samples.lang_pred END,
      lang_by = CASE WHEN r.score > ${threshold} THEN 'reference' ELSE samples.lang_by END,
      lang_conf = CASE WHEN r.score > ${threshold} THEN round(1 / (1 + exp(-8 * (r.score - ${threshold}))), 3) ELSE samples.lang_conf END,
      status = CASE WHEN ${reject} AND coalesce(r.score, -1e9) <= ${threshold} THEN 'rejected' ELSE samples.status END,
      reason = CASE WHEN ${reject} AND coalesce(r.score, -1e9) <= ${threshold} THEN 'lang_mismatch' ELSE samples.reason END,
      reason_detail = CASE WHEN ${reject} AND coalesce(r.score, -1e9) <= ${threshold}
        THEN format('reference score {} <= threshold {} ({}, other script when NULL)', coalesce(round(r.score, 3)::VARCHAR, 'NULL'), round(${threshold}, 3), '${ref.lang}')
        ELSE samples.reason_detail END
    FROM ref_scores r WHERE samples.uid = r.uid;
    DROP TABLE ref_scores;`);
  const accepted = scores.filter((s) => s > threshold).length;
  const rejected: Record<string, number> = reject && rows.length > accepted ? { lang_mismatch: rows.length - accepted } : {};
  const counters = { stage: 'langid_reference', in: rows.length, out: reject ? accepted : rows.length, rejected, seconds: (performance.now() - t0) / 1000 };
  return { counters, manifest: { reference: ref.path, lang: ref.lang, sentences: reference.length, threshold, accepted, background_rows: Math.ceil(rows.length / stride) } };
}
