import { lengthFilterStage } from './length-filter.js';
import { normalizeStage } from './normalize.js';
import type { BarrierStage } from './barrier.js';
import { budgetStage } from './budget.js';
import { lexicalDedupStage } from './dedup-lexical.js';
import { semanticDedupStage } from './dedup-semantic.js';
import { embedStage } from './embed.js';
import type { StageDefinition } from './stage.js';

/**
 * Streaming stages in the order they run. A stage is on when its config block is enabled; the
 * default pipeline (`winnow run --input`) runs every stage with its defaults.
 */
export const STREAMING_STAGES: StageDefinition[] = [
  { name: 'normalize', enabled: (p) => p.stages.normalize.enabled, create: (p) => normalizeStage(p.stages.normalize) },
  { name: 'filters', enabled: (p) => p.stages.filters.enabled, create: (p) => lengthFilterStage(p.stages.filters) },
];

/** Barrier stages in the order they run, after the streaming stages have filled the run store. */
export const BARRIER_STAGES: BarrierStage[] = [lexicalDedupStage, embedStage, semanticDedupStage, budgetStage];
