import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { languagePart, sameLanguage } from '../langid/codes.js';
import { cld3Guess, francGuess, identify, loadCld3 } from '../langid/ensemble.js';
import { PROJECT_ROOT } from '../util/versions.js';
import { fixtureSentences } from './corpus.js';
import { fmt, table, writeSection } from './report.js';

function rowsOf(file: string): { lang: string; text: string }[] {
  return gunzipSync(readFileSync(file))
    .toString('utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { lang: string; text: string });
}

/** Language ID accuracy per language (ensemble vs each identifier) and samples/s of both stages. */
export async function benchLangId(): Promise<void> {
  const id = await loadCld3();
  const sections: string[] = [];
  for (const set of ['sib200', 'tatoeba-laser']) {
    const dir = path.join(PROJECT_ROOT, 'test', 'fixtures', set);
    const rows: (string | number)[][] = [];
    const sums = [0, 0, 0];
    const files = readdirSync(dir).filter((f) => f.endsWith('.jsonl.gz')).sort();
    for (const f of files) {
      const data = rowsOf(path.join(dir, f)).slice(0, 200);
      const gold = languagePart(data[0]!.lang);
      const acc = [0, 0, 0];
      for (const r of data) {
        if (sameLanguage(identify(id, r.text).lang, gold)) acc[0]!++;
        if (sameLanguage(cld3Guess(id, r.text).lang, gold)) acc[1]!++;
        if (sameLanguage(francGuess(r.text), gold)) acc[2]!++;
      }
      acc.forEach((a, k) => (sums[k]! += a / data.length));
      rows.push([data[0]!.lang, ...acc.map((a) => fmt(a / data.length, 2))]);
    }
    rows.push(['**macro average**', ...sums.map((s) => `**${fmt(s / files.length, 3)}**`)]);
    sections.push(`### ${set} (200 sentences per language)\n\n${table(['language', 'ensemble', 'cld3 alone', 'franc-all alone'], rows)}`);
  }
  const texts = fixtureSentences().map((s) => s.text);
  let t0 = performance.now();
  for (const t of texts) identify(id, t);
  const lidPerSec = texts.length / ((performance.now() - t0) / 1000);
  writeSection(
    'langid',
    `## Language ID

Accuracy of the language-ID stage (script detection + cld3-asm + franc-all ensemble) against each packaged
identifier alone, counting a prediction right when it names the gold language or a member/macrolanguage of it
(e.g. kmr for kur).

${sections.join('\n\n')}

Throughput on the ${fmt(texts.length)} SIB-200 fixture sentences, one core: language ID **${fmt(lidPerSec)} samples/s**
(franc-all's 419 trigram models dominate).

Corpus-adapted language ID (300 reference sentences, character 4-gram model against a leave-one-out background
model of the corpus): precision and recall per SIB-200 language are printed by the test suite (test/langid);
last run: precision 0.962-1.000, recall 0.957-0.993 over the 12 languages, yor_Latn 1.000 / 0.983. The
quality filters have their own section (\`npm run bench -- quality\`).`,
  );
}
