import { z } from 'zod';
import { SIZE_PATTERN } from '../core/memory.js';
import { OPERATOR_NAMES } from '../augment/operators.js';

/**
 * The pipeline config, as written in `pipelines/*.yaml`. Every object is strict: an unknown key is an
 * error naming its path, because a misspelt option silently ignored is a wrong dataset shipped.
 */

const sourceName = z.string().regex(/^[A-Za-z0-9_.-]+$/, 'use letters, digits, "_", "-" or "." only (it becomes part of derived ids)');

export const ColumnsSchema = z.strictObject({
  text: z.string().min(1).default('text'),
  id: z.string().min(1).optional(),
  lang: z.string().min(1).optional(),
  label: z.string().min(1).optional(),
  /** Columns copied through to the outputs unchanged. */
  metadata: z.array(z.string().min(1)).default([]),
});

export const FORMATS = ['auto', 'jsonl', 'csv', 'tsv', 'parquet', 'text'] as const;

export const SourceSchema = z.strictObject({
  name: sourceName,
  /** A file, a folder (read recursively) or a glob with `*`, `?`, `**`, `{a,b}`; or a list of them. */
  path: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]),
  format: z.enum(FORMATS).default('auto'),
  /** Plain text only: one document per line, or one per file. */
  text_unit: z.enum(['line', 'file']).default('line'),
  columns: ColumnsSchema.default(ColumnsSchema.parse({})),
  /** A DuckDB SQL boolean expression over the source's columns; rows where it is not true are rejected. */
  where: z.string().min(1).optional(),
  /** A language code for every row of this source (used when the data has no language column). */
  lang: z.string().min(1).optional(),
  /**
   * The label space of this source's labels. Sources with the same label_set train one probe; by
   * default sources whose label values overlap share one, and the others train their own.
   */
  label_set: sourceName.optional(),
  csv: z
    .strictObject({
      delimiter: z.string().min(1).max(4).optional(),
      header: z.boolean().default(true),
      /**
       * The quote character; '' turns quoting off. Default: '"' for CSV, none for TSV, where tweets
       * and transcripts begin with a quote that is text (one unterminated quote would swallow the file).
       */
      quote: z.string().max(1).optional(),
    })
    .optional(),
});

export const NormalizeSchema = z.strictObject({
  enabled: z.boolean().default(true),
  /** Unicode normalization form applied to the text. NFC keeps text as users typed it, composed. */
  form: z.enum(['NFC', 'NFKC', 'none']).default('NFC'),
  /** Collapse runs of spaces and tabs to one space and trim each line; keeps line breaks. */
  collapse_whitespace: z.boolean().default(true),
  /** Remove C0/C1 control characters (except newline and tab), zero-width no-break spaces and BOMs. */
  strip_control: z.boolean().default(true),
});

export const FiltersSchema = z.strictObject({
  enabled: z.boolean().default(true),
  min_chars: z.number().int().min(0).default(1),
  max_chars: z.number().int().min(1).default(1_000_000),
});

export const BuiltinEncoderSchema = z.strictObject({
  /** Embedding dimension (rank of the truncated SVD). */
  dim: z.number().int().min(2).max(4096).default(256),
  /** Hash buckets for character n-grams; the projection has buckets x dim floats. */
  buckets: z
    .number()
    .int()
    .min(256)
    .max(1 << 22)
    .default(1 << 16),
  min_n: z.number().int().min(1).max(10).default(1),
  max_n: z.number().int().min(1).max(10).default(5),
  lowercase: z.boolean().default(true),
  /** Also hash whole words as features. */
  words: z.boolean().default(true),
  /** Texts the encoder is fitted on (an even stride through the corpus). */
  fit_sample: z.number().int().min(10).default(10_000),
});

export const TransformersSchema = z.strictObject({
  pooling: z.enum(['mean', 'cls']).default('mean'),
  normalize: z.boolean().default(true),
  max_length: z.number().int().min(8).max(8192).default(256),
});

export const EmbedSchema = z
  .strictObject({
    enabled: z.boolean().default(true),
    /** "builtin" (fitted to the corpus), a model directory (built-in or Hugging Face layout), or a Hub id. */
    model: z.string().min(1).default('builtin'),
    /** Hub ids download only when this is true (needs internet). */
    allow_download: z.boolean().default(false),
    device: z.enum(['auto', 'cpu', 'cuda']).default('auto'),
    /** onnxruntime intra-op threads; 0 = one per core. */
    threads: z.number().int().min(0).max(256).default(0),
    batch_size: z.number().int().min(1).max(4096).default(64),
    /** Batches being encoded at once (bounded, so memory stays flat). */
    in_flight: z.number().int().min(1).max(16).default(2),
    /** Storage type of embeddings in the run store and cache. */
    dtype: z.enum(['float32', 'float16']).default('float32'),
    /** true: the user cache folder; false: no cache; a path: that folder. */
    cache: z.union([z.boolean(), z.string().min(1)]).default(true),
    /** The cache folder's size cap: least recently used encoders' files are removed beyond it. */
    cache_limit: z.string().regex(SIZE_PATTERN, 'a size such as "2GB" or "500MB"').default('2GB'),
    builtin: BuiltinEncoderSchema.default(BuiltinEncoderSchema.parse({})),
    transformers: TransformersSchema.default(TransformersSchema.parse({})),
  })
  .refine((e) => e.builtin.min_n <= e.builtin.max_n, { path: ['builtin', 'min_n'], message: 'min_n must not exceed max_n' });

const langTag = z.string().regex(/^[a-z]{2,3}(_[A-Z][a-z]{3})?$/, 'an ISO 639-3 code with optional script, e.g. yor_Latn or yor');

export const LangIdSchema = z
  .strictObject({
    enabled: z.boolean().default(true),
    /** Languages to keep (e.g. [yor_Latn]); empty: tag every row, reject none. */
    target: z.array(langTag).default([]),
    /**
     * How sure the identifier must be that a row is none of the targets (nor a language confusable
     * with one) before it is rejected: the calibrated probability of the target languages must be
     * below 1 - min_confidence. In strict mode: the confidence a target prediction needs to be kept.
     */
    min_confidence: z.number().min(0).max(1).default(0.95),
    /**
     * The share of the corpus the targets are expected to be: the prior a target decision uses.
     * `auto`: fitted from the corpus (EM over every row's evidence, see langid/target-prior.ts),
     * never below 0.5 nor above 0.99; a corpus mostly in the target language then keeps its weak rows.
     */
    target_prior: z.union([z.number().gt(0).lt(1), z.literal('auto')]).default('auto'),
    /**
     * strict: keep only rows predicted as a target language with min_confidence (the old rule;
     * confusable languages and close candidates are rejected). Default: reject only on confident
     * evidence of another language.
     */
    strict: z.boolean().default(false),
    /** What happens to rows not in a target language: reject (lang_mismatch) or keep with their tag. */
    action: z.enum(['reject', 'tag']).default('reject'),
    /**
     * The identifier: `builtin` (script, compiled trigram profiles of 419 languages, and where those
     * are not confident cld3 and fastText lid.176 as fasttext.wasm.js ships it), `builtin-fast`
     * (without lid.176: about 1.8x faster on short rows, less accurate on languages lid.176 knows), a
     * fastText model alone (`fasttext:<path to .bin/.ftz>`, e.g. GlotLID or OpenLID), or both
     * (`builtin+fasttext:<path>`: the fastText model decides where it is confident).
     */
    model: z
      .string()
      .regex(/^(builtin|builtin-fast|fasttext:.+|builtin\+fasttext:.+)$/, 'builtin, builtin-fast, fasttext:<path> or builtin+fasttext:<path>')
      .default('builtin'),
    /** A few hundred sentences of the target language: fits a character model that decides membership. */
    reference: z
      .strictObject({
        path: z.string().min(1),
        /** The reference's language tag (what matching rows are tagged). */
        lang: langTag,
        text_column: z.string().min(1).default('text'),
        /** Threshold margin below the 1st percentile of held-out reference scores (nats per character). */
        margin: z.number().min(0).default(0.1),
      })
      .optional(),
  })
  .prefault({});

export const QualityOuterSchema = z.strictObject({
  min_mean_word_length: z.number().min(0).default(1),
  max_mean_word_length: z.number().min(1).default(40),
  max_symbol_ratio: z.number().min(0).max(1).default(0.5),
  max_digit_ratio: z.number().min(0).max(1).default(0.6),
  max_gibberish_ratio: z.number().min(0).max(1).default(0.7),
});

export const QualitySchema = z
  .strictObject({
    enabled: z.boolean().default(true),
    /** Bounds on words (segmented for unspaced scripts; links, handles, emoji and punctuation are not words; null switches a check off). */
    min_words: z.number().int().min(0).nullable().default(1),
    max_words: z.number().int().min(1).nullable().default(100_000),
    /** Mean word length in letters; wide bounds because agglutinative languages have long words. */
    min_mean_word_length: z.number().min(0).nullable().default(1.5),
    max_mean_word_length: z.number().min(1).nullable().default(25),
    /** Share of characters (outside links, handles, emoji) in symbol words or symbols; standalone punctuation is not a symbol. */
    max_symbol_ratio: z.number().min(0).max(1).nullable().default(0.3),
    /** Share of characters that are digits. */
    max_digit_ratio: z.number().min(0).max(1).nullable().default(0.35),
    /** Share of 3+-letter words (Latin, Cyrillic, Greek) that no orthography writes (no vowel, 5 consonants in a row, a vowel share under 0.2 over 6+ letters), once a text has `min_gibberish_words` of them. */
    max_gibberish_ratio: z.number().min(0).max(1).nullable().default(0.4),
    min_gibberish_words: z.number().int().min(1).default(3),
    /** Share of letters that are UTF-8 read as Latin-1/Windows-1252 ("Ã©", "â€™"). */
    max_mojibake_ratio: z.number().min(0).max(1).nullable().default(0.01),
    /** Documents of at least `min_lines` lines: minimum share of lines ending in punctuation. */
    min_punct_line_ratio: z.number().min(0).max(1).nullable().default(0.1),
    min_lines: z.number().int().min(1).default(3),
    /** Gopher repetition: share of duplicated lines, and of characters in the most frequent 2/3/4-word n-gram (seen 3+ times). */
    max_dup_line_ratio: z.number().min(0).max(1).nullable().default(0.3),
    max_top_ngram_ratio: z
      .tuple([z.number().min(0).max(1), z.number().min(0).max(1), z.number().min(0).max(1)])
      .nullable()
      .default([0.2, 0.18, 0.16]),
    /** Texts of 100+ characters: minimum share of distinct character 4-grams (one word repeated without spaces has almost none). */
    min_distinct_char_ngrams: z.number().min(0).max(1).nullable().default(0.1),
    /** Share of letters outside the target script (from langid.target or the reference). */
    max_wrong_script_ratio: z.number().min(0).max(1).nullable().default(0.2),
    /**
     * Short lines (20 words or fewer) containing any of these (case-insensitive) are boilerplate and
     * removed, as are link-only lines, navigation menus and HTML/JavaScript lines; a document is
     * rejected only when fewer than `min_words` words remain.
     */
    boilerplate_patterns: z
      .array(z.string().min(1))
      .default([
        '©',
        'cookie',
        'copyright',
        'all rights reserved',
        'privacy policy',
        'terms of use',
        'terms of service',
        'subscribe',
        'newsletter',
        'share this',
        'share on',
        'follow us',
        'sign in',
        'log in',
        'javascript',
      ]),
    /** Emit the cleaned text (removed lines gone); the original stays in samples.text_original. */
    emit_cleaned: z.boolean().default(true),
    /**
     * Thresholds from the corpus: per language (the input's lang column, else lang_pred; the script
     * when a language has under `min_rows` rows), a measure's threshold is Q3 + k x IQR of that
     * group, never stricter than the defaults above and never looser than `outer`.
     */
    adapt: z
      .strictObject({
        enabled: z.boolean().default(true),
        k: z.number().positive().default(4),
        min_rows: z.number().int().min(1).default(50),
        outer: QualityOuterSchema.prefault({}),
      })
      .prefault({}),
  })
  .prefault({});

export const DedupSchema = z.strictObject({
  /** Which member of a duplicate cluster is kept: the first seen (lowest uid) or the longest text. */
  keep: z.enum(['first', 'longest']).default('first'),
  key: z
    .strictObject({
      strip_marks: z.boolean().default(true),
      casefold: z.boolean().default(true),
      collapse_punctuation: z.boolean().default(true),
    })
    .default({ strip_marks: true, casefold: true, collapse_punctuation: true }),
  exact: z.strictObject({ enabled: z.boolean().default(true) }).default({ enabled: true }),
  near: z
    .strictObject({
      enabled: z.boolean().default(true),
      /** Jaccard similarity of character shingles at or above which two texts are near-duplicates. */
      threshold: z.number().min(0.05).max(1).default(0.7),
      num_perm: z.number().int().min(8).max(1024).default(128),
      /** Character shingle length (works for scripts without spaces). */
      shingle: z.number().int().min(1).max(32).default(5),
      /**
       * How LSH candidate pairs are checked before merging: `signature` estimates their Jaccard from
       * 8-bit MinHash fingerprints kept in memory (fast, 1 byte per permutation and document),
       * `jaccard` computes the true Jaccard of hashed shingles (reads candidate texts back), `none`
       * merges every candidate.
       */
      verify: z.enum(['signature', 'jaccard', 'none']).default('signature'),
    })
    .default({ enabled: true, threshold: 0.7, num_perm: 128, shingle: 5, verify: 'signature' }),
  semantic: z
    .strictObject({
      enabled: z.boolean().default(false),
      /** Drop a sample whose cosine to a kept sample exceeds 1 - eps. */
      eps: z.number().min(0).max(1).default(0.05),
      /** k-means clusters; 0 chooses about sqrt(n). */
      clusters: z.number().int().min(0).default(0),
      /** Pairs across languages: drop them like any duplicate, or flag them (dup_kind cross_lingual) and keep both. */
      cross_lingual: z.enum(['drop', 'flag']).default('flag'),
    })
    .default({ enabled: false, eps: 0.05, clusters: 0, cross_lingual: 'flag' }),
  /** Earlier run folders (or results.duckdb files) whose kept texts this run must not admit again. */
  against: z.array(z.string().min(1)).default([]),
  /**
   * Copy the earlier runs' index into this run's dedup_index too, so naming the latest run in
   * `against` is enough. A `--state` run keeps the index in its state store and turns this off.
   */
  carry_index: z.boolean().default(true),
});

const positive = z.number().positive();

export const BudgetSchema = z
  .strictObject({
    /** How training tokens are counted: o200k_base, cl100k_base, chars, whitespace, a tokenizer.json / model folder path, or none (no counting, no budget). */
    tokenizer: z.string().min(1).default('o200k_base'),
    /** Size the selection: exactly one of tokens, params or flops (none: count tokens, select everything). */
    target: z
      .strictObject({
        // Bounds far beyond any corpus or model, but inside the 64-bit integers the store counts tokens in.
        tokens: positive.max(1e15, 'at most 1e15 tokens').optional(),
        params: positive.max(1e15, 'at most 1e15 parameters').optional(),
        flops: positive.max(1e32, 'at most 1e32 FLOPs').optional(),
      })
      .refine((t) => [t.tokens, t.params, t.flops].filter((v) => v !== undefined).length <= 1, { message: 'give only one of tokens, params or flops' })
      .default({}),
    rule: z.enum(['chinchilla', 'chinchilla-fit', 'datablations']).default('chinchilla'),
    /** D/N of the chinchilla rule. */
    tokens_per_param: positive.default(20),
    quota: z
      .strictObject({
        /** Quota groups: by language, by source, or none. */
        by: z.enum(['lang', 'source', 'none']).default('lang'),
        /** Temperature alpha of p ~ n^alpha across groups (1 = proportional to the tokens each has; 0.3 as in multilingual LMs). */
        temperature: z.number().min(0).max(1).default(0.3),
        /**
         * Within each group, each quarter of the rows by length gets the share of the group's quota it
         * holds of the group's tokens: the selection's lengths follow the pool's. false: value alone decides.
         */
        length: z.boolean().default(true),
      })
      .default({ by: 'lang', temperature: 0.3, length: true }),
    /**
     * No single document may take more than this share of the token target, unless it is within the
     * pool's usual lengths (up to Q3 + 3 IQR of the rows' tokens): a small target must not cut every long row.
     */
    max_doc_share: z.number().gt(0).max(1).default(0.01),
    /**
     * The order the fill spends tokens in. `value`: the selection's value, whatever a row's length
     * (the selected rows' length follows the pool's). `value_per_token`: value divided by tokens,
     * which packs more rows into the budget and so prefers short ones.
     */
    order: z.enum(['value', 'value_per_token']).default('value'),
  })
  .refine((b) => b.tokenizer !== 'none' || Object.keys(b.target).length === 0, { path: ['tokenizer'], message: 'a budget target needs a tokenizer (not none)' })
  .default({ tokenizer: 'o200k_base', target: {}, rule: 'chinchilla', tokens_per_param: 20, quota: { by: 'lang', temperature: 0.3, length: true }, max_doc_share: 0.01, order: 'value' });

export const SELECT_STRATEGIES = ['random', 'entropy', 'margin', 'bald', 'kcenter', 'typical', 'badge', 'hybrid'] as const;

export const SelectSchema = z
  .strictObject({
    /** Runs when the embed stage runs: without embeddings there is nothing to measure diversity in. */
    enabled: z.boolean().default(true),
    strategy: z.enum(SELECT_STRATEGIES).default('hybrid'),
    /** Neighbours per row in the kNN graph (typicality, facility location). */
    neighbours: z.number().int().min(2).max(200).default(20),
    /** Rows to rank by the strategy; rows past it keep value 0 and go last. 0 ranks every row. */
    max_picks: z.number().int().min(0).default(0),
    /**
     * Pools larger than this are ranked in blocks of about this many rows (a fixed split of the rows by
     * uid), one at a time, and the blocks' rankings merged: the stage's memory and time per row then
     * stay those of one block, whatever the corpus. Part of the selection, unlike the memory budget.
     */
    block_rows: z.number().int().min(100).default(250_000),
    /** Label values `winnow label import` accepts, besides those already in the data. */
    labels: z.array(z.string().min(1)).default([]),
    /**
     * Rank every labelled row before the rest (the order an annotation workflow may want). Off: labels
     * train the probes and labelled rows are ranked by value like every other row.
     */
    labelled_first: z.boolean().default(false),
    /**
     * Examples of the text wanted: a configured source, or a file (.txt one text per line, .jsonl with
     * a "text" field; relative to the config file). The hybrid weights each row by its importance for
     * this target on hashed n-grams (DSIR). Without it, the rows every filter kept stand in for the
     * target against everything read, so rows that resemble what the filters rejected count less.
     */
    target: z
      .strictObject({ source: sourceName.optional(), path: z.string().min(1).optional() })
      .refine((t) => (t.source === undefined) !== (t.path === undefined), { message: 'give exactly one of source or path' })
      .optional(),
    hybrid: z
      .strictObject({
        /** Below this many labelled rows per class the hybrid takes typical rows (cold start). */
        cold_start_per_class: z.number().min(0).default(2),
        /** Uncertain candidates per pick among which facility location chooses. */
        candidate_factor: z.number().min(1).default(10),
      })
      .default({ cold_start_per_class: 2, candidate_factor: 10 }),
    /** A source whose texts fit a character LM; rows with too low or too high surprise are flagged. */
    reference: z
      .strictObject({
        source: sourceName,
        /** Quantiles of surprise below / above which a row is flagged (CCNet-style buckets). */
        low: z.number().min(0).max(1).default(0.02),
        high: z.number().min(0).max(1).default(0.98),
      })
      .optional(),
  })
  .default({ enabled: true, strategy: 'hybrid', neighbours: 20, max_picks: 0, block_rows: 250_000, labels: [], labelled_first: false, hybrid: { cold_start_per_class: 2, candidate_factor: 10 } });

const HttpGeneratorSchema = z.strictObject({
  kind: z.literal('http'),
  /** Base URL of an OpenAI-compatible server (llama.cpp, vLLM); /v1/completions is called. */
  url: z.string().url(),
  model: z.string().min(1).default('default'),
  prompt: z.string().includes('{text}', { message: 'the prompt must contain {text}' }).default('Rewrite the following text in the same language, keeping its meaning:\n{text}\nRewrite:'),
  max_tokens: z.number().int().min(1).default(256),
  temperature: z.number().min(0).max(2).default(0),
  timeout_ms: z.number().int().min(100).default(30_000),
  retries: z.number().int().min(0).max(10).default(2),
  concurrency: z.number().int().min(1).max(64).default(4),
  /** A larger answer counts as a failed item (and is not read further). */
  max_response_bytes: z.number().int().min(1024).default(1_048_576),
  /** After this many items fail in a row the endpoint is not called again in the run (the rest are generator_failed). */
  max_consecutive_failures: z.number().int().min(1).default(10),
});

const Seq2SeqGeneratorSchema = z.strictObject({
  kind: z.literal('seq2seq'),
  /** Local model folder (Hugging Face layout, ONNX); with back_model, back-translation through a pivot. */
  model: z.string().min(1),
  back_model: z.string().min(1).optional(),
  max_length: z.number().int().min(8).default(256),
});

export const AugmentSchema = z
  .strictObject({
    enabled: z.boolean().default(false),
    operators: z
      .array(z.enum(OPERATOR_NAMES))
      .min(1)
      .default([...OPERATOR_NAMES]),
    /** How much an operator changes a text (share of tokens dropped, words noised, ...). */
    strength: z.number().gt(0).lt(1).default(0.3),
    /** At most this share of the training-token target may be synthetic. */
    max_synthetic_share: z.number().min(0).max(1).default(0.2),
    /** Augmentations per parent at most, so a few parents are never amplified. */
    per_parent: z.number().int().min(1).max(100).default(3),
    /** Below this embedding cosine to its parent an augmentation has drifted and is dropped. */
    min_parent_cosine: z.number().min(-1).max(1).default(0.5),
    /** MinHash Jaccard at or above which an augmentation is a near-duplicate of a real row or another augmentation. */
    near_threshold: z.number().gt(0).max(1).default(0.7),
    /** An optional model-backed generator, used alongside the operators. */
    generator: z.discriminatedUnion('kind', [HttpGeneratorSchema, Seq2SeqGeneratorSchema]).optional(),
  })
  .default({ enabled: false, operators: [...OPERATOR_NAMES], strength: 0.3, max_synthetic_share: 0.2, per_parent: 3, min_parent_cosine: 0.5, near_threshold: 0.7 });

export const StagesSchema = z.strictObject({
  normalize: NormalizeSchema.default(NormalizeSchema.parse({})),
  filters: FiltersSchema.default(FiltersSchema.parse({})),
  langid: LangIdSchema,
  quality: QualitySchema,
  dedup: DedupSchema.default(DedupSchema.parse({})),
  embed: EmbedSchema.default(EmbedSchema.parse({})),
  select: SelectSchema,
  budget: BudgetSchema,
  augment: AugmentSchema,
});

export const LimitsSchema = z.strictObject({
  /** Records per batch flowing between stages. */
  batch_size: z.number().int().min(16).max(65_536).default(2048),
  /** A raw row (line, CSV record or text file) larger than this is rejected as `oversized_row`. */
  max_row_bytes: z.number().int().min(1024).default(1_048_576),
  /** How much of a malformed row's raw content the quarantine table keeps. */
  quarantine_chars: z.number().int().min(0).default(2000),
  /**
   * Rows of one run that share an id: `warn` keeps them all (uid tells them apart) and says so;
   * `keep_first` rejects every later one as duplicate_id; `error` stops the run (exit 3) naming them.
   */
  duplicate_ids: z.enum(['warn', 'keep_first', 'error']).default('warn'),
  /** Batches in flight between the reader and the store; bounds memory. */
  max_in_flight: z.number().int().min(1).max(64).default(4),
  /**
   * Seconds between checkpoints of the streaming phase (rows stored so far); a killed run resumes
   * from the last one. 0 checkpoints after every batch.
   */
  checkpoint_seconds: z.number().min(0).default(2),
});

export const ExecutionSchema = z
  .strictObject({
    /**
     * Worker threads for the streaming stages: `auto` uses every core (fewer for an input too small
     * to pay for them), 1 runs them on the main thread. Also how many of the select stage's blocks run
     * at once (as memory allows). Outputs are identical for any number, and
     * changing it keeps a run's checkpoints (it is not part of the run's identity).
     */
    workers: z.union([z.literal('auto'), z.number().int().min(1).max(256)]).default('auto'),
    /**
     * The run's memory budget: `auto` (60% of the machine's memory, or of its container's limit) or
     * a size. DuckDB gets half of it unless `store.memory_limit` says otherwise. Operational like
     * `workers`: `--memory` or WINNOW_MEMORY override it, and changing it keeps a run's checkpoints.
     */
    memory: z.union([z.literal('auto'), z.string().regex(SIZE_PATTERN, 'a size such as "4GB" or "512MB", or auto')]).default('auto'),
  })
  .prefault({});

export const StoreSchema = z.strictObject({
  /** DuckDB's buffer-pool cap (it spills to disk beyond it); default half of `execution.memory`. */
  memory_limit: z.string().regex(SIZE_PATTERN, 'a size such as "1GB" or "512MB"').optional(),
  threads: z.number().int().min(1).max(256).optional(),
});

export const PipelineSchema = z
  .strictObject({
    name: sourceName.default('pipeline'),
    seed: z.number().int().min(0).default(0),
    sources: z.array(SourceSchema).min(1, 'give at least one source'),
    stages: StagesSchema.default(StagesSchema.parse({})),
    limits: LimitsSchema.default(LimitsSchema.parse({})),
    store: StoreSchema.default(StoreSchema.parse({})),
    execution: ExecutionSchema,
    output: z
      .strictObject({
        /** Output folder, relative to the config file. `--out` overrides it. */
        dir: z.string().min(1).optional(),
        /** Add an `embedding` column (FixedSizeList of float16) to selection.arrow and the Parquet copy. */
        embeddings: z.boolean().default(false),
      })
      .default({ embeddings: false }),
  })
  .superRefine((p, ctx) => {
    const seen = new Set<string>();
    p.sources.forEach((s, i) => {
      if (seen.has(s.name)) {
        ctx.addIssue({ code: 'custom', path: ['sources', i, 'name'], message: `duplicate source name "${s.name}": names must be unique` });
      }
      seen.add(s.name);
    });
    if (p.stages.augment.enabled && !p.stages.embed.enabled) {
      ctx.addIssue({ code: 'custom', path: ['stages', 'augment', 'enabled'], message: 'augmentation needs stages.embed (drift is measured in embedding space)' });
    }
    if (p.stages.augment.enabled && p.stages.budget.tokenizer === 'none') {
      ctx.addIssue({ code: 'custom', path: ['stages', 'augment', 'enabled'], message: 'augmentation fills a token budget: set stages.budget.tokenizer and a target' });
    }
    const target = p.stages.select.target?.source;
    if (target !== undefined && !seen.has(target)) {
      ctx.addIssue({ code: 'custom', path: ['stages', 'select', 'target', 'source'], message: `no source is named "${target}" (sources: ${[...seen].join(', ')})` });
    }
    const ref = p.stages.select.reference;
    if (ref && !seen.has(ref.source)) {
      ctx.addIssue({ code: 'custom', path: ['stages', 'select', 'reference', 'source'], message: `no source is named "${ref.source}" (sources: ${[...seen].join(', ')})` });
    }
  });

export type PipelineInput = z.input<typeof PipelineSchema>;
export type Pipeline = z.output<typeof PipelineSchema>;
export type SourceConfig = Pipeline['sources'][number];
export type StagesConfig = Pipeline['stages'];
export type EmbedConfig = Pipeline['stages']['embed'];
export type DedupConfig = Pipeline['stages']['dedup'];
export type BudgetConfig = Pipeline['stages']['budget'];
export type SelectConfig = Pipeline['stages']['select'];
export type AugmentConfig = Pipeline['stages']['augment'];
export type LangIdConfig = Pipeline['stages']['langid'];
export type QualityConfig = Pipeline['stages']['quality'];
