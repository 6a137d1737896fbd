import { defaultPipeline } from '../src/config/default-pipeline.js';
import { overlay, type ConfigPatch } from '../src/config/overlay.js';
import { runPipeline } from '../src/pipeline/run.js';
import { silentLogger, type Logger } from '../src/util/log.js';

/**
 * Runs the default pipeline in a fresh process and prints its figures as JSON, so peak RSS belongs
 * to this run alone.
 */
const [input, out, memoryLimit, overrides] = process.argv.slice(2);
const t0 = performance.now();
const base = defaultPipeline({ input: [input!], idColumn: 'id', langColumn: 'lang' });
// Overrides are a JSON object laid over the default pipeline, validated like any config.
const loaded = overlay(base, { ...(overrides ? (JSON.parse(overrides) as ConfigPatch) : {}), store: { memory_limit: memoryLimit || undefined } }, 'benchmark overrides');
// Memory after each phase, from the run's phase_done events (a repeated phase keeps its highest).
const phaseRss: Record<string, { rss_mb: number; peak_rss_mb: number }> = {};
const log: Logger = {
  ...silentLogger,
  event(name, f) {
    if (name !== 'phase_done') return;
    const prev = phaseRss[f.phase as string];
    phaseRss[f.phase as string] = { rss_mb: Math.max(prev?.rss_mb ?? 0, f.rss_mb as number), peak_rss_mb: Math.max(prev?.peak_rss_mb ?? 0, f.peak_rss_mb as number) };
  },
};
const s = await runPipeline(loaded, { outDir: out!, log });
process.stdout.write(
  JSON.stringify({
    rows: s.counts.input,
    selected: s.counts.selected,
    seconds: (performance.now() - t0) / 1000,
    stages: s.stages.map((st) => ({ stage: st.stage, seconds: st.seconds })),
    phases: s.phases,
    phaseRss,
    // MB (10^6 bytes), as the phase_done events count them; maxRSS is in KiB.
    maxRssMB: (process.resourceUsage().maxRSS * 1024) / 1e6,
  }) + '\n',
);
