/**
 * The text two documents are compared on: NFKD, combining marks removed, case folded, and runs of
 * punctuation, symbols and whitespace collapsed to one space. A Yoruba sentence with and without tone
 * marks, or with curly and straight quotes, gets one key.
 */
export interface DedupKeyOptions {
  stripMarks: boolean;
  casefold: boolean;
  collapsePunctuation: boolean;
}

const MARKS = /\p{M}+/gu;
const PUNCT_SPACE = /[\p{P}\p{S}\p{Z}\s\p{Cc}\p{Cf}]+/gu;

export function dedupKey(text: string, o: DedupKeyOptions): string {
  let k = text.normalize('NFKD');
  if (o.stripMarks) k = k.replace(MARKS, '');
  if (o.casefold) k = k.toLowerCase();
  if (o.collapsePunctuation) k = k.replace(PUNCT_SPACE, ' ').trim();
  return k;
}
