import { benchBackbone } from './backbone.js';
import { benchBudget } from './budget.js';
import { benchCsv } from './csv.js';
import { benchDedup } from './dedup.js';
import { benchEmbed } from './embed.js';
import { benchE2e } from './e2e.js';
import { benchLake } from './lake.js';
import { benchLangId } from './langid.js';
import { benchQuality } from './quality.js';
import { benchReport } from './report-html.js';
import { benchSelect } from './select.js';
import { benchShard } from './shard.js';
import { benchValue } from './value.js';
import { benchScale } from './scale.js';
import { benchSelectBlocks } from './select-blocks.js';
import { benchAugmentEval, benchSelectEval } from './select-eval.js';

/** `npm run bench` runs every benchmark but `scale`; `npm run bench -- backbone` runs one. */
const BENCHES: Record<string, () => Promise<void>> = {
  backbone: () => benchBackbone(),
  csv: () => benchCsv(),
  embed: () => benchEmbed(),
  dedup: () => benchDedup(),
  budget: () => benchBudget(),
  langid: () => benchLangId(),
  quality: () => benchQuality(),
  select: () => benchSelect(),
  selecteval: () => benchSelectEval(),
  report: () => benchReport(),
  augmenteval: () => benchAugmentEval(),
  lake: () => benchLake(),
  shard: () => benchShard(),
  e2e: () => benchE2e(),
  selectblocks: () => benchSelectBlocks(),
  value: () => benchValue(),
  // Hours on a small machine: only when named.
  scale: () => benchScale(),
};
const NAMED_ONLY = new Set(['scale']);

const wanted = process.argv.slice(2);
for (const name of wanted.length > 0 ? wanted : Object.keys(BENCHES).filter((b) => !NAMED_ONLY.has(b))) {
  const bench = BENCHES[name];
  if (!bench) {
    console.error(`unknown benchmark "${name}"; choose from: ${Object.keys(BENCHES).join(', ')}`);
    process.exit(2);
  }
  console.log(`== ${name}`);
  await bench();
}
console.log('BENCHMARKS.md updated');
