import { lengthFilterStage } from './length-filter.js';
import { langIdStage, preflightLangId } from './langid.js';
import { normalizeStage } from './normalize.js';
import { qualityStage } from './quality.js';
import type { StageDefinition } from './stage.js';
import { tokensStage } from './tokens.js';
import { openTokenCounter } from '../budget/token-count.js';

/**
 * Streaming stages in the order they run. A stage is on when its config block is enabled; the
 * default pipeline (`winnow run --input`) runs every stage with its defaults. Each works batch by
 * batch with no state carried between batches, so the local executor may run them on any worker
 * thread (a stage that needs cross-batch state must not be added here). This module imports only
 * what these stages need: worker threads load it, not the barrier stages' ONNX and DuckDB.
 */
export const STREAMING_STAGES: StageDefinition[] = [
  { name: 'normalize', enabled: (p) => p.stages.normalize.enabled, create: (p) => normalizeStage(p.stages.normalize), columns: [{ name: 'c1_controls', type: 'DOUBLE' }] },
  { name: 'filters', enabled: (p) => p.stages.filters.enabled, create: (p) => lengthFilterStage(p.stages.filters) },
  {
    name: 'langid',
    enabled: (p) => p.stages.langid.enabled,
    create: (p, env) => langIdStage(p.stages.langid, env),
    preflight: (p, env) => preflightLangId(p.stages.langid, env),
    columns: [
      { name: 'lang_pred', type: 'VARCHAR' },
      { name: 'lang_conf', type: 'DOUBLE' },
      { name: 'lang_by', type: 'VARCHAR' },
      { name: 'lang_detail', type: 'VARCHAR' },
      { name: 'lang_shares', type: 'JSON' },
      { name: 'lang_target_llr', type: 'DOUBLE' },
    ],
  },
  {
    name: 'quality',
    enabled: (p) => p.stages.quality.enabled,
    create: (p) => qualityStage(p),
    columns: [
      { name: 'quality', type: 'JSON' },
      { name: 'text_original', type: 'VARCHAR' },
    ],
  },
  // Last: the text is final here (barrier stages do not change it).
  {
    name: 'tokens',
    enabled: (p) => p.stages.budget.tokenizer !== 'none',
    create: (p, env) => tokensStage(p.stages.budget.tokenizer, env),
    // An unreadable tokenizer.json is a config error before any row is read.
    preflight: async (p, env) => void (await openTokenCounter(p.stages.budget.tokenizer, env.baseDir)),
    columns: [{ name: 'tokens', type: 'INTEGER' }],
  },
];
