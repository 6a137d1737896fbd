import { francAll } from 'franc-all';
import { CLD3_TO_ISO3, sameLanguage } from '../src/langid/codes.js';
import { cld3Guess, type Cld3Identifier } from '../src/langid/ensemble.js';
import { scriptCounts } from '../src/langid/script.js';

const CLD3_LANGS = new Set(Object.values(CLD3_TO_ISO3));

/**
 * The language-ID ensemble winnow shipped before the compiled trigram model (cld3 + franc-all's
 * 419 profiles scored one by one), kept in the benchmark as the baseline it is measured against.
 */
export function legacyIdentify(id: Cld3Identifier, text: string): string {
  const { letters } = scriptCounts(text);
  if (letters === 0) return 'und';
  const c = cld3Guess(id, text);
  const ranked = francAll(text, { minLength: 3 }).slice(0, 10) as [string, number][];
  const top = ranked[0]?.[0] ?? 'und';
  const francScore = (lang: string): number => ranked.find(([l]) => sameLanguage(l, lang))?.[1] ?? 0;
  if (top !== 'und' && sameLanguage(top, c.lang)) return c.lang;
  if (c.lang !== 'und' && c.probability >= 0.7 && francScore(c.lang) >= (CLD3_LANGS.has(top) ? 0.7 : 0.9)) return c.lang;
  return top !== 'und' ? top : c.lang;
}
