import { scriptOf } from '../langid/script.js';
import { stripMarks } from '../util/text.js';

/**
 * Word segmentation for the quality measures, for any script and register. A whitespace token is
 * a word when it carries letters or digits; URLs, @mentions, #tags and emoji are counted as what
 * they are, not as noise; a standalone punctuation mark (`!` after a space, Khmer `។`, Amharic
 * `።`) is punctuation, not a "symbol word". Scripts written without spaces between words (Thai,
 * Khmer, Lao, Myanmar, Tibetan, Chinese, Japanese) are split into words by ICU's dictionary
 * segmenter (Intl.Segmenter), so "mean word length" is not a sentence length there.
 */
export interface TokenStats {
  /** Words: tokens with letters or digits (segmented words in unspaced scripts). */
  words: string[];
  /** Letters, marks and digits in words: the characters a "word length" measures. */
  wordChars: number;
  /** Characters of symbol words plus symbols (not emoji) inside words. */
  symbolChars: number;
  emoji: number;
  urls: number;
  mentions: number;
  hashtags: number;
  /** Non-space characters outside URLs, mentions, tags and emoji: the base of the character ratios. */
  countedChars: number;
  digits: number;
  /** Words of 3+ letters in a script with written vowels (Latin, Cyrillic, Greek). */
  alphabeticWords: number;
  /** Of those, words no orthography writes (see judgePlausibility). */
  implausibleWords: number;
  /** Letters (outside links and handles) by script, for the wrong-script measure and the row's script. */
  scripts: Map<string, number>;
  letters: number;
}

const URL = /^(?:[a-z][a-z0-9+.-]*:\/\/|www\.)\S/i;
const MENTION = /^@[\p{L}\p{N}_]/u;
const HASHTAG = /^#[\p{L}\p{N}_]/u;
const UNSPACED = /[\p{Script=Thai}\p{Script=Khmer}\p{Script=Lao}\p{Script=Myanmar}\p{Script=Tibetan}\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}]/u;
// The joiner and variation selectors are listed on their own, not as parts of a sequence.
// eslint-disable-next-line no-misleading-character-class
const EMOJI = /[\p{Extended_Pictographic}\p{Regional_Indicator}\p{Emoji_Modifier}\u200D\uFE0F\u20E3]/u;
/** Punctuation that stands alone between words in many orthographies ("!!!!!" is emphasis, not noise). */
const PUNCT_TOKEN = /^[\p{Terminal_Punctuation}\p{Quotation_Mark}\p{Pd}\p{Ps}\p{Pe}\p{Pi}\p{Pf}/\\…·•]+$/u;
const EDGE_PUNCT_G = /^[^\p{L}\p{N}]+|[^\p{L}\p{M}\p{N}]+$/gu;
const ASCII_ONLY = /^[\x00-\x7f]*$/;
const LETTER = /\p{L}/u;
const MARK = /\p{M}/u;
const NUMBER = /\p{N}/u;
const DIGIT = /\p{Nd}/u;
const SYMBOL = /\p{S}/u;
const ALPHABETIC = /^[\p{Script=Latin}\p{Script=Cyrillic}\p{Script=Greek}\p{M}]+$/u;
/**
 * Vowel letters of the alphabets with written vowels, compared after removing diacritics. `y` and
 * the IPA-derived vowels of African orthographies (ɛ ɔ ə ɪ ʊ ...) count; `w` does not, so a few Welsh
 * words look implausible, which one or two words in a sentence never decide.
 */
const VOWELS = new Set([...'aeiouyæøœɛɔəɪʊɑɨʉɵɜɐıаеёиоуыэюяіїєӕөүұәγαεηιουωάέήίόύώ']);

let segmenter: Intl.Segmenter | null = null;

function segmentWords(token: string): string[] {
  segmenter ??= new Intl.Segmenter('und', { granularity: 'word' });
  const out: string[] = [];
  for (const s of segmenter.segment(token)) if (s.isWordLike) out.push(s.segment);
  return out;
}

export function tokenStats(text: string): TokenStats {
  const s: TokenStats = {
    words: [],
    wordChars: 0,
    symbolChars: 0,
    emoji: 0,
    urls: 0,
    mentions: 0,
    hashtags: 0,
    countedChars: 0,
    digits: 0,
    alphabeticWords: 0,
    implausibleWords: 0,
    scripts: new Map(),
    letters: 0,
  };
  for (const token of text.split(/\s+/u)) {
    if (token.length === 0) continue;
    const c0 = token.charCodeAt(0);
    if ((token.includes('://') || c0 === 0x77 || c0 === 0x57) && URL.test(token)) s.urls++;
    else if (c0 === 0x40 && MENTION.test(token)) s.mentions++;
    else if (c0 === 0x23 && HASHTAG.test(token)) s.hashtags++;
    else addToken(s, token);
  }
  return s;
}

/** Character classes, with ASCII decided by code (most text here is mostly ASCII) and the rest by Unicode property. */
const enum Kind {
  Letter,
  Digit,
  Number,
  Symbol,
  Punct,
  Emoji,
}

function kindOf(ch: string, code: number): Kind {
  if (code < 0x80) {
    if ((code >= 0x61 && code <= 0x7a) || (code >= 0x41 && code <= 0x5a)) return Kind.Letter;
    if (code >= 0x30 && code <= 0x39) return Kind.Digit;
    // $ + < = > ^ ` | ~ are symbols (Sc, Sm, Sk); the rest of printable ASCII is punctuation.
    return code === 0x24 || code === 0x2b || code === 0x3c || code === 0x3d || code === 0x3e || code === 0x5e || code === 0x60 || code === 0x7c || code === 0x7e ? Kind.Symbol : Kind.Punct;
  }
  if (LETTER.test(ch) || MARK.test(ch)) return Kind.Letter;
  if (EMOJI.test(ch)) return Kind.Emoji;
  if (NUMBER.test(ch)) return DIGIT.test(ch) ? Kind.Digit : Kind.Number;
  return SYMBOL.test(ch) ? Kind.Symbol : Kind.Punct;
}

/**
 * Tokens that are code rather than words: command-line flags, identifiers with _ . / :: or ( ),
 * camelCase names and all-capital keywords (SQL, constants). Technical prose in any script quotes
 * them in Latin letters; they are not the text's language, so they do not count toward its scripts.
 */
const CODE_TOKEN = /[A-Za-z0-9][_./:][A-Za-z0-9]|\(\)|[a-z][A-Z]|^[A-Z][A-Z0-9_]+$/;
const FLAG = /^--?[A-Za-z]/;

function addToken(s: TokenStats, token: string): void {
  const code = FLAG.test(token) || CODE_TOKEN.test(token.replace(EDGE_PUNCT_G, ''));
  let wordChars = 0;
  let symbols = 0;
  let emoji = 0;
  let counted = 0;
  for (const ch of token) {
    const cp = ch.codePointAt(0)!;
    const k = kindOf(ch, cp);
    if (k === Kind.Emoji) {
      emoji++;
      continue;
    }
    counted++;
    if (k === Kind.Letter) {
      wordChars++;
      if (!code && (cp < 0x80 || !MARK.test(ch))) {
        s.letters++;
        const sc = scriptOf(ch);
        s.scripts.set(sc, (s.scripts.get(sc) ?? 0) + 1);
      }
    } else if (k === Kind.Digit || k === Kind.Number) {
      wordChars++;
      if (k === Kind.Digit) s.digits++;
    } else if (k === Kind.Symbol) symbols++;
  }
  s.countedChars += counted;
  if (wordChars === 0) {
    if (counted === 0) s.emoji++;
    // A standalone punctuation token is neither a word nor a symbol; anything else here is a symbol word.
    else if (!PUNCT_TOKEN.test(token)) s.symbolChars += counted;
    return;
  }
  s.symbolChars += symbols;
  if (emoji > 0) s.emoji++;
  const core = token.replace(EDGE_PUNCT_G, '');
  if (!UNSPACED.test(core)) {
    addWord(s, core, wordChars);
    return;
  }
  for (const w of segmentWords(core)) addWord(s, w, countWordChars(w));
}

function addWord(s: TokenStats, w: string, chars: number): void {
  s.words.push(w.toLowerCase());
  s.wordChars += chars;
  if (chars >= 3) judgePlausibility(s, w);
}

function countWordChars(w: string): number {
  let n = 0;
  for (const ch of w) if (LETTER.test(ch) || MARK.test(ch) || NUMBER.test(ch)) n++;
  return n;
}

/**
 * A word of 3+ letters in an alphabet with written vowels is implausible when no orthography would
 * write it: no vowel, 5 consonants in a row, or a vowel share under 0.2 over 6+ letters (keyboard
 * mash such as "sdfghj"; "strengths" is one such word in a sentence, never most of them).
 */
function judgePlausibility(s: TokenStats, w: string): void {
  // Acronyms (NPWS, RCS) are written without vowels everywhere.
  if (!ALPHABETIC.test(w) || w === w.toUpperCase()) return;
  const base = ASCII_ONLY.test(w) ? w.toLowerCase() : stripMarks(w).toLowerCase();
  if (base.length < 3) return;
  s.alphabeticWords++;
  let run = 0;
  let longest = 0;
  let vowels = 0;
  for (const ch of base) {
    if (VOWELS.has(ch)) {
      vowels++;
      run = 0;
    } else longest = Math.max(longest, ++run);
  }
  if (vowels === 0 || longest >= 5 || (base.length >= 6 && (vowels < 0.2 * base.length || alongKeyboardRow(base)))) s.implausibleWords++;
}

/** Rows of the QWERTY and ЙЦУКЕН keyboards: letter -> row * 100 + column. */
const KEY_POSITION = new Map<string, number>(
  ['qwertyuiop', 'asdfghjkl', 'zxcvbnm', 'йцукенгшщзхъ', 'фывапролджэ', 'ячсмитьбю'].flatMap((row, r) => [...row].map((ch, c) => [ch, r * 100 + c] as [string, number])),
);

/** Keyboard mash: 80%+ of a word's letter pairs are keys at most two apart on one row ("sdfsdfkj", "лжжлод"). */
function alongKeyboardRow(base: string): boolean {
  let near = 0;
  let prev = -1000;
  let pairs = 0;
  for (const ch of base) {
    const p = KEY_POSITION.get(ch) ?? -1000;
    if (prev >= 0 && p >= 0 && Math.floor(p / 100) === Math.floor(prev / 100) && Math.abs(p - prev) <= 2) near++;
    prev = p;
    pairs++;
  }
  return near >= 0.8 * (pairs - 1);
}
