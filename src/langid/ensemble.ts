import { franc, francAll } from 'franc-all';
import { loadModule } from 'cld3-asm';
import { CLD3_TO_ISO3, sameLanguage } from './codes.js';
import { scriptCounts } from './script.js';

export interface LangGuess {
  /** ISO 639-3 plus script, e.g. yor_Latn ('und_Zyyy' when undecidable). */
  tag: string;
  lang: string;
  script: string;
  confidence: number;
  /** Which identifier decided: agree, cld3, franc, script, reference. */
  decidedBy: string;
}

type Cld3Identifier = { findLanguage(text: string): { language: string; probability: number; is_reliable: boolean } };

let cld3: Cld3Identifier | null = null;

const CLD3_LANGS = new Set(Object.values(CLD3_TO_ISO3));
// Thresholds chosen on SIB-200 and Tatoeba fixtures (BENCHMARKS.md shows the per-language table).
const CLD3_MIN = 0.7;
const FRANC_MIN_KNOWN = 0.7;
const FRANC_MIN_UNKNOWN = 0.9;

/** cld3 (WASM, 107 languages) loaded once per process. */
export async function loadCld3(): Promise<Cld3Identifier> {
  if (!cld3) cld3 = (await loadModule()).create(0, 1000) as unknown as Cld3Identifier;
  return cld3;
}

export function cld3Guess(id: Cld3Identifier, text: string): { lang: string; probability: number; reliable: boolean } {
  const r = id.findLanguage(text);
  return { lang: CLD3_TO_ISO3[r.language] ?? 'und', probability: r.probability, reliable: r.is_reliable };
}

export function francGuess(text: string): string {
  return franc(text, { minLength: 3 });
}

/**
 * The ensemble: script first (a text in Ethiopic script is not Swahili), then cld3 and franc.
 * - They agree: that language.
 * - cld3 is confident and franc ranks cld3's language near its top: cld3 (franc confuses short
 *   Swahili, Hausa and English; cld3 does not).
 * - Otherwise franc, which knows 419 languages: when cld3's pick is not among franc's close
 *   candidates, cld3 was most likely forced into the nearest of its 107 (Yoruba -> Vietnamese).
 */
export function identify(id: Cld3Identifier, text: string): LangGuess {
  const { script, letters } = scriptCounts(text);
  if (letters === 0) return { tag: 'und_Zyyy', lang: 'und', script: 'Zyyy', confidence: 0, decidedBy: 'script' };
  const c = cld3Guess(id, text);
  const ranked = francAll(text, { minLength: 3 }).slice(0, 10) as [string, number][];
  const top = ranked[0]?.[0] ?? 'und';
  const francScore = (lang: string): number => ranked.find(([l]) => sameLanguage(l, lang))?.[1] ?? 0;
  let lang: string;
  let confidence: number;
  let decidedBy: string;
  if (top !== 'und' && sameLanguage(top, c.lang)) {
    lang = c.lang;
    confidence = (1 + c.probability) / 2;
    decidedBy = 'agree';
  } else if (c.lang !== 'und' && c.probability >= CLD3_MIN && francScore(c.lang) >= (CLD3_LANGS.has(top) ? FRANC_MIN_KNOWN : FRANC_MIN_UNKNOWN)) {
    // cld3 could have named franc's language and did not: trust it when franc finds its pick plausible.
    // When franc's language is outside cld3's 107, cld3 could not name it: it needs franc's near-full support.
    lang = c.lang;
    confidence = c.probability * francScore(c.lang);
    decidedBy = 'cld3';
  } else if (top !== 'und') {
    lang = top;
    const second = ranked[1]?.[1] ?? 0;
    confidence = Math.max(0.05, Math.min(1, 1 - second + 0.5 * (1 - c.probability * (francScore(c.lang) > 0 ? 1 : 0))));
    decidedBy = 'franc';
  } else {
    lang = c.lang;
    confidence = c.probability;
    decidedBy = 'cld3';
  }
  return { tag: `${lang}_${script}`, lang, script, confidence: Math.round(confidence * 1000) / 1000, decidedBy };
}
