import { mkdirSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { builtinNearDupAuc, builtinProbeAccuracy } from '../../bench/eval/embedding-quality.js';
import { fixture } from '../helpers.js';

// The built-in encoder's quality on real data: an encoder fitted per language, CPU-bound for most of a
// minute, so it runs with the system tests (npm run bench -- embed measures every language).

describe('built-in encoder quality on real data', () => {
  it('linear probe on SIB-200 (train -> test): every script and the weakest languages well above chance (7 topics: 0.14)', async () => {
    // Four of the twelve (npm run bench -- embed measures all of them): Ethiopic script, English, the
    // diacritics of Yoruba and the weakest language, Wolof. Each fits its own encoder (~6 s).
    const langs = ['amh_Ethi', 'eng_Latn', 'yor_Latn', 'wol_Latn'];
    const accs: Record<string, number> = {};
    for (const lang of langs) accs[lang] = await builtinProbeAccuracy(fixture(`sib200/${lang}`) as never);
    const meanAcc = Object.values(accs).reduce((a, b) => a + b, 0) / langs.length;
    console.log(
      `SIB-200 probe accuracy (built-in encoder, dim 256): ${Object.entries(accs)
        .map(([l, a]) => `${l} ${a.toFixed(3)}`)
        .join(', ')}; mean ${meanAcc.toFixed(3)}`,
    );
    mkdirSync('test-output', { recursive: true });
    writeFileSync('test-output/embed-quality-sib200.json', JSON.stringify({ accuracy: accs, mean: meanAcc }, null, 2));
    for (const lang of langs) expect(accs[lang], lang).toBeGreaterThanOrEqual(0.55);
    expect(meanAcc).toBeGreaterThanOrEqual(0.6);
  }, 300_000);

  it('neardup-sentences: cosine separates lexical near-duplicates from neighbouring sentences (ROC AUC >= 0.95)', async () => {
    const docs = new Map(fixture('neardup-sentences/docs').map((d) => [d.id, d.text]));
    const pairs = fixture('neardup-sentences/pairs') as never;
    const { auc, positives, negatives } = await builtinNearDupAuc(docs, pairs);
    console.log(`neardup-sentences: ROC AUC ${auc.toFixed(4)} over ${positives} near-duplicate and ${negatives} neighbouring-sentence pairs`);
    writeFileSync('test-output/embed-quality-neardup.json', JSON.stringify({ auc, positives, negatives }, null, 2));
    expect(auc).toBeGreaterThanOrEqual(0.95);
  }, 120_000);
});
