import type { Pipeline, QualityConfig } from '../config/schema.js';
import { reject, type Batch } from '../core/batch.js';
import { qualityMetrics, type QualityMetrics } from '../quality/metrics.js';
import { batchStage, type Stage } from './stage.js';

/** The script quality filters hold text to: of the language target, or of the reference language. */
export function targetScript(p: Pipeline): string | null {
  const tags = [...p.stages.langid.target, ...(p.stages.langid.reference ? [p.stages.langid.reference.lang] : [])];
  const scripts = new Set(tags.map((t) => t.split('_')[1]).filter((s): s is string => s !== undefined));
  return scripts.size === 1 ? [...scripts][0]! : null;
}

const REPETITION_MIN_WORDS = 30;

/** The first failed check (reason code and the value that failed), or null. */
export function qualityVerdict(m: QualityMetrics, c: QualityConfig): { reason: string; detail: string } | null {
  const f = (x: number) => (Number.isInteger(x) ? String(x) : x.toFixed(3));
  if (c.min_words !== null && m.words < c.min_words) return { reason: 'too_few_words', detail: `words=${m.words} < ${c.min_words}` };
  if (c.max_words !== null && m.words > c.max_words) return { reason: 'too_many_words', detail: `words=${m.words} > ${c.max_words}` };
  if (c.min_mean_word_length !== null && m.mean_word_length < c.min_mean_word_length) return { reason: 'word_length', detail: `mean_word_length=${f(m.mean_word_length)} < ${c.min_mean_word_length}` };
  if (c.max_mean_word_length !== null && m.mean_word_length > c.max_mean_word_length) return { reason: 'word_length', detail: `mean_word_length=${f(m.mean_word_length)} > ${c.max_mean_word_length}` };
  if (c.max_symbol_ratio !== null && m.symbol_ratio > c.max_symbol_ratio) return { reason: 'symbol_ratio', detail: `symbol_ratio=${f(m.symbol_ratio)} > ${c.max_symbol_ratio}` };
  if (c.max_digit_ratio !== null && m.digit_ratio > c.max_digit_ratio) return { reason: 'digit_ratio', detail: `digit_ratio=${f(m.digit_ratio)} > ${c.max_digit_ratio}` };
  if (c.max_wrong_script_ratio !== null && m.wrong_script_ratio > c.max_wrong_script_ratio) return { reason: 'wrong_script', detail: `wrong_script_ratio=${f(m.wrong_script_ratio)} > ${c.max_wrong_script_ratio}` };
  if (c.max_boilerplate_ratio !== null && m.lines > 0 && m.boilerplate_ratio > c.max_boilerplate_ratio) return { reason: 'boilerplate', detail: `boilerplate_ratio=${f(m.boilerplate_ratio)} > ${c.max_boilerplate_ratio}` };
  if (c.max_dup_line_ratio !== null && m.dup_line_ratio > c.max_dup_line_ratio) return { reason: 'repetition', detail: `dup_line_ratio=${f(m.dup_line_ratio)} > ${c.max_dup_line_ratio}` };
  // n-gram statistics mean nothing on a tweet: Gopher computes them on documents.
  if (c.max_top_ngram_ratio !== null && m.words >= REPETITION_MIN_WORDS) {
    for (let k = 0; k < 3; k++) {
      if (m.top_ngram_ratio[k]! > c.max_top_ngram_ratio[k]!) return { reason: 'repetition', detail: `top_${k + 2}gram_ratio=${f(m.top_ngram_ratio[k]!)} > ${c.max_top_ngram_ratio[k]}` };
    }
  }
  if (c.min_punct_line_ratio !== null && m.lines >= c.min_lines && m.punct_line_ratio < c.min_punct_line_ratio) return { reason: 'punct_lines', detail: `punct_line_ratio=${f(m.punct_line_ratio)} < ${c.min_punct_line_ratio}` };
  return null;
}

/**
 * Quality filters, each with its own reason code and threshold: word count, mean word length, symbol
 * and digit ratios, wrong script, boilerplate lines, repetition (duplicate lines and top n-grams),
 * lines ending in punctuation. All measured without word lists, so they hold for any language. The
 * measured values go to samples.quality (JSON) for every row, the deciding one to reason_detail.
 */
export function qualityStage(p: Pipeline): Stage {
  const cfg = p.stages.quality;
  const script = targetScript(p);
  return batchStage((b: Batch) => {
    const out: (string | null)[] = new Array(b.size).fill(null);
    for (let i = 0; i < b.size; i++) {
      const t = b.text[i];
      if (b.reason[i] !== null || t === null || t === undefined) continue;
      const m = qualityMetrics(t, script, cfg.boilerplate_patterns);
      out[i] = JSON.stringify(m);
      const v = qualityVerdict(m, cfg);
      if (v) reject(b, i, v.reason, v.detail);
    }
    b.extra.quality = out;
    return b;
  });
}
