import { franc } from 'franc-all';
import { loadModule } from 'cld3-asm';
import { CLD3_TO_ISO3, sameLanguage } from './codes.js';
import { scriptCounts } from './script.js';
import type { FastTextIdentifier } from './fasttext.js';
import { SINGLE_LANGUAGE_SCRIPTS, scoreTrigrams, type TrigramScores } from './trigram-model.js';

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
  /** How many languages the identifier chose among (the uniform prior a target decision corrects; 0: its probabilities carry their own prior). */
  languages: number;
  /** The posterior of each model language a `focus` code names, however small, each once (target decisions need it). */
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
  // Most languages are far behind the best: exp of under -40 is below any share that counts (1e-4).
  for (let i = 0; i < scores.length; i++) {
    const x = CALIBRATION.beta * (scores[i]! - max);
    if (x > -40) z += e[i] = Math.exp(x);
  }
  const out: Candidate[] = [];
  for (let i = 0; i < e.length; i++) if (e[i]! / z > 1e-4 || (focus.length > 0 && focus.some((f) => sameLanguage(f, langs[i]!)))) out.push({ lang: langs[i]!, p: e[i]! / z });
  return out.sort((a, b) => b.p - a.p || (a.lang < b.lang ? -1 : 1));
}

const und = (script: string, decidedBy: string): LangGuess => ({ tag: `und_${script}`, lang: 'und', script, confidence: 0, decidedBy, candidates: [], shares: null, languages: 0, focus: [] });

/**
 * The candidates a `focus` code names, each once (those missing have none to speak of). One model
 * language can answer to several focus codes (swh for swh, swa and swc): listing it per code would
 * count its probability, and its share of the prior, more than once.
 */
export function focused(all: Candidate[], focus: readonly string[]): Candidate[] {
  return all.filter((c) => focus.some((f) => sameLanguage(c.lang, f)));
}

function guess(script: string, candidates: Candidate[], decidedBy: string, languages: number, focus: readonly string[], shares: Record<string, number> | null = null): LangGuess {
  const top = candidates[0]!;
  const round = (x: number) => Math.round(x * 1000) / 1000;
  return {
    tag: `${top.lang}_${script}`,
    lang: top.lang,
    script,
    confidence: round(top.p),
    decidedBy,
    candidates: candidates.slice(0, 5).map((c) => ({ lang: c.lang, p: round(c.p) })),
    shares,
    languages,
    focus: focused(candidates, focus),
  };
}

/**
 * Language ID: the script first (a text in Ethiopic script is not Swahili; a script with one
 * language is that language), then the compiled trigram model over the script's languages. When it
 * is not confident, cld3 (better at telling apart the 107 languages it knows, e.g. Amharic from
 * Tigrinya-like trigrams) adds its evidence: its pick, when the trigram model finds it plausible, is
 * weighted up by cld3's odds (capped at 99). With `lid` (fastText lid.176) the tag comes from the
 * three together (see ENSEMBLE). Long documents are identified chunk by chunk (see identifyLong).
 */
export function identify(id: Cld3Identifier | null, raw: string, focus: readonly string[] = [], lid: FastTextIdentifier | null = null): LangGuess {
  const text = languageText(raw);
  const { script, letters } = scriptCounts(text);
  if (letters === 0) return und('Zyyy', 'script');
  const single = SINGLE_LANGUAGE_SCRIPTS[script];
  if (single) return guess(script, [{ lang: single, p: 1 }], 'script', 1, focus);
  if (text.length > LONG_TEXT) return identifyLong(text, script, focus);
  const t = scoreTrigrams(text, script);
  if (!t || t.trigrams === 0) return und(script, 'script');
  const n = t.langs.length;
  const cands = posterior(t.langs, t.scores, focus);
  if (cands[0]!.p >= CONFIDENT || id === null) return guess(script, cands, 'trigram', n, focus);
  if (!lid) {
    // cld3 can only move the two-member decision to a plausible candidate it knows.
    const two = withCld3(cands, cands.some((x) => x.p >= PLAUSIBLE && cld3Knows(x.lang)) ? cld3Guess(id, text) : null);
    return guess(script, two.cands, two.by, n, focus);
  }
  // The cheaper member first: where the trigram model and lid.176 together are confident, cld3 (the
  // slowest member, ~80 us a call) could only move the confidence, and is not asked. A target
  // decision always asks it, since its evidence is the two-member posterior below.
  const ft = lid.predict(text, 5).filter((x) => x.script === null || x.script === script);
  if (focus.length === 0) {
    const fast = combine(t, script, ft, null, focus);
    if (fast[0]!.p >= CONFIDENT) return guess(script, fast, 'trigram+lid', n, focus);
  }
  const c = cld3Guess(id, text);
  // The tag is the three members'; a target decision keeps the two-member posterior: lid.176 does
  // not know most low-resource languages (Twi, Tsonga, Bambara), and mistakes registers of some it
  // names (SIB-200 Yoruba: 0.09 alone), so its evidence must not reject them. Using it where it names
  // the target rejected more Kinyarwanda under a Swahili target, and lost 1.1% of Yoruba.
  return { ...guess(script, combine(t, script, ft, c, focus), 'ensemble', n, focus), focus: focus.length > 0 ? focused(withCld3(cands, c).cands, focus) : [] };
}

/** cld3's evidence on the trigram posterior: its pick, when plausible there, weighted up by its odds. */
function withCld3(cands: Candidate[], c: ReturnType<typeof cld3Guess> | null): { cands: Candidate[]; by: string } {
  if (c === null) return { cands, by: 'trigram' };
  // cld3 knows 107 languages: against a language it could not have named (it calls Tigrinya
  // Amharic, Kirundi Kinyarwanda), its pick needs more confidence and more trigram support.
  const known = CLD3_LANGS.has(cands[0]!.lang);
  const i = c.probability >= (known ? CLD3_MIN : CLD3_MIN_UNKNOWN) ? cands.findIndex((x) => sameLanguage(x.lang, c.lang)) : -1;
  if (i < 0 || cands[i]!.p < (known ? PLAUSIBLE : PLAUSIBLE_UNKNOWN)) return { cands, by: 'trigram' };
  const before = cands[0]!.lang;
  const boosted = cands.map((x, k) => ({ lang: x.lang, p: k === i ? x.p * cld3Odds(c.probability) : x.p }));
  const z = boosted.reduce((a, x) => a + x.p, 0);
  const out = boosted.map((x) => ({ lang: x.lang, p: x.p / z })).sort((a, b) => b.p - a.p);
  return { cands: out, by: out[0]!.lang === before ? 'trigram+cld3' : 'cld3' };
}

/**
 * Weights of the three identifiers where the trigram model is not confident: a log-linear model
 * whose weights were chosen by leave-one-language-out cross-validation on SIB-200 and Tatoeba (44
 * languages; every held-out language's choice, made on the other 43, was this one): the trigram
 * log-likelihood ratio at `beta`, fastText lid.176's log-probability at weight `lid` (a language it
 * does not list gets min(its 5th, 1e-3)), cld3's capped odds for its pick at weight `cld3` when it
 * gives at least `cld3Min`; a language only fastText names starts `outside` below the trigram
 * model's best. `temperature` calibrates the posterior (rows at lang_conf >= 0.9 right >= 90%).
 */
export const ENSEMBLE = { beta: 0.2, lid: 0.8, cld3: 1, cld3Min: 0.5, outside: -5, temperature: 1 };
/** Trigram languages further than this below the best (in the log-linear score) are not candidates. */
const REACH = 20;

/** Indices of a script group's languages that a code names (itself, or its macrolanguage or members), memoized. */
const sameIn = new Map<string, number[]>();
function indicesOf(langs: readonly string[], script: string, code: string): number[] {
  const key = `${script}|${code}`;
  let ix = sameIn.get(key);
  if (!ix) {
    ix = [];
    for (let i = 0; i < langs.length; i++) if (sameLanguage(langs[i]!, code)) ix.push(i);
    sameIn.set(key, ix);
  }
  return ix;
}

/**
 * The identifiers' posterior (see ENSEMBLE) for a text the trigram model alone is not sure of: the
 * trigram scores with lid.176's predictions `ft` (of the text's script), and cld3's pick unless null.
 */
function combine(t: TrigramScores, script: string, ft: readonly Candidate[], c: ReturnType<typeof cld3Guess> | null, focus: readonly string[]): Candidate[] {
  const n = t.langs.length;
  let max = -Infinity;
  for (const v of t.scores) if (v > max) max = v;
  // Trigram languages within reach (and the focus languages) are candidates.
  const keep = new Uint8Array(n);
  for (let i = 0; i < n; i++) if (ENSEMBLE.beta * (t.scores[i]! - max) > -REACH) keep[i] = 1;
  for (const f of focus) for (const i of indicesOf(t.langs, script, f)) keep[i] = 1;
  // lid.176's evidence per candidate; a language it names that is no candidate joins `outside`.
  const lidLog = new Float64Array(n).fill(Math.log(Math.min(ft.at(-1)?.p ?? 1, 1e-3)));
  const extra: { lang: string; lidLog: number }[] = [];
  for (const f of ft) {
    const ix = indicesOf(t.langs, script, f.lang).filter((i) => keep[i]);
    if (ix.length === 0) extra.push({ lang: f.lang, lidLog: Math.log(f.p) });
    for (const i of ix) lidLog[i] = Math.max(lidLog[i]!, Math.log(f.p));
  }
  const cld3Bonus = c !== null && c.probability >= ENSEMBLE.cld3Min ? ENSEMBLE.cld3 * Math.log(cld3Odds(c.probability)) : 0;
  const bonus = new Float64Array(n);
  if (c !== null && cld3Bonus > 0) for (const i of indicesOf(t.langs, script, c.lang)) bonus[i] = cld3Bonus;
  const langs: string[] = [];
  const score: number[] = [];
  for (let i = 0; i < n; i++) {
    if (!keep[i]) continue;
    langs.push(t.langs[i]!);
    score.push(ENSEMBLE.beta * (t.scores[i]! - max) + ENSEMBLE.lid * lidLog[i]! + bonus[i]!);
  }
  for (const x of extra) {
    langs.push(x.lang);
    score.push(ENSEMBLE.outside + ENSEMBLE.lid * x.lidLog + (c !== null && sameLanguage(c.lang, x.lang) ? cld3Bonus : 0));
  }
  let top = -Infinity;
  for (const v of score) if (v > top) top = v;
  const e = score.map((v) => Math.exp(ENSEMBLE.temperature * (v - top)));
  const z = e.reduce((a, b) => a + b, 0);
  const cands: Candidate[] = [];
  e.forEach((x, i) => {
    if (x / z > 1e-4 || focus.some((f) => sameLanguage(f, langs[i]!))) cands.push({ lang: langs[i]!, p: x / z });
  });
  return cands.sort((a, b) => b.p - a.p || (a.lang < b.lang ? -1 : 1));
}

const NOT_LANGUAGE_G = /(?:[a-z][a-z0-9+.-]*:\/\/|www\.)\S+|\S+@\S+\.\w+|@[\p{L}\p{N}_]+/giu;

/**
 * The part of a text that is language: links, e-mail addresses and @handles are removed (a tweet
 * with a dozen "@user" is not Norwegian), and a #hashtag keeps its words.
 */
export function languageText(text: string): string {
  if (text.indexOf('@') < 0 && text.indexOf('#') < 0 && text.indexOf('/') < 0 && text.indexOf('www') < 0) return text;
  return text
    .replace(NOT_LANGUAGE_G, ' ')
    .replace(/#(?=[\p{L}\p{N}])/gu, '')
    .replace(/_/g, ' ');
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
