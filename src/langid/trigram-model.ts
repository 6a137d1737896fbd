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
  Hans: 'cmn', Hira: 'jpn', Hang: 'kor', Telu: 'tel', Taml: 'tam', Gujr: 'guj', Knda: 'kan', Mlym: 'mal', Guru: 'pan', Thai: 'tha', Sinh: 'sin',
  Grek: 'ell', Khmr: 'khm', Armn: 'hye', Geor: 'kat', Laoo: 'lao', Tfng: 'zgh', Beng: 'ben', Orya: 'ory', Nkoo: 'nqo',
};

interface Group {
  langs: string[];
  /** trigram (as a number: three UTF-16 units) -> its row in `postStart`. */
  index: Map<number, number>;
  postStart: Int32Array;
  postLang: Uint16Array;
  postWeight: Float32Array;
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
    const index = new Map<number, number>();
    const starts: number[] = [0];
    const ls: number[] = [];
    const ws: number[] = [];
    for (const [t, p] of postings) {
      if (t.length !== 3) continue;
      index.set(trigramKey(t, 0), starts.length - 1);
      for (const [l, w] of p) {
        ls.push(l);
        ws.push(w);
      }
      starts.push(ls.length);
    }
    out.set(script, { langs, index, postStart: Int32Array.from(starts), postLang: Uint16Array.from(ls), postWeight: Float32Array.from(ws) });
  }
  return out;
}

/** franc's text cleaning: ASCII punctuation and digits to spaces, whitespace collapsed, lowercase, padded. */
export function trigramText(text: string): string {
  return ` ${text.replace(/[\u0021-\u0040]+/g, ' ').replace(/\s+/g, ' ').trim().toLowerCase()} `;
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

/** Three UTF-16 units as one number (48 bits: exact in a double), so lookups hash no strings. */
function trigramKey(v: string, i: number): number {
  return v.charCodeAt(i) * 4294967296 + v.charCodeAt(i + 1) * 65536 + v.charCodeAt(i + 2);
}

function score(v: string, g: Group): TrigramScores {
  const scores = new Float64Array(g.langs.length);
  let trigrams = 0;
  for (let i = 0; i + 3 <= v.length; i++) {
    trigrams++;
    const k = g.index.get(trigramKey(v, i));
    if (k === undefined) continue;
    for (let j = g.postStart[k]!; j < g.postStart[k + 1]!; j++) scores[g.postLang[j]!]! += g.postWeight[j]!;
  }
  return { langs: g.langs, scores, trigrams };
}
