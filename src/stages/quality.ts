import type { Pipeline } from '../config/schema.js';
import { reject, type Batch } from '../core/batch.js';
import { measureDocument } from '../quality/metrics.js';
import { qualityVerdict } from '../quality/verdict.js';
import { batchStage, type Stage } from './stage.js';

/** The script quality filters hold text to: of the language target, or of the reference language. */
export function targetScript(p: Pipeline): string | null {
  const tags = [...p.stages.langid.target, ...(p.stages.langid.reference ? [p.stages.langid.reference.lang] : [])];
  const scripts = new Set(tags.map((t) => t.split('_')[1]).filter((s): s is string => s !== undefined));
  return scripts.size === 1 ? [...scripts][0]! : null;
}

/**
 * Quality filters, each with its own reason code: boilerplate and markup lines are removed first
 * (the document is rejected only when too little remains), then word counts, mojibake, symbols,
 * digits, implausible words, wrong script, repetition and punctuation are measured on what is left,
 * with words segmented for every script. Measures whose right threshold differs between languages
 * are held here only to their outer bounds; the quality_fit barrier applies per-language thresholds.
 * Every row's measures go to samples.quality (JSON), the deciding one to reason_detail; with
 * `emit_cleaned`, a cleaned row's text is replaced and its original kept in text_original.
 */
export function qualityStage(p: Pipeline): Stage {
  const cfg = p.stages.quality;
  const script = targetScript(p);
  return batchStage((b: Batch) => {
    const out: (string | null)[] = new Array(b.size).fill(null);
    const original: (string | null)[] = new Array(b.size).fill(null);
    const c1 = b.extra.c1_controls;
    for (let i = 0; i < b.size; i++) {
      const t = b.text[i];
      if (b.reason[i] !== null || t === null || t === undefined) continue;
      const d = measureDocument(t, script, cfg.boilerplate_patterns, Number(c1?.[i] ?? 0));
      out[i] = JSON.stringify(d.metrics);
      const v = qualityVerdict(d.metrics, cfg);
      if (v) reject(b, i, v.reason, v.detail);
      else if (cfg.emit_cleaned && d.text !== t) {
        original[i] = t;
        b.text[i] = d.text;
      }
    }
    b.extra.quality = out;
    b.extra.text_original = original;
    return b;
  });
}
