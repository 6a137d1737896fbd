import type { LangIdConfig } from '../config/schema.js';
import { reject, type Batch } from '../core/batch.js';
import { sameLanguage, languagePart } from '../langid/codes.js';
import { identify, loadCld3 } from '../langid/ensemble.js';
import type { Stage } from './stage.js';

/** Whether a predicted tag matches one of the target tags (a target without script matches any script). */
export function matchesTarget(tag: string, targets: readonly string[]): boolean {
  const [lang, script] = tag.split('_');
  return targets.some((t) => {
    const [tl, ts] = t.split('_');
    return sameLanguage(lang!, languagePart(tl!)) && (ts === undefined || ts === script);
  });
}

/**
 * Language ID on every row: script detection, then the cld3 + franc ensemble. Fills lang_pred
 * (ISO 639-3 plus script, e.g. yor_Latn), lang_conf and lang_by (which identifier decided). With
 * targets and no reference model, rows outside them are rejected as lang_mismatch (action: reject)
 * or kept with their tag (action: tag). With a reference, the decision waits for the
 * corpus-adapted model (a barrier stage), and this stage only tags.
 */
export function langIdStage(cfg: LangIdConfig): Stage {
  return async function* (input) {
    const id = await loadCld3();
    const decide = cfg.target.length > 0 && cfg.action === 'reject' && cfg.reference === undefined;
    for await (const b of input) {
      const pred: (string | null)[] = new Array(b.size).fill(null);
      const conf: (number | null)[] = new Array(b.size).fill(null);
      const by: (string | null)[] = new Array(b.size).fill(null);
      for (let i = 0; i < b.size; i++) {
        const t = b.text[i];
        if (b.reason[i] !== null || t === null || t === undefined) continue;
        const g = identify(id, t);
        pred[i] = g.tag;
        conf[i] = g.confidence;
        by[i] = g.decidedBy;
        if (decide && !(matchesTarget(g.tag, cfg.target) && g.confidence >= cfg.min_confidence)) {
          reject(b, i, 'lang_mismatch', `lang_pred=${g.tag} conf=${g.confidence} (${g.decidedBy}); target ${cfg.target.join(',')}`);
        }
      }
      b.extra.lang_pred = pred;
      b.extra.lang_conf = conf;
      b.extra.lang_by = by;
      yield b satisfies Batch;
    }
  };
}
