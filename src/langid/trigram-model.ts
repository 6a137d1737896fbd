import { data } from 'franc-all/data.js';
import { stripMarks } from '../util/text.js';

/**
 * franc's 419 language profiles (the 300 most frequent character trigrams of each language's
 * Universal Declaration of Human Rights, by script), compiled once into one index: trigram ->
 * (language, weight) postings. A text is scored in one pass over its trigrams, touching only the
 * languages that have each trigram, instead of franc-all's 419 profiles one by one.
 *
 * Scoring is multinomial naive Bayes rather than franc's rank distance: a profile's trigram of rank
 * r gets probability proportional to 1/(r+1) (Zipf) over 90% of the mass, an unseen trigram the
 * rest spread over 20,000 trigrams; weights are log-ratios to the unseen probability, so a score is
 * the log-likelihood ratio of the text against "no trigram known", comparable across languages.
 */
const UNSEEN_MASS = 0.1;
const UNSEEN_TYPES = 20_000;

/** winnow's script codes -> franc's script groups with several languages. */
const SCRIPT_GROUPS: Record<string, string> = { Latn: 'Latin', Cyrl: 'Cyrillic', Arab: 'Arabic', Deva: 'Devanagari', Mymr: 'Myanmar', Ethi: 'Ethiopic', Tibt: 'Tibetan', Hebr: 'Hebrew' };
/** Scripts franc gives one language (a text in Thai script is Thai as far as trigrams can tell). */
export const SINGLE_LANGUAGE_SCRIPTS: Record<string, string> = {
  Hans: 'cmn',
  Hira: 'jpn',
  Hang: 'kor',
  Telu: 'tel',
  Taml: 'tam',
  Gujr: 'guj',
  Knda: 'kan',
  Mlym: 'mal',
  Guru: 'pan',
  Thai: 'tha',
  Sinh: 'sin',
  Grek: 'ell',
  Khmr: 'khm',
  Armn: 'hye',
  Geor: 'kat',
  Laoo: 'lao',
  Tfng: 'zgh',
  Beng: 'ben',
  Orya: 'ory',
  Nkoo: 'nqo',
};

interface Group {
  langs: string[];
  /**
   * Open-addressing hash table, trigram -> its row in `postStart`: slot keys as the first UTF-16
   * unit and the other two packed, so a lookup hashes three integers and allocates nothing.
   */
  mask: number;
  slotA: Int32Array;
  slotBC: Int32Array;
  slotRow: Int32Array;
  postStart: Int32Array;
  /** Postings packed one per integer, weight (fixed point, WEIGHT_SCALE) above LANG_BITS of language: one load per posting. */
  post: Int32Array;
}

const LANG_BITS = 10;
const LANG_MASK = (1 << LANG_BITS) - 1;
/** Fixed point of the weights: 2^-16 nats, so 21 bits hold weights up to 32 nats (the largest is ~10.3). */
const WEIGHT_SCALE = 1 << 16;

function slotOf(a: number, b: number, c: number, mask: number): number {
  return (Math.imul(a, 0x9e3779b1) ^ Math.imul(b, 0x85ebca77) ^ Math.imul(c, 0xc2b2ae3d)) & mask;
}

/** The posting row of trigram (a, b, c), or -1. */
function lookup(g: Group, a: number, b: number, c: number): number {
  const bc = (b << 16) | c;
  for (let s = slotOf(a, b, c, g.mask); ; s = (s + 1) & g.mask) {
    const row = g.slotRow[s]!;
    if (row < 0 || (g.slotA[s] === a && g.slotBC[s] === bc)) return row;
  }
}

function buildIndex(trigrams: string[]): Pick<Group, 'mask' | 'slotA' | 'slotBC' | 'slotRow'> {
  let size = 1;
  while (size < trigrams.length * 2) size <<= 1;
  const mask = size - 1;
  const slotA = new Int32Array(size);
  const slotBC = new Int32Array(size);
  const slotRow = new Int32Array(size).fill(-1);
  trigrams.forEach((t, row) => {
    const [a, b, c] = [t.charCodeAt(0), t.charCodeAt(1), t.charCodeAt(2)];
    let s = slotOf(a, b, c, mask);
    while (slotRow[s]! >= 0) s = (s + 1) & mask;
    slotA[s] = a;
    slotBC[s] = (b << 16) | c;
    slotRow[s] = row;
  });
  return { mask, slotA, slotBC, slotRow };
}

let groups: Map<string, Group> | null = null;
let strippedGroups: Map<string, Group> | null = null;

/**
 * `stripped`: profiles with diacritics removed (a trigram that occurs under several spellings keeps
 * its best rank), for text written without them: Yoruba news without tone marks or under-dots,
 * Hausa without hooked letters, typed on a keyboard that lacks them.
 */
function compile(stripped: boolean): Map<string, Group> {
  const out = new Map<string, Group>();
  const floor = Math.log(UNSEEN_MASS / UNSEEN_TYPES);
  for (const [script, languages] of Object.entries(data as Record<string, Record<string, string>>)) {
    const langs = Object.keys(languages).sort();
    const postings = new Map<string, [number, number][]>();
    langs.forEach((lang, li) => {
      const ranked = languages[lang]!.split('|');
      let z = 0;
      for (let r = 0; r < ranked.length; r++) z += 1 / (r + 1);
      const seen = new Set<string>();
      ranked.forEach((raw, r) => {
        const t = stripped ? stripMarks(raw) : raw;
        if (seen.has(t)) return;
        seen.add(t);
        const w = Math.log(((1 - UNSEEN_MASS) * (1 / (r + 1))) / z) - floor;
        const p = postings.get(t) ?? [];
        p.push([li, w]);
        postings.set(t, p);
      });
    });
    if (langs.length > LANG_MASK + 1) throw new Error(`trigram model: ${langs.length} languages in one script group do not fit ${LANG_BITS} bits`);
    const trigrams: string[] = [];
    const starts: number[] = [0];
    const packed: number[] = [];
    for (const [t, p] of postings) {
      if (t.length !== 3) continue;
      trigrams.push(t);
      for (const [l, w] of p) packed.push((Math.round(w * WEIGHT_SCALE) << LANG_BITS) | l);
      starts.push(packed.length);
    }
    out.set(script, { langs, ...buildIndex(trigrams), postStart: Int32Array.from(starts), post: Int32Array.from(packed) });
  }
  return out;
}

/** franc's text cleaning: ASCII punctuation and digits to spaces, whitespace collapsed, lowercase, padded. */
export function trigramText(text: string): string {
  const t = text.toLowerCase();
  let out = ' ';
  let start = 0;
  let space = true;
  // One pass: copy runs of kept characters, turn runs of punctuation, digits and white space into one space.
  for (let i = 0; i < t.length; i++) {
    const c = t.charCodeAt(i);
    if ((c >= 0x21 && c <= 0x40) || c === 0x20 || (c >= 0x09 && c <= 0x0d) || (c > 0x7f && isSpace(c))) {
      if (i > start) out += t.slice(start, i);
      if (!space) out += ' ';
      space = true;
      start = i + 1;
    } else space = false;
  }
  // A run of separators already ended `out` with its space.
  if (t.length > start) out += t.slice(start) + ' ';
  return out;
}

/** White space beyond ASCII (what /\s/ matches): no-break, Ogham, en quad to hair, line/paragraph separators, ideographic. */
function isSpace(c: number): boolean {
  return c === 0xa0 || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000 || c === 0xfeff;
}

export interface TrigramScores {
  /** Languages of the script group, and each one's log-likelihood ratio. */
  langs: readonly string[];
  scores: Float64Array;
  /** Trigrams in the text (what the scores grow with). */
  trigrams: number;
}

const ASCII = /^[\x00-\x7f]*$/;

/**
 * Scores a text against every language of a script group (null when the script has no group).
 * Latin text with no letter beyond ASCII is scored against the profiles without diacritics: the
 * diacritics of a profile could never match it, and would count against the languages that write
 * them (undiacritised Yoruba read as Ijaw or Cofán).
 */
export function scoreTrigrams(text: string, script: string): TrigramScores | null {
  const name = SCRIPT_GROUPS[script];
  if (!name) return null;
  const v = trigramText(text);
  if (name !== 'Latin') return score(v, (groups ??= compile(false)).get(name)!);
  if (ASCII.test(v)) return score(v, (strippedGroups ??= compile(true)).get(name)!);
  const full = score(v, (groups ??= compile(false)).get(name)!);
  // Partly diacritised text ("Bi imọ awọn Giriki ṣe n dinku"): each language keeps the better of
  // its diacritised and its plain profile, read on the text as written and without its marks.
  if (nonAsciiShare(v) >= PARTLY_MARKED) return full;
  const plain = score(stripMarks(v), (strippedGroups ??= compile(true)).get(name)!);
  for (let i = 0; i < full.scores.length; i++) full.scores[i] = Math.max(full.scores[i]!, plain.scores[i]!);
  return full;
}

/** Below this share of non-ASCII letters a Latin text counts as partly diacritised. */
const PARTLY_MARKED = 0.15;

function nonAsciiShare(v: string): number {
  let letters = 0;
  let other = 0;
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c === 0x20) continue;
    letters++;
    if (c > 0x7f) other++;
  }
  return letters === 0 ? 0 : other / letters;
}

/**
 * Integer sums of fixed-point weights, moved into the float scores every FLUSH trigrams: an
 * Int32Array add is cheaper than a float one, and FLUSH x the largest weight (~10.3 x 2^16) stays
 * far below 2^31. Sums of integers are exact either way, so the scores are the same to the bit.
 */
const FLUSH = 1024;

function score(v: string, g: Group): TrigramScores {
  const n = g.langs.length;
  const scores = new Float64Array(n);
  const acc = new Int32Array(n);
  let trigrams = 0;
  const { postStart, post } = g;
  let a = v.charCodeAt(0);
  let b = v.charCodeAt(1);
  for (let i = 2; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (++trigrams % FLUSH === 0) flush(acc, scores);
    const k = lookup(g, a, b, c);
    if (k >= 0)
      for (let j = postStart[k]!, end = postStart[k + 1]!; j < end; j++) {
        const p = post[j]!;
        acc[p & LANG_MASK] = (acc[p & LANG_MASK]! + (p >>> LANG_BITS)) | 0;
      }
    a = b;
    b = c;
  }
  flush(acc, scores);
  for (let i = 0; i < n; i++) scores[i]! /= WEIGHT_SCALE;
  return { langs: g.langs, scores, trigrams };
}

function flush(acc: Int32Array, scores: Float64Array): void {
  for (let i = 0; i < acc.length; i++) {
    scores[i]! += acc[i]!;
    acc[i] = 0;
  }
}
