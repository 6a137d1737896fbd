/**
 * Rejection reason codes. Every input record ends either `selected` or `rejected` with exactly one
 * of these, so counts reconcile: input = selected + sum(rejected by reason).
 * Stages added later register their own codes here so docs/outputs.md and the report can list them.
 */
export const REASONS = {
  invalid_json: 'the line is not valid JSON (or not a JSON object)',
  invalid_utf8: 'the bytes are not valid UTF-8',
  lone_surrogate: 'the text or id holds an unpaired UTF-16 surrogate (a JSON "\\ud800" escape without its partner), which UTF-8 cannot store unchanged',
  malformed_row: 'the CSV/TSV row could not be parsed (wrong column count, unterminated quote)',
  oversized_row: 'the raw row is larger than limits.max_row_bytes',
  missing_text: 'the text column is absent or null in this row',
  non_string_text: 'the text column holds a number, boolean, list or object instead of a string',
  empty_text: 'the text is empty or only whitespace/control characters after normalization',
  truncated_file: 'the file ended early or could not be decompressed past this point',
  corrupt_file: 'the compressed file fails its check (CRC-32 or length), or bytes after its gzip data are not gzip; the rows decoded before are kept',
  where_filter: "the row did not match the source's `where` filter",
  duplicate_id: 'an earlier row of the run has the same id (limits.duplicate_ids: keep_first)',
  too_short: 'the text is shorter than filters.min_chars',
  too_long: 'the text is longer than filters.max_chars',
  lang_mismatch: 'the language identified (lang_pred, lang_conf) is not a target language',
  too_few_words: 'fewer words than quality.min_words',
  too_many_words: 'more words than quality.max_words',
  word_length: 'mean word length outside the bounds fitted for its language (quality.min/max_mean_word_length at the strictest)',
  symbol_ratio: 'too many characters in symbols or symbol-only words (standalone punctuation, emoji, links and handles do not count)',
  digit_ratio: 'too many digits',
  gibberish: 'too many words with no vowel or 5 consonants in a row (random strings, keyboard mash; Latin, Cyrillic, Greek)',
  mojibake: 'UTF-8 text decoded as Latin-1/Windows-1252 ("Ã©", "â€™")',
  wrong_script: 'too many letters outside the target script',
  boilerplate: 'nothing (or fewer than quality.min_words words) left once boilerplate lines (cookie, copyright, link-only, navigation) are removed',
  markup: 'nothing (or fewer than quality.min_words words) left once HTML/JavaScript lines are removed',
  repetition: 'repeated lines or a dominating repeated n-gram (Gopher-style)',
  punct_lines: 'too few lines end in punctuation (multi-line documents)',
  exact_dup: 'the same dedup key as a kept row (dup_of)',
  near_dup: 'a near-duplicate (character-shingle Jaccard at or above the threshold) of a kept row (dup_of)',
  over_budget: 'not needed to fill the token budget (lower value than the rows selected)',
  over_doc_share: 'one document alone would take more than budget.max_doc_share of the token target, and is far longer than the rest of the pool',
  semantic_dup: 'embedding cosine above 1 - eps to a kept row of its cluster (dup_of)',
} as const;

export type Reason = keyof typeof REASONS;

/**
 * A row no stage has rejected: before the budget, in the pool a barrier stage works on; after it,
 * in the selection. Every SQL string that means "alive" says it through these.
 */
export const ALIVE = `status = 'selected'`;
export const alive = (table: string): string => `${table}.${ALIVE}`;

/**
 * Rows that passed every filter and dedup: selected, or left out only by the token budget. They are
 * the ones worth labelling, charting as "kept", and guarding augmentations against.
 */
export const KEPT_SQL = `(${ALIVE} OR reason IN ('over_budget', 'over_doc_share'))`;
