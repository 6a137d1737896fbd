import { franc } from 'franc-all';
import { loadModule } from 'cld3-asm';
import { CLD3_TO_ISO3, sameLanguage } from './codes.js';
import { scriptCounts } from './script.js';
import { SINGLE_LANGUAGE_SCRIPTS, scoreTrigrams } from './trigram-model.js';

export interface Candidate {
  lang: string;
  /** Posterior probability (calibrated: see CALIBRATION). */
  p: number;
}

export interface LangGuess {
  /** ISO 639-3 plus script, e.g. yor_Latn ('und_Zyyy' when undecidable). */
  tag: string;
  lang: string;
  script: string;
  confidence: number;
  /** Which identifier decided: trigram, cld3, script, chunks, fasttext, reference. */
  decidedBy: string;
  /** The most probable languages, best first (up to 5), the chosen one included. */
  candidates: Candidate[];
  /** Long documents: each language's share of the characters, when more than one has 10% or more. */
  shares: Record<string, number> | null;
  /** How many languages the identifier chose among (the prior a target decision corrects). */
  languages: number;
  /** The posterior of each language asked about in `focus`, however small (target decisions need it). */
  focus: Candidate[];
}

export type Cld3Identifier = { findLanguage(text: string): { language: string; probability: number; is_reliable: boolean } };

let cld3: Promise<Cld3Identifier> | null = null;
const CLD3_LANGS = new Set(Object.values(CLD3_TO_ISO3));
const cld3Known = new Map<string, boolean>();
/** Whether cld3 can name this language (or another code for it). */
function cld3Knows(lang: string): boolean {
  let k = cld3Known.get(lang);
  if (k === undefined) {
    k = [...CLD3_LANGS].some((c) => sameLanguage(c, lang));
    cld3Known.set(lang, k);
  }
  return k;
}

/**
 * The posterior is softmax(BETA x naive-Bayes log-likelihood ratio). BETA was fitted by minimising the
 * log-loss of the gold language on the SIB-200 train split and checked on Tatoeba's 32 languages
 * (`npm run bench -- langid` prints the reliability table): with it, rows at lang_conf >= 0.9 are
 * right at least 90% of the time.
 */
export const CALIBRATION = { beta: 0.1 };
/** At or above this posterior the trigram model decides alone; below it cld3 is asked. */
const CONFIDENT = 0.9;
/** cld3's pick must have at least this posterior under the trigram model to count. */
const PLAUSIBLE = 0.005;
const CLD3_MIN = 0.7;
const CLD3_MIN_UNKNOWN = 0.9;
const PLAUSIBLE_UNKNOWN = 0.005;
/** Documents longer than this are identified by chunks of about CHUNK characters. */
export const LONG_TEXT = 400;
const CHUNK = 200;
const MIN_SHARE = 0.1;

/** cld3's evidence for its pick: its odds, capped so that one identifier never overrules certainty. */
function cld3Odds(p: number): number {
  return 1 + Math.min(CLD3_MAX_ODDS, p / Math.max(1e-9, 1 - p));
}
const CLD3_MAX_ODDS = 99;

/** cld3 (WASM, 107 languages) loaded once per process (or worker): concurrent callers share one load. */
export function loadCld3(): Promise<Cld3Identifier> {
  cld3 ??= loadModule({ timeout: CLD3_LOAD_TIMEOUT_MS }).then((m) => m.create(0, 1000) as unknown as Cld3Identifier);
  return cld3;
}

/** The WASM runtime starts in well under a second, but a machine busy with every core in use can take longer. */
const CLD3_LOAD_TIMEOUT_MS = 60_000;

export function cld3Guess(id: Cld3Identifier, text: string): { lang: string; probability: number; reliable: boolean } {
  const r = id.findLanguage(text);
  return { lang: CLD3_TO_ISO3[r.language] ?? 'und', probability: r.probability, reliable: r.is_reliable };
}

/** franc-all alone (the previous identifier), kept as the benchmark's baseline. */
export function francGuess(text: string): string {
  return franc(text, { minLength: 3 });
}

/** Posterior over a script group's languages from trigram scores, best first (those above 1e-4, and `focus` languages). */
function posterior(langs: readonly string[], scores: Float64Array, focus: readonly string[] = []): Candidate[] {
  let max = -Infinity;
  for (let i = 0; i < scores.length; i++) if (scores[i]! > max) max = scores[i]!;
  let z = 0;
  const e = new Float64Array(scores.length);
  for (let i = 0; i < scores.length; i++) z += e[i] = Math.exp(CALIBRATION.beta * (scores[i]! - max));
  const out: Candidate[] = [];
  for (let i = 0; i < e.length; i++) if (e[i]! / z > 1e-4 || (focus.length > 0 && focus.some((f) => sameLanguage(f, langs[i]!)))) out.push({ lang: langs[i]!, p: e[i]! / z });
  return out.sort((a, b) => b.p - a.p || (a.lang < b.lang ? -1 : 1));
}

const und = (script: string, decidedBy: string): LangGuess => ({ tag: `und_${script}`, lang: 'und', script, confidence: 0, decidedBy, candidates: [], shares: null, languages: 0, focus: [] });

/** The posterior of `focus` languages within a posterior (those missing have none to speak of). */
export function focused(all: Candidate[], focus: readonly string[]): Candidate[] {
  return focus.map((f) => ({ lang: f, p: all.filter((c) => sameLanguage(c.lang, f)).reduce((a, c) => a + c.p, 0) }));
}

function guess(script: string, candidates: Candidate[], decidedBy: string, languages: number, focus: readonly string[], shares: Record<string, number> | null = null): LangGuess {
  const top = candidates[0]!;
  const round = (x: number) => Math.round(x * 1000) / 1000;
  return { tag: `${top.lang}_${script}`, lang: top.lang, script, confidence: round(top.p), decidedBy, candidates: candidates.slice(0, 5).map((c) => ({ lang: c.lang, p: round(c.p) })), shares, languages, focus: focused(candidates, focus) };
}

/**
 * Language ID: the script first (a text in Ethiopic script is not Swahili; a script with one
 * language is that language), then the compiled trigram model over the script's languages. When it
 * is not confident, cld3 (better at telling apart the 107 languages it knows, e.g. Amharic from
 * Tigrinya-like trigrams) adds its evidence: its pick, when the trigram model finds it plausible, is
 * weighted up by cld3's odds (capped at 99). Long documents are identified chunk by chunk (see identifyLong).
 */
export function identify(id: Cld3Identifier | null, raw: string, focus: readonly string[] = []): LangGuess {
  const text = languageText(raw);
  const { script, letters } = scriptCounts(text);
  if (letters === 0) return und('Zyyy', 'script');
  const single = SINGLE_LANGUAGE_SCRIPTS[script];
  if (single) return guess(script, [{ lang: single, p: 1 }], 'script', 1, focus);
  if (text.length > LONG_TEXT) return identifyLong(text, script, focus);
  const t = scoreTrigrams(text, script);
  if (!t || t.trigrams === 0) return und(script, 'script');
  const n = t.langs.length;
  let cands = posterior(t.langs, t.scores, focus);
  if (cands[0]!.p >= CONFIDENT || id === null) return guess(script, cands, 'trigram', n, focus);
  // cld3 can only move the decision to a plausible candidate it knows: without one, skip the call.
  if (!cands.some((x) => x.p >= PLAUSIBLE && cld3Knows(x.lang))) return guess(script, cands, 'trigram', n, focus);
  // cld3 knows 107 languages: against a language it could not have named (it calls Tigrinya
  // Amharic, Kirundi Kinyarwanda), its pick needs more confidence and more trigram support.
  const known = CLD3_LANGS.has(cands[0]!.lang);
  const c = cld3Guess(id, text);
  const i = c.probability >= (known ? CLD3_MIN : CLD3_MIN_UNKNOWN) ? cands.findIndex((x) => sameLanguage(x.lang, c.lang)) : -1;
  if (i < 0 || cands[i]!.p < (known ? PLAUSIBLE : PLAUSIBLE_UNKNOWN)) return guess(script, cands, 'trigram', n, focus);
  const before = cands[0]!.lang;
  cands = cands.map((x, k) => ({ lang: x.lang, p: k === i ? x.p * cld3Odds(c.probability) : x.p }));
  const z = cands.reduce((a, x) => a + x.p, 0);
  cands = cands.map((x) => ({ lang: x.lang, p: x.p / z })).sort((a, b) => b.p - a.p);
  return guess(script, cands, cands[0]!.lang === before ? 'trigram+cld3' : 'cld3', n, focus);
}

const NOT_LANGUAGE_G = /(?:[a-z][a-z0-9+.-]*:\/\/|www\.)\S+|\S+@\S+\.\w+|@[\p{L}\p{N}_]+/giu;

/**
 * The part of a text that is language: links, e-mail addresses and @handles are removed (a tweet
 * with a dozen "@user" is not Norwegian), and a #hashtag keeps its words.
 */
export function languageText(text: string): string {
  if (text.indexOf('@') < 0 && text.indexOf('#') < 0 && text.indexOf('/') < 0 && text.indexOf('www') < 0) return text;
  return text.replace(NOT_LANGUAGE_G, ' ').replace(/#(?=[\p{L}\p{N}])/gu, '').replace(/_/g, ' ');
}

/**
 * A long document is not one short string: it is cut into chunks of about CHUNK characters at
 * spaces, each chunk scored alone; the document's language is that of the summed scores, and each
 * language's share of the characters (by each chunk's best language) is reported when the document
 * is mixed.
 */
export function identifyLong(text: string, script: string, focus: readonly string[] = []): LangGuess {
  const chunks = chunksOf(text);
  let total: Float64Array | null = null;
  let langs: readonly string[] = [];
  const chars = new Map<string, number>();
  for (const chunk of chunks) {
    const { script: s, letters } = scriptCounts(chunk);
    if (letters === 0) continue;
    const lang = SINGLE_LANGUAGE_SCRIPTS[s];
    const t = lang ? null : scoreTrigrams(chunk, s);
    const best = lang ?? (t ? t.langs[argmax(t.scores)]! : 'und');
    chars.set(`${best}_${s}`, (chars.get(`${best}_${s}`) ?? 0) + chunk.length);
    if (t && s === script) {
      total ??= new Float64Array(t.scores.length);
      langs = t.langs;
      for (let k = 0; k < t.scores.length; k++) total[k]! += t.scores[k]!;
    }
  }
  const sum = [...chars.values()].reduce((a, b) => a + b, 0);
  const shareList = [...chars].map(([k, v]) => [k, Math.round((1000 * v) / sum) / 1000] as const).filter(([, v]) => v >= MIN_SHARE);
  const shares = shareList.length > 1 ? Object.fromEntries(shareList.sort((a, b) => b[1] - a[1])) : null;
  if (total === null) {
    const single = SINGLE_LANGUAGE_SCRIPTS[script];
    return single ? guess(script, [{ lang: single, p: 1 }], 'script', 1, focus, shares) : und(script, 'script');
  }
  return guess(script, posterior(langs, total, focus), 'chunks', langs.length, focus, shares);
}

function argmax(xs: Float64Array): number {
  let b = 0;
  for (let i = 1; i < xs.length; i++) if (xs[i]! > xs[b]!) b = i;
  return b;
}

function chunksOf(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split('\n')) {
    let rest = line.trim();
    while (rest.length > CHUNK * 1.5) {
      const cut = rest.lastIndexOf(' ', CHUNK) > CHUNK / 2 ? rest.lastIndexOf(' ', CHUNK) : CHUNK;
      out.push(rest.slice(0, cut));
      rest = rest.slice(cut).trim();
    }
    if (rest.length > 0) out.push(rest);
  }
  return out;
}
