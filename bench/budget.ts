import { openTokenCounter } from '../src/budget/token-count.js';
import { fixtureSentences } from './corpus.js';
import { fmt, table, writeSection } from './report.js';

/** Token counting throughput per tokenizer on the SIB-200 fixture sentences (12 languages). */
export async function benchBudget(): Promise<void> {
  const texts = fixtureSentences().map((s) => s.text);
  const rows: (string | number)[][] = [];
  for (const name of ['o200k_base', 'cl100k_base', 'whitespace', 'chars']) {
    const counter = await openTokenCounter(name, '.');
    for (const t of texts.slice(0, 500)) counter.count(t);
    let best = Infinity;
    let tokens = 0;
    for (let round = 0; round < 3; round++) {
      const t0 = performance.now();
      tokens = 0;
      for (const t of texts) tokens += counter.count(t);
      best = Math.min(best, (performance.now() - t0) / 1000);
    }
    rows.push([name, fmt(texts.length), fmt(tokens), fmt(best, 2), fmt(texts.length / best), fmt(tokens / best)]);
  }
  writeSection(
    'budget',
    `## Budget: token counting

Counting every text of the 12 SIB-200 fixture languages (${fmt(texts.length)} sentences), best of three passes, one core.

${table(['tokenizer', 'texts', 'tokens', 'seconds', 'texts/s', 'tokens/s'], rows)}`,
  );
}
