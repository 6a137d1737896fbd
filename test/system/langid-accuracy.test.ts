import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { languagePart, sameLanguage } from '../../src/langid/codes.js';
import { CharLm, ReferenceLanguageModel } from '../../src/langid/char-lm.js';
import { cld3Guess, francGuess, identify, loadCld3 } from '../../src/langid/ensemble.js';
import { scriptCounts } from '../../src/langid/script.js';
import { FIXTURES, fixture } from '../helpers.js';
import { BUNDLED_LID176, loadFastText } from '../../src/langid/fasttext.js';

const SIB = ['amh_Ethi', 'eng_Latn', 'hau_Latn', 'ibo_Latn', 'kin_Latn', 'lin_Latn', 'quy_Latn', 'swh_Latn', 'tir_Ethi', 'wol_Latn', 'yor_Latn', 'zul_Latn'];

// Accuracy evaluations over every fixture language (npm run bench -- langid has the full tables):
// CPU-bound for half a minute, so they run with the system tests.

describe('language ID accuracy', () => {
  it('the ensemble beats each packaged identifier alone on SIB-200 (12) and Tatoeba (32 languages), and lid.176 adds to it', async () => {
    const id = await loadCld3();
    const lid = await loadFastText(BUNDLED_LID176);
    type Acc = [number, number, number, number, number];
    const report: Record<string, { langs: Record<string, Acc>; macro: Acc }> = {};
    for (const set of ['sib200', 'tatoeba-laser']) {
      const files = readdirSync(path.join(FIXTURES, set))
        .filter((f) => f.endsWith('.jsonl.gz'))
        .sort();
      const langs: Record<string, Acc> = {};
      for (const f of files) {
        const rows = fixture(`${set}/${f.replace('.jsonl.gz', '')}`).slice(0, 200);
        const gold = languagePart(rows[0]!.lang);
        const acc: Acc = [0, 0, 0, 0, 0];
        for (const r of rows) {
          if (sameLanguage(identify(id, r.text, [], lid).lang, gold)) acc[0]++;
          if (sameLanguage(identify(id, r.text).lang, gold)) acc[1]++;
          if (sameLanguage(cld3Guess(id, r.text).lang, gold)) acc[2]++;
          if (sameLanguage(francGuess(r.text), gold)) acc[3]++;
          if (sameLanguage(lid.predict(r.text, 1)[0]?.lang ?? 'und', gold)) acc[4]++;
        }
        langs[rows[0]!.lang] = acc.map((a) => a / rows.length) as Acc;
      }
      const values = Object.values(langs);
      const macro = [0, 1, 2, 3, 4].map((k) => values.reduce((s, v) => s + v[k]!, 0) / values.length) as Acc;
      report[set] = { langs, macro };
      console.log(
        `${set} language ID accuracy (ensemble / without lid.176 / cld3 / franc / lid.176), macro ${macro.map((m) => m.toFixed(3)).join(' / ')}:\n${Object.entries(langs)
          .map(([l, a]) => `  ${l.padEnd(9)} ${a.map((x) => x.toFixed(2)).join(' / ')}`)
          .join('\n')}`,
      );
      for (const k of [2, 3, 4] as const) expect(macro[0]).toBeGreaterThan(macro[k]);
      expect(macro[0]).toBeGreaterThanOrEqual(macro[1]);
    }
    // On Tatoeba, where lid.176 knows most languages, the third member is worth several points.
    expect(report['tatoeba-laser']!.macro[0] - report['tatoeba-laser']!.macro[1]).toBeGreaterThan(0.05);
    mkdirSync('test-output', { recursive: true });
    writeFileSync('test-output/langid-accuracy.json', JSON.stringify(report, null, 2));
  }, 300_000);
});

describe('corpus-adapted language ID with 300 reference sentences', () => {
  it('precision and recall >= 0.95 for every SIB-200 language (yor_Latn included)', () => {
    const data = Object.fromEntries(SIB.map((l) => [l, fixture(`sib200/${l}`)]));
    const corpus = SIB.flatMap((l) => data[l]!.filter((r) => r.split !== 'train').map((r) => ({ lang: l, text: r.text })));
    const background = new CharLm(4).fit(corpus.map((c) => c.text));
    const lines: string[] = [];
    for (const L of SIB) {
      const ref = data[L]!.filter((r) => r.split === 'train')
        .slice(0, 300)
        .map((r) => r.text);
      // The stage's recipe: 1st percentile of 3-fold held-out reference scores minus 0.1.
      const held: number[] = [];
      for (let f = 0; f < 3; f++) {
        const m = new ReferenceLanguageModel(new CharLm(4).fit(ref.filter((_, i) => i % 3 !== f)), background);
        ref.forEach((t, i) => i % 3 === f && held.push(m.score(t, false)));
      }
      held.sort((a, b) => a - b);
      const thr = held[Math.floor(held.length * 0.01)]! - 0.1;
      const model = new ReferenceLanguageModel(new CharLm(4).fit(ref), background);
      const script = scriptCounts(ref.join(' ')).script;
      let tp = 0;
      let fp = 0;
      let fn = 0;
      for (const c of corpus) {
        const yes = scriptCounts(c.text).script === script && model.score(c.text, true) > thr;
        if (yes && c.lang === L) tp++;
        else if (yes) fp++;
        else if (c.lang === L) fn++;
      }
      const p = tp / (tp + fp);
      const r = tp / (tp + fn);
      lines.push(`  ${L} precision ${p.toFixed(3)} recall ${r.toFixed(3)}`);
      expect(p, L).toBeGreaterThanOrEqual(0.95);
      expect(r, L).toBeGreaterThanOrEqual(0.95);
    }
    console.log(`corpus-adapted language ID (300 reference sentences, ${corpus.length} dev+test sentences of 12 languages):\n${lines.join('\n')}`);
  }, 120_000);
});
