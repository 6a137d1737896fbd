/** Unicode scripts winnow tells apart, with ISO 15924 codes as in FLORES language tags (yor_Latn). */
const SCRIPTS: [string, RegExp][] = [
  ['Latn', /\p{Script=Latin}/u],
  ['Ethi', /\p{Script=Ethiopic}/u],
  ['Arab', /\p{Script=Arabic}/u],
  ['Cyrl', /\p{Script=Cyrillic}/u],
  ['Deva', /\p{Script=Devanagari}/u],
  ['Beng', /\p{Script=Bengali}/u],
  ['Hans', /\p{Script=Han}/u],
  ['Hira', /[\p{Script=Hiragana}\p{Script=Katakana}]/u],
  ['Hang', /\p{Script=Hangul}/u],
  ['Grek', /\p{Script=Greek}/u],
  ['Hebr', /\p{Script=Hebrew}/u],
  ['Thai', /\p{Script=Thai}/u],
  ['Khmr', /\p{Script=Khmer}/u],
  ['Laoo', /\p{Script=Lao}/u],
  ['Mymr', /\p{Script=Myanmar}/u],
  ['Sinh', /\p{Script=Sinhala}/u],
  ['Tibt', /\p{Script=Tibetan}/u],
  ['Geor', /\p{Script=Georgian}/u],
  ['Armn', /\p{Script=Armenian}/u],
  ['Taml', /\p{Script=Tamil}/u],
  ['Telu', /\p{Script=Telugu}/u],
  ['Knda', /\p{Script=Kannada}/u],
  ['Mlym', /\p{Script=Malayalam}/u],
  ['Gujr', /\p{Script=Gujarati}/u],
  ['Guru', /\p{Script=Gurmukhi}/u],
  ['Orya', /\p{Script=Oriya}/u],
  ['Tfng', /\p{Script=Tifinagh}/u],
  ['Nkoo', /\p{Script=Nko}/u],
];

const LETTER = /\p{L}/u;

export interface ScriptCounts {
  /** Dominant script of the letters ('Zyyy' when the text has none). */
  script: string;
  /** Share of letters in the dominant script. */
  share: number;
  letters: number;
  counts: Map<string, number>;
}

/** The script of a character ('Zyyy' for scripts winnow does not tell apart, and for common punctuation). */
export function scriptOf(ch: string): string {
  const c = ch.charCodeAt(0);
  if (c < 0x80) return 'Latn';
  return ch.length === 1 ? SCRIPT_NAMES[(bmpClass(c) & SCRIPT_BITS) - 1]! : regexScript(ch);
}

function regexScript(ch: string): string {
  // Latin first: most text here is Latin, and one regex test decides it.
  for (const [code, re] of SCRIPTS) if (re.test(ch)) return code;
  return 'Zyyy';
}

/**
 * Per UTF-16 unit of the Basic Multilingual Plane, filled on first sight: 0 not seen, else 1 + the
 * index of its script in SCRIPT_NAMES, with IS_LETTER set for letters. A regex test per character
 * was most of scriptCounts' time on Ethiopic and other non-Latin documents, whose texts repeat few
 * distinct characters.
 */
const BMP = new Uint8Array(0x10000);
const IS_LETTER = 0x80;
const SCRIPT_BITS = 0x7f;
const SCRIPT_NAMES = [...SCRIPTS.map(([code]) => code), 'Zyyy'];

function bmpClass(c: number): number {
  let k = BMP[c]!;
  if (k === 0) {
    const ch = String.fromCharCode(c);
    k = (1 + SCRIPT_NAMES.indexOf(regexScript(ch))) | (LETTER.test(ch) ? IS_LETTER : 0);
    BMP[c] = k;
  }
  return k;
}

/** Counts letters by script: the cheap first signal of language ID and of the wrong-script filter. */
export function scriptCounts(text: string): ScriptCounts {
  const counts = new Map<string, number>();
  let letters = 0;
  // ASCII letters are Latin and decided by their code alone: most text here is Latin. The map
  // keeps first-seen order.
  let ascii = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) {
      if ((c | 0x20) >= 0x61 && (c | 0x20) <= 0x7a) {
        if (ascii++ === 0 && !counts.has('Latn')) counts.set('Latn', 0);
      }
      continue;
    }
    let name: string;
    const next = c >= 0xd800 && c <= 0xdbff ? text.charCodeAt(i + 1) : 0;
    if (next >= 0xdc00 && next <= 0xdfff) {
      const ch = text.slice(i, i + 2);
      i++;
      if (!LETTER.test(ch)) continue;
      name = regexScript(ch);
    } else {
      const k = bmpClass(c);
      if ((k & IS_LETTER) === 0) continue;
      name = SCRIPT_NAMES[(k & SCRIPT_BITS) - 1]!;
    }
    letters++;
    counts.set(name, (counts.get(name) ?? 0) + 1);
  }
  if (ascii > 0) counts.set('Latn', counts.get('Latn')! + ascii);
  return summarizeScripts(counts, letters + ascii);
}

/** The dominant script of letter counts by script. */
export function summarizeScripts(counts: Map<string, number>, letters: number): ScriptCounts {
  let script = 'Zyyy';
  let best = 0;
  for (const [k, v] of counts) if (v > best || (v === best && k < script)) [script, best] = [k, v];
  return { script, share: letters === 0 ? 0 : best / letters, letters, counts };
}
