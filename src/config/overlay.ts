import type { LoadedPipeline } from './load.js';
import { validatePipeline } from './load.js';

/** Part of a pipeline config, as a command-line flag or a job sets it: objects merge, anything else replaces. */
export type ConfigPatch = { [key: string]: unknown };

const REPLACE = Symbol('replace');

/** In a patch: this object replaces the config's instead of merging into it (e.g. a budget target). */
export const replaced = (value: ConfigPatch): ConfigPatch => ({ [REPLACE]: value });

/** Objects merge key by key; arrays, scalars and replaced() objects replace; undefined leaves a key alone. */
export function deepMerge(base: ConfigPatch, patch: ConfigPatch): ConfigPatch {
  const out: ConfigPatch = { ...base };
  for (const [k, v] of Object.entries(patch)) {
    if (v === undefined) continue;
    const cur = out[k];
    const isObject = (x: unknown): x is ConfigPatch => x !== null && typeof x === 'object' && !Array.isArray(x);
    if (isObject(v) && REPLACE in v) out[k] = (v as { [REPLACE]: unknown })[REPLACE];
    else out[k] = isObject(v) && isObject(cur) ? deepMerge(cur, v) : v;
  }
  return out;
}

/**
 * A validated config is never changed in place: flags, `winnow merge`, `winnow embed` and the
 * incremental job lay a patch over it and validate the result again, so a flag's bad value is
 * reported with its key path like a bad YAML value, and no later code sees a config that the schema
 * did not check. `why` names the patch's origin in error messages.
 */
export function overlay(loaded: LoadedPipeline, patch: ConfigPatch, why: string): LoadedPipeline {
  const merged = deepMerge(loaded.config as unknown as ConfigPatch, patch);
  return { ...loaded, config: validatePipeline(merged, `${loaded.origin} with ${why}`) };
}
