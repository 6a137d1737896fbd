import { defaultPipeline } from '../config/default-pipeline.js';
import { runPipeline } from '../pipeline/run.js';
import { silentLogger } from '../util/log.js';

/**
 * Runs the default pipeline in a fresh process and prints its figures as JSON, so peak RSS belongs
 * to this run alone.
 */
const [input, out, memoryLimit] = process.argv.slice(2);
const t0 = performance.now();
const loaded = defaultPipeline({ input: [input!], idColumn: 'id', langColumn: 'lang' });
if (memoryLimit) loaded.config.store.memory_limit = memoryLimit;
const s = await runPipeline(loaded, { outDir: out!, log: silentLogger });
process.stdout.write(
  JSON.stringify({
    rows: s.counts.input,
    selected: s.counts.selected,
    seconds: (performance.now() - t0) / 1000,
    stages: s.stages.map((st) => ({ stage: st.stage, seconds: st.seconds })),
    phases: s.phases,
    maxRssMB: process.resourceUsage().maxRSS / 1024,
  }) + '\n',
);
