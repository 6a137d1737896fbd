import { stripMarks } from '../util/text.js';
import { shuffleInPlace } from '../math/random.js';

/**
 * Augmentation operators that need no model and work in any script: they act on whitespace tokens,
 * sentences split at sentence-final punctuation of many scripts, and Unicode characters. Each is a
 * pure function of (text, strength, rand), so a seeded rand makes it deterministic. They return null
 * when they do not apply (too short, one sentence, nothing to change).
 */
export type Rand = () => number;
export type Operator = (text: string, strength: number, rand: Rand, related?: string) => string | null;

export const OPERATOR_NAMES = ['token_dropout', 'token_swap', 'span_delete', 'span_crop', 'sentence_reorder', 'sentence_window', 'char_noise', 'concat'] as const;
export type OperatorName = (typeof OPERATOR_NAMES)[number];

const tokens = (t: string): string[] => t.split(/\s+/).filter(Boolean);
// Latin, Devanagari danda, Ethiopic full stop / question mark, CJK and Arabic sentence ends.
const SENTENCE = /(?<=[.!?\u0964\u1362\u1367\u3002\uff01\uff1f\u061f]["'\u2019\u201d\u00bb)\]]*)\s+/u;
const sentences = (t: string): string[] => t.split(SENTENCE).filter((s) => s.trim().length > 0);
const changed = (a: string, b: string): string | null => (b.trim().length > 0 && b !== a ? b : null);

/** Each token dropped with probability `strength` (at least one kept). */
const tokenDropout: Operator = (text, p, rand) => {
  const w = tokens(text);
  if (w.length < 4) return null;
  const kept = w.filter(() => rand() >= p);
  return changed(text, (kept.length ? kept : [w[Math.floor(rand() * w.length)]!]).join(' '));
};

/** About strength * n adjacent pairs swapped. */
const tokenSwap: Operator = (text, p, rand) => {
  const w = tokens(text);
  if (w.length < 3) return null;
  const swaps = Math.max(1, Math.round(p * w.length));
  for (let s = 0; s < swaps; s++) {
    const i = Math.floor(rand() * (w.length - 1));
    [w[i], w[i + 1]] = [w[i + 1]!, w[i]!];
  }
  return changed(text, w.join(' '));
};

/** One contiguous span of strength * n tokens deleted. */
const spanDelete: Operator = (text, p, rand) => {
  const w = tokens(text);
  const len = Math.max(1, Math.round(p * w.length));
  if (w.length < 5 || len >= w.length) return null;
  const at = Math.floor(rand() * (w.length - len + 1));
  w.splice(at, len);
  return changed(text, w.join(' '));
};

/** A random crop keeping (1 - strength) of a long document's tokens. */
const spanCrop: Operator = (text, p, rand) => {
  const w = tokens(text);
  if (w.length < 40) return null;
  const keep = Math.max(20, Math.round((1 - p) * w.length));
  const at = Math.floor(rand() * (w.length - keep + 1));
  return changed(text, w.slice(at, at + keep).join(' '));
};

/** The sentences of a document in a new order. */
const sentenceReorder: Operator = (text, _p, rand) => {
  const s = sentences(text);
  if (s.length < 2) return null;
  const before = s.join(' ');
  shuffleInPlace(s, rand);
  // A shuffle can return the original order (half the time with two sentences): rotate then.
  if (s.join(' ') === before) s.push(s.shift()!);
  return changed(text, s.join(' '));
};

/** A window of consecutive sentences, (1 - strength) of them. */
const sentenceWindow: Operator = (text, p, rand) => {
  const s = sentences(text);
  if (s.length < 3) return null;
  const keep = Math.max(1, Math.min(s.length - 1, Math.round((1 - p) * s.length)));
  const at = Math.floor(rand() * (s.length - keep + 1));
  return changed(text, s.slice(at, at + keep).join(' '));
};

/**
 * One typo-like edit of a sequence (letters of a word, words of a text) at a random place: an item
 * deleted (only when at least `minDelete` remain before it), doubled, or swapped with its neighbour
 * (doubled at the end). Edits `items` in place and returns it.
 */
export function typoEdit<T>(items: T[], rand: () => number, minDelete: number): T[] {
  const at = Math.floor(rand() * items.length);
  const kind = Math.floor(rand() * 3);
  if (kind === 0 && items.length >= minDelete) items.splice(at, 1);
  else if (kind === 1) items.splice(at, 0, items[at]!);
  else if (at + 1 < items.length) [items[at], items[at + 1]] = [items[at + 1]!, items[at]!];
  else items.splice(at, 0, items[at]!);
  return items;
}

/**
 * Noise the way low-resource web text is noisy: tone marks and diacritics dropped from some words
 * (Yoruba, Vietnamese-style orthographies are often typed without them), and typo-like edits
 * (a letter deleted, doubled or swapped with its neighbour) in others. Rate = strength per word.
 */
const charNoise: Operator = (text, p, rand) => {
  const parts = text.split(/(\s+)/);
  let touched = false;
  for (let i = 0; i < parts.length; i += 2) {
    const w = parts[i]!;
    if (w.length < 2 || rand() >= p) continue;
    const stripped = stripMarks(w);
    let out = stripped !== w && rand() < 0.6 ? stripped : w;
    if (out === w) out = typoEdit([...w], rand, 3).join('');
    parts[i] = out;
    touched = true;
  }
  return touched ? changed(text, parts.join('')) : null;
};

/** The text followed by a related short text (same label, or its nearest neighbour). */
const concat: Operator = (text, _p, _rand, related) => (related && related !== text ? `${text} ${related}` : null);

export const OPERATORS: Record<OperatorName, Operator> = {
  token_dropout: tokenDropout,
  token_swap: tokenSwap,
  span_delete: spanDelete,
  span_crop: spanCrop,
  sentence_reorder: sentenceReorder,
  sentence_window: sentenceWindow,
  char_noise: charNoise,
  concat,
};
