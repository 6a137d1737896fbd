import { scriptCounts } from '../langid/script.js';

/** Language-agnostic document statistics behind the quality filters (Gopher-style, Rae et al. 2021). */
export interface QualityMetrics {
  words: number;
  mean_word_length: number;
  symbol_ratio: number;
  digit_ratio: number;
  lines: number;
  punct_line_ratio: number;
  dup_line_ratio: number;
  /** Share of word characters covered by the most frequent 2-, 3- and 4-word n-gram. */
  top_ngram_ratio: [number, number, number];
  /** Share of letters outside `targetScript` (0 without a target script). */
  wrong_script_ratio: number;
  boilerplate_ratio: number;
}

const WORD = /\S+/gu;
const SYMBOL_ONLY = /^[\p{P}\p{S}]+$/u;
const DIGIT = /\p{Nd}/gu;
const ENDS_PUNCT = /[\p{P}\p{S}]\s*$/u;

export function qualityMetrics(text: string, targetScript: string | null, boilerplate: readonly string[]): QualityMetrics {
  const words = text.match(WORD) ?? [];
  const chars = [...text].length;
  let wordChars = 0;
  let symbolWords = 0;
  for (const w of words) {
    wordChars += [...w].length;
    if (SYMBOL_ONLY.test(w)) symbolWords++;
  }
  const lines = text.split('\n').map((l) => l.trim()).filter((l) => l.length > 0);
  const seen = new Map<string, number>();
  for (const l of lines) seen.set(l, (seen.get(l) ?? 0) + 1);
  let dupLines = 0;
  for (const n of seen.values()) if (n > 1) dupLines += n - 1;
  const lowered = lines.map((l) => l.toLowerCase());
  const patterns = boilerplate.map((p) => p.toLowerCase());
  const boiler = lowered.filter((l) => patterns.some((p) => l.includes(p))).length;
  let wrongScript = 0;
  if (targetScript) {
    const sc = scriptCounts(text);
    wrongScript = sc.letters === 0 ? 0 : 1 - (sc.counts.get(targetScript) ?? 0) / sc.letters;
  }
  return {
    words: words.length,
    mean_word_length: words.length === 0 ? 0 : wordChars / words.length,
    symbol_ratio: words.length === 0 ? 0 : symbolWords / words.length,
    digit_ratio: chars === 0 ? 0 : (text.match(DIGIT)?.length ?? 0) / chars,
    lines: lines.length,
    punct_line_ratio: lines.length === 0 ? 0 : lines.filter((l) => ENDS_PUNCT.test(l)).length / lines.length,
    dup_line_ratio: lines.length === 0 ? 0 : dupLines / lines.length,
    top_ngram_ratio: [2, 3, 4].map((n) => topNgramRatio(words, n, wordChars)) as [number, number, number],
    wrong_script_ratio: wrongScript,
    boilerplate_ratio: lines.length === 0 ? 0 : boiler / lines.length,
  };
}

/** Characters covered by the most frequent word n-gram over all word characters (Gopher). */
function topNgramRatio(words: string[], n: number, wordChars: number): number {
  if (words.length < n * 2 || wordChars === 0) return 0;
  const counts = new Map<string, number>();
  let best = 0;
  let bestKey = '';
  for (let i = 0; i + n <= words.length; i++) {
    const key = words.slice(i, i + n).join(' ');
    const c = (counts.get(key) ?? 0) + 1;
    counts.set(key, c);
    if (c > best) [best, bestKey] = [c, key];
  }
  if (best < 2) return 0;
  return (best * [...bestKey.replace(/ /g, '')].length) / wordChars;
}
