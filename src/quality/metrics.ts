import { summarizeScripts } from '../langid/script.js';
import { cleanDocument } from './lines.js';
import { tokenStats } from './tokens.js';

/**
 * Document statistics behind the quality filters (Gopher-style, Rae et al. 2021), measured on the
 * text after line cleaning, with words segmented for every script (see tokens.ts).
 */
export interface QualityMetrics {
  words: number;
  mean_word_length: number;
  /** Non-space characters outside links, handles and emoji: what the character ratios divide by. */
  chars: number;
  /** Share of those characters in symbol words or symbols. */
  symbol_ratio: number;
  /** Share of counted characters that are digits. */
  digit_ratio: number;
  /** Non-empty lines before cleaning, and those cleaning removed. */
  lines: number;
  lines_removed: number;
  boilerplate_lines: number;
  markup_lines: number;
  punct_line_ratio: number;
  dup_line_ratio: number;
  /** Share of word characters covered by the most frequent 2-, 3- and 4-word n-gram (seen 3+ times; 0 under 50 words). */
  top_ngram_ratio: [number, number, number];
  /** Distinct character 4-grams over all of them, for texts of 100+ characters and fewer than 50 words (1 otherwise). */
  distinct_char_ngrams: number;
  /** Share of letters outside `targetScript` (0 without a target script). */
  wrong_script_ratio: number;
  /** Share of 3+-letter words in alphabets with vowels that no orthography writes (see tokens.ts). */
  gibberish_ratio: number;
  alphabetic_words: number;
  /** Share of letters that are pieces of UTF-8 decoded as Latin-1/Windows-1252 (mojibake). */
  mojibake_ratio: number;
  emoji: number;
  urls: number;
  mentions: number;
  hashtags: number;
  /** Dominant script of the letters: the group for corpus-fitted thresholds when no language is known. */
  script: string;
}

export interface MeasuredDocument {
  metrics: QualityMetrics;
  /** The cleaned text (equal to the input when no line was removed). */
  text: string;
}

/** Gopher's n-gram rules are for documents (it keeps 50+ words); a sentence repeats a name. */
export const REPETITION_MIN_WORDS = 50;
const ENDS_PUNCT = /[\p{P}\p{S}]\s*$/u;
const MOJIBAKE_LEAD = /[\u00C2-\u00F4]/;
/** Below this many letters a text is too short to call mojibake (a few accented letters beside symbols). */
const MOJIBAKE_MIN_LETTERS = 4;

/** Windows-1252's characters for the bytes 0x80-0x9F (Latin-1 puts invisible controls there). */
const CP1252_BYTE = new Map<number, number>([...'€\u0081‚ƒ„…†‡ˆ‰Š‹Œ\u008DŽ\u008F\u0090‘’“”•–—˜™š›œ\u009DžŸ'].map((ch, i) => [ch.codePointAt(0)!, 0x80 + i]));

/** The byte a character stands for when UTF-8 was decoded as Latin-1/Windows-1252 and it is a continuation byte, else -1. */
function continuationByte(code: number): number {
  if (code >= 0x80 && code <= 0xbf) return code;
  return CP1252_BYTE.get(code) ?? -1;
}

const isLowerAsciiLetter = (c: number | undefined): boolean => c !== undefined && c >= 0x61 && c <= 0x7a;

/**
 * Mojibake sequences: a UTF-8 lead byte read as Latin-1 (Â..ô, not × ÷) followed by the
 * continuation bytes it needs, read as Latin-1 or Windows-1252 ("Ã©", "â€™", "áž”"), counted twice.
 * Clean text does not have them: "móžo" is none (ó needs three continuations), "kéž" only part of
 * one. Fewer than two sequences count as none. When normalization removed C1 controls (Latin-1's
 * reading of most continuation bytes), each counts once if lead characters are left, and so do
 * sequences missing a byte.
 */
export function mojibakeScore(text: string, c1Controls = 0): number {
  if (!MOJIBAKE_LEAD.test(text)) return 0;
  // Removed C1 controls were continuation bytes of the sequences whose leads remain.
  let score = c1Controls;
  let seqs = c1Controls;
  const cps = [...text].map((ch) => ch.codePointAt(0)!);
  for (let i = 0; i < cps.length; i++) {
    const c = cps[i]!;
    if (c < 0xc2 || c > 0xf4 || c === 0xd7) continue;
    const need = c < 0xe0 ? 1 : c < 0xf0 ? 2 : 3;
    let k = 0;
    while (k < need && i + 1 + k < cps.length && continuationByte(cps[i + 1 + k]!) >= 0) k++;
    if (k === need) {
      score += 2;
      seqs++;
      i += k;
    } else if (c1Controls > 0 && ((need === 2 && k === 1) || (need === 1 && k === 0 && c <= 0xde && isLowerAsciiLetter(cps[i - 1]) && isLowerAsciiLetter(cps[i + 1])))) {
      // A sequence missing a byte, or a Latin-1 capital inside a lowercase word ("waÉanda"): only
      // evidence when normalization removed controls, which is where the missing bytes went.
      score += 1;
      seqs++;
      i += k;
    }
  }
  return seqs < 2 ? 0 : score;
}

/** `c1Controls`: C1 control characters normalization removed from the text (see normalize.ts). */
export function measureDocument(text: string, targetScript: string | null, boilerplate: readonly string[], c1Controls = 0): MeasuredDocument {
  const doc = cleanDocument(text, boilerplate);
  const t = tokenStats(doc.text);
  const lines = doc.text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.length > 0);
  const seen = new Map<string, number>();
  for (const l of lines) seen.set(l, (seen.get(l) ?? 0) + 1);
  let dupLines = 0;
  for (const n of seen.values()) if (n > 1) dupLines += n - 1;
  const sc = summarizeScripts(t.scripts, t.letters);
  const wrongScript = targetScript && sc.letters > 0 ? 1 - (sc.counts.get(targetScript) ?? 0) / sc.letters : 0;
  const metrics: QualityMetrics = {
    words: t.words.length,
    mean_word_length: t.words.length === 0 ? 0 : t.wordChars / t.words.length,
    chars: t.countedChars,
    symbol_ratio: t.countedChars === 0 ? 0 : t.symbolChars / t.countedChars,
    digit_ratio: t.countedChars === 0 ? 0 : t.digits / t.countedChars,
    lines: doc.lines,
    lines_removed: doc.boilerplateLines + doc.markupLines,
    boilerplate_lines: doc.boilerplateLines,
    markup_lines: doc.markupLines,
    punct_line_ratio: lines.length === 0 ? 0 : lines.filter((l) => ENDS_PUNCT.test(l)).length / lines.length,
    dup_line_ratio: lines.length === 0 ? 0 : dupLines / lines.length,
    top_ngram_ratio: [2, 3, 4].map((n) => topNgramRatio(t.words, n, t.wordChars)) as [number, number, number],
    distinct_char_ngrams: t.words.length < REPETITION_MIN_WORDS ? distinctCharNgrams(doc.text) : 1,
    wrong_script_ratio: wrongScript,
    gibberish_ratio: t.alphabeticWords === 0 ? 0 : t.implausibleWords / t.alphabeticWords,
    alphabetic_words: t.alphabeticWords,
    mojibake_ratio: sc.letters < MOJIBAKE_MIN_LETTERS ? 0 : Math.min(1, mojibakeScore(doc.text, c1Controls) / sc.letters),
    emoji: t.emoji,
    urls: t.urls,
    mentions: t.mentions,
    hashtags: t.hashtags,
    script: sc.script,
  };
  return { metrics, text: doc.text };
}

const CHAR_NGRAM_MIN_CHARS = 100;

/**
 * Share of distinct character 4-grams: a word repeated without spaces ("ររររ...", "hahahaha..." at
 * length) has a handful; the word n-gram rules cannot see it, as the text has few words.
 */
function distinctCharNgrams(text: string): number {
  if (text.length < CHAR_NGRAM_MIN_CHARS) return 1;
  const seen = new Set<string>();
  const n = text.length - 3;
  for (let i = 0; i < n; i++) seen.add(text.slice(i, i + 4));
  return seen.size / n;
}

/** Characters covered by the most frequent word n-gram over all word characters (Gopher). */
function topNgramRatio(words: string[], n: number, wordChars: number): number {
  if (words.length < REPETITION_MIN_WORDS || wordChars === 0) return 0;
  const counts = new Map<string, number>();
  let best = 0;
  let bestKey = '';
  for (let i = 0; i + n <= words.length; i++) {
    const key = words.slice(i, i + n).join(' ');
    const c = (counts.get(key) ?? 0) + 1;
    counts.set(key, c);
    if (c > best) [best, bestKey] = [c, key];
  }
  // Twice is how sentences repeat a name ("... Association ... Association"); spam repeats more.
  if (best < 3) return 0;
  return Math.min(1, (best * [...bestKey.replace(/ /g, '')].length) / wordChars);
}
