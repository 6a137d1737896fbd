import type { Reason } from '../core/reasons.js';
import type { QualityConfig } from '../config/schema.js';
import { REPETITION_MIN_WORDS, type QualityMetrics } from './metrics.js';

/** Every reason code the quality stage and its fitted thresholds give. */
export const QUALITY_REASONS = [
  'too_few_words',
  'too_many_words',
  'word_length',
  'symbol_ratio',
  'digit_ratio',
  'gibberish',
  'mojibake',
  'wrong_script',
  'boilerplate',
  'markup',
  'repetition',
  'punct_lines',
];

export interface Verdict {
  reason: Reason;
  detail: string;
}

/** The measures whose threshold adapts to each language's own distribution (see quality-fit.ts). */
export interface AdaptiveRule {
  key: 'min_mean_word_length' | 'max_mean_word_length' | 'max_symbol_ratio' | 'max_digit_ratio' | 'max_gibberish_ratio';
  measure: 'mean_word_length' | 'symbol_ratio' | 'digit_ratio' | 'gibberish_ratio';
  side: 'min' | 'max';
  reason: Reason;
}

/** In the order they are checked: the first failed check decides, in the stream and in the barrier. */
export const ADAPTIVE_RULES: readonly AdaptiveRule[] = [
  { key: 'max_symbol_ratio', measure: 'symbol_ratio', side: 'max', reason: 'symbol_ratio' },
  { key: 'max_digit_ratio', measure: 'digit_ratio', side: 'max', reason: 'digit_ratio' },
  { key: 'max_gibberish_ratio', measure: 'gibberish_ratio', side: 'max', reason: 'gibberish' },
  { key: 'min_mean_word_length', measure: 'mean_word_length', side: 'min', reason: 'word_length' },
  { key: 'max_mean_word_length', measure: 'mean_word_length', side: 'max', reason: 'word_length' },
];

/**
 * Whether a rule applies to a row at all: a mean over one or two words is not a word-length
 * distribution ("e!", a sentence in an unspaced script ICU cannot segment), and the gibberish
 * measure needs a few words in an alphabet with vowels, in a text written in one.
 */
export function ruleApplies(r: AdaptiveRule, m: QualityMetrics, c: QualityConfig): boolean {
  if (r.key === 'min_mean_word_length' && LOGOGRAPHIC_SCRIPTS.includes(m.script)) return false;
  if (r.measure === 'mean_word_length') return m.words >= WORD_LENGTH_MIN_WORDS;
  if (r.measure === 'gibberish_ratio') return m.alphabetic_words >= c.min_gibberish_words && ALPHABETIC_SCRIPTS.includes(m.script);
  return m.chars > 0;
}

/** Scripts where one character is often a whole word: a short mean word length is normal there. */
export const LOGOGRAPHIC_SCRIPTS = ['Hans', 'Hira'];
/** Alphabets with written vowels: the implausible-word measure judges text written mainly in them (not a product name inside Japanese). */
export const ALPHABETIC_SCRIPTS = ['Latn', 'Cyrl', 'Grek'];

export const WORD_LENGTH_MIN_WORDS = 3;

const f = (x: number): string => (Number.isInteger(x) ? String(x) : x.toFixed(3));

/**
 * The first failed check (reason code and the value that failed), or null. Adaptive measures are
 * held here to their `outer` bounds when thresholds adapt to the corpus (a barrier stage applies
 * the fitted ones), and to the defaults otherwise.
 */
export function qualityVerdict(m: QualityMetrics, c: QualityConfig): Verdict | null {
  return cleaningVerdict(m, c) ?? repetitionVerdict(m, c) ?? mojibakeVerdict(m, c) ?? adaptiveVerdict(m, c) ?? countVerdict(m, c) ?? fixedVerdict(m, c);
}

/** A page that cleaning emptied (fewer than min_words words left) was boilerplate or markup. */
function cleaningVerdict(m: QualityMetrics, c: QualityConfig): Verdict | null {
  if (m.lines_removed === 0 || m.words >= Math.max(1, c.min_words ?? 1)) return null;
  const reason = m.markup_lines > m.boilerplate_lines ? 'markup' : 'boilerplate';
  return { reason, detail: `${m.lines_removed} of ${m.lines} lines removed (${m.boilerplate_lines} boilerplate, ${m.markup_lines} markup); ${m.words} words left` };
}

function mojibakeVerdict(m: QualityMetrics, c: QualityConfig): Verdict | null {
  if (c.max_mojibake_ratio !== null && m.mojibake_ratio > c.max_mojibake_ratio) return { reason: 'mojibake', detail: `mojibake_ratio=${f(m.mojibake_ratio)} > ${c.max_mojibake_ratio}` };
  return null;
}

function countVerdict(m: QualityMetrics, c: QualityConfig): Verdict | null {
  if (c.min_words !== null && m.words < c.min_words) return { reason: 'too_few_words', detail: `words=${m.words} < ${c.min_words}` };
  if (c.max_words !== null && m.words > c.max_words) return { reason: 'too_many_words', detail: `words=${m.words} > ${c.max_words}` };
  return null;
}

function repetitionVerdict(m: QualityMetrics, c: QualityConfig): Verdict | null {
  if (c.max_dup_line_ratio !== null && m.dup_line_ratio > c.max_dup_line_ratio) return { reason: 'repetition', detail: `dup_line_ratio=${f(m.dup_line_ratio)} > ${c.max_dup_line_ratio}` };
  // n-gram statistics mean nothing on a tweet: Gopher computes them on documents.
  if (c.max_top_ngram_ratio !== null && m.words >= REPETITION_MIN_WORDS) {
    for (let k = 0; k < 3; k++) {
      if (m.top_ngram_ratio[k]! > c.max_top_ngram_ratio[k]!) return { reason: 'repetition', detail: `top_${k + 2}gram_ratio=${f(m.top_ngram_ratio[k]!)} > ${c.max_top_ngram_ratio[k]}` };
    }
  }
  if (c.min_distinct_char_ngrams !== null && m.distinct_char_ngrams < c.min_distinct_char_ngrams)
    return { reason: 'repetition', detail: `distinct_char_4gram_ratio=${f(m.distinct_char_ngrams)} < ${c.min_distinct_char_ngrams}` };
  return null;
}

function adaptiveVerdict(m: QualityMetrics, c: QualityConfig): Verdict | null {
  for (const r of ADAPTIVE_RULES) {
    const configured = c[r.key];
    if (configured === null || !ruleApplies(r, m, c)) continue;
    const bound = c.adapt.enabled ? c.adapt.outer[r.key] : configured;
    const v = m[r.measure];
    if (r.side === 'min' ? v < bound : v > bound) {
      const which = c.adapt.enabled ? ' (outer bound: junk in any language)' : '';
      return { reason: r.reason, detail: `${r.measure}=${f(v)} ${r.side === 'min' ? '<' : '>'} ${bound}${which}` };
    }
  }
  return null;
}

function fixedVerdict(m: QualityMetrics, c: QualityConfig): Verdict | null {
  if (c.max_wrong_script_ratio !== null && m.wrong_script_ratio > c.max_wrong_script_ratio)
    return { reason: 'wrong_script', detail: `wrong_script_ratio=${f(m.wrong_script_ratio)} > ${c.max_wrong_script_ratio}` };
  if (c.min_punct_line_ratio !== null && m.lines - m.lines_removed >= c.min_lines && m.punct_line_ratio < c.min_punct_line_ratio)
    return { reason: 'punct_lines', detail: `punct_line_ratio=${f(m.punct_line_ratio)} < ${c.min_punct_line_ratio}` };
  return null;
}
