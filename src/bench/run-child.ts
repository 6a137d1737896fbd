import { defaultPipeline } from '../config/default-pipeline.js';
import { validatePipeline } from '../config/load.js';
import { runPipeline } from '../pipeline/run.js';
import { silentLogger } from '../util/log.js';

/**
 * Runs the default pipeline in a fresh process and prints its figures as JSON, so peak RSS belongs
 * to this run alone.
 */
const [input, out, memoryLimit, overrides] = process.argv.slice(2);
const t0 = performance.now();
const base = defaultPipeline({ input: [input!], idColumn: 'id', langColumn: 'lang' });
// Overrides are a JSON object merged into the default pipeline, validated like any config.
const merged = overrides ? deepMerge(base.config as unknown as Record<string, unknown>, JSON.parse(overrides) as Record<string, unknown>) : base.config;
const loaded = { ...base, config: validatePipeline(merged, 'benchmark overrides') };
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

function deepMerge(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const cur = out[k];
    out[k] = v && typeof v === 'object' && !Array.isArray(v) && cur && typeof cur === 'object' && !Array.isArray(cur) ? deepMerge(cur as Record<string, unknown>, v as Record<string, unknown>) : v;
  }
  return out;
}
