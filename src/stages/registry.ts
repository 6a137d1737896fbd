import { duplicateIdStage } from './duplicate-ids.js';
import { langIdReferenceStage } from './langid-reference.js';
import { langIdPriorStage } from './langid-prior.js';
import { qualityFitStage } from './quality-fit.js';
import { augmentStage } from './augment.js';
import type { BarrierStage } from './barrier.js';
import { budgetStage } from './budget.js';
import { lexicalDedupStage } from './dedup-lexical.js';
import { selectStage } from './select.js';
import { semanticDedupStage } from './dedup-semantic.js';
import { embedStage } from './embed.js';
export { STREAMING_STAGES } from './streaming.js';

/** Barrier stages in the order they run, after the streaming stages have filled the run store. */
export const BARRIER_STAGES: BarrierStage<object>[] = [
  duplicateIdStage,
  langIdReferenceStage,
  langIdPriorStage,
  qualityFitStage,
  lexicalDedupStage,
  embedStage,
  semanticDedupStage,
  selectStage,
  budgetStage,
  augmentStage,
];
