import type { z } from 'zod';
import { reject, type Batch } from '../core/batch.js';
import type { NormalizeSchema } from '../config/schema.js';
import { batchStage, type Stage } from './stage.js';

type NormalizeConfig = z.output<typeof NormalizeSchema>;

// C0/C1 controls except \t and \n, plus BOM/zero-width no-break space, which web text carries around.
const CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F\uFEFF]/g;
const HSPACE = /[ \t\u00A0\u1680\u2000-\u200A\u202F\u205F\u3000]+/g;
const AROUND_NEWLINE = / ?\n ?/g;
const MANY_NEWLINES = /\n{3,}/g;
// Only spaces and invisible format characters (ZWSP, ZWJ, bidi marks...): nothing a reader could see.
const INVISIBLE_ONLY = /^[\p{White_Space}\p{Cf}]*$/u;

/** True when the text has no visible character. Zero-width characters are kept inside text (Khmer,
 * Myanmar and Thai use ZWSP between words) but a text made only of them is empty. */
export function isBlank(text: string): boolean {
  return INVISIBLE_ONLY.test(text);
}

// Anything the whitespace/control rules would change; most texts have none, and skip the rewrites.
const NEEDS_WORK = /[\u0000-\u001F\u007F-\u00A0\u1680\u2000-\u200A\u202F\u205F\u3000\uFEFF]| {2}|^ | $/;

export function normalizeText(text: string, cfg: NormalizeConfig): string {
  let t = cfg.form !== 'none' ? text.normalize(cfg.form) : text;
  if (!NEEDS_WORK.test(t)) return t;
  if (t.indexOf('\r') >= 0) t = t.replace(/\r\n?/g, '\n');
  if (cfg.strip_control) t = t.replace(CONTROL, '');
  if (cfg.collapse_whitespace) {
    t = t.replace(HSPACE, ' ');
    if (t.indexOf('\n') >= 0) t = t.replace(AROUND_NEWLINE, '\n').replace(MANY_NEWLINES, '\n\n');
    t = t.trim();
  }
  return t;
}

const C1_G = /[\u0080-\u009F]/g;

/**
 * Unicode NFC, control characters and whitespace; text that ends up empty is rejected as
 * `empty_text`. The C1 controls removed from each row are counted (samples.c1_controls): clean
 * text has none, while UTF-8 decoded as Latin-1 puts them in most multi-byte characters, so the
 * quality stage's mojibake measure needs them once they are gone from the text.
 */
export function normalizeStage(cfg: NormalizeConfig): Stage {
  return batchStage((b: Batch) => {
    const c1: (number | null)[] = new Array(b.size).fill(null);
    for (let i = 0; i < b.size; i++) {
      const t = b.text[i];
      if (b.reason[i] !== null || t === null || t === undefined) continue;
      const n = normalizeText(t, cfg);
      if (cfg.strip_control && n.length !== t.length) c1[i] = t.match(C1_G)?.length ?? 0;
      b.text[i] = n;
      if (isBlank(n)) reject(b, i, 'empty_text', t.length === 0 ? 'empty string' : `${t.length} whitespace/control characters`);
    }
    b.extra.c1_controls = c1;
    return b;
  });
}
