import type { z } from 'zod';
import { reject, type Batch } from '../core/batch.js';
import type { FiltersSchema } from '../config/schema.js';
import { codePointLength } from '../util/text.js';
import { isBlank } from './normalize.js';
import { batchStage, type Stage } from './stage.js';

type FiltersConfig = z.output<typeof FiltersSchema>;

/** Minimum and maximum length in characters (code points), with the measured length as the detail. */
export function lengthFilterStage(cfg: FiltersConfig): Stage {
  return batchStage((b: Batch) => {
    for (let i = 0; i < b.size; i++) {
      const t = b.text[i];
      if (b.reason[i] !== null || t === null || t === undefined) continue;
      const n = codePointLength(t);
      // Catches whitespace-only text even when the normalize stage is switched off.
      if (isBlank(t)) reject(b, i, 'empty_text', `${n} whitespace characters`);
      else if (n < cfg.min_chars) reject(b, i, 'too_short', `chars=${n} < ${cfg.min_chars}`);
      else if (n > cfg.max_chars) reject(b, i, 'too_long', `chars=${n} > ${cfg.max_chars}`);
    }
    return b;
  });
}
