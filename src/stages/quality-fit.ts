import { ALIVE, alive } from '../core/reasons.js';
import type { QualityConfig } from '../config/schema.js';
import { hasColumn } from '../store/catalog.js';
import { ADAPTIVE_RULES, ALPHABETIC_SCRIPTS, LOGOGRAPHIC_SCRIPTS, WORD_LENGTH_MIN_WORDS, type AdaptiveRule } from '../quality/verdict.js';
import type { BarrierContext, BarrierResult, BarrierStage } from './barrier.js';

/**
 * Thresholds from the corpus, not from English. For each measure whose right threshold differs
 * between languages (symbol, digit and implausible-word shares, mean word length), each group of
 * rows sets its own threshold: Tukey's far-out fence, Q3 + k x IQR (Q1 - k x IQR for a lower
 * bound), which a skewed language (transcripts full of markup, a language of long words) widens
 * and up to a quarter of junk in the group does not move; clamped between the configured default
 * (never stricter) and the outer bound (never looser: a group made of junk must not excuse itself).
 *
 * Groups, most specific first: a language (the input's lang column, else lang_pred) within one
 * input file (a register: a file of transcripts, of tweets, of news); the file's rows of the
 * row's script (langid may scatter a register over many small "languages"); the language across
 * files; the script across files; else the default. A group counts with `min_rows` rows and when
 * its typical (median) row passes the default: a "language" langid made of keyboard mash keeps the
 * default. The threshold used and where it came from are in each rejected row's reason_detail,
 * and every language's thresholds in the manifest.
 */
export const qualityFitStage: BarrierStage = {
  name: 'quality_fit',
  enabled: (p) => p.stages.quality.enabled && p.stages.quality.adapt.enabled && ADAPTIVE_RULES.some((r) => p.stages.quality[r.key] !== null),
  writes: [],
  run: fitQuality,
};

interface Rule {
  r: AdaptiveRule;
  i: number;
}

const inList = (xs: readonly string[]): string => `s IN (${xs.map((x) => `'${x}'`).join(', ')})`;

/** SQL of a rule's condition "applies to this row" over qf_rows: ruleApplies in verdict.ts (keep the two alike). */
function appliesSql(r: AdaptiveRule, c: QualityConfig): string {
  if (r.key === 'min_mean_word_length') return `words >= ${WORD_LENGTH_MIN_WORDS} AND NOT ${inList(LOGOGRAPHIC_SCRIPTS)}`;
  if (r.measure === 'mean_word_length') return `words >= ${WORD_LENGTH_MIN_WORDS}`;
  if (r.measure === 'gibberish_ratio') return `alphabetic_words >= ${c.min_gibberish_words} AND ${inList(ALPHABETIC_SCRIPTS)}`;
  return 'chars > 0';
}

/**
 * A group's aggregates for one rule: its quartiles and median from one aggregate state (a list;
 * each state holds every value of its group, three would hold them three times), and its row count.
 */
function groupAggSql({ r, i }: Rule): string {
  return `quantile_cont(${r.measure}, [0.25, 0.5, 0.75]) FILTER (a${i}) AS q${i}, count(*) FILTER (a${i}) AS n${i}`;
}

/** A group's fitted threshold for one rule (before clamping), its median, and how many rows it was fitted on. */
function fittedSql({ r, i }: Rule, c: QualityConfig): string {
  const fitted = r.side === 'max' ? `q${i}[3] + ${c.adapt.k} * (q${i}[3] - q${i}[1])` : `q${i}[1] - ${c.adapt.k} * (q${i}[3] - q${i}[1])`;
  return `${fitted} AS f${i}, q${i}[2] AS m${i}, n${i}`;
}

/** Per row, the threshold of one rule: its language's when it can be fitted (enough rows, a typical row that passes the default), else its script's, else the default. */
function thresholdSql({ r, i }: Rule, c: QualityConfig): string {
  const clamp = (x: string): string => (r.side === 'max' ? `least(${c.adapt.outer[r.key]}, greatest(${c[r.key]}, ${x}))` : `greatest(${c.adapt.outer[r.key]}, least(${c[r.key]}, ${x}))`);
  const ok = (t: string): string => `${t}.n${i} >= ${c.adapt.min_rows} AND ${t}.m${i} ${r.side === 'max' ? '<=' : '>='} ${c[r.key]}`;
  return `CASE WHEN ${ok('fl')} THEN ${clamp(`fl.f${i}`)} WHEN ${ok('fs')} THEN ${clamp(`fs.f${i}`)} WHEN ${ok('l')} THEN ${clamp(`l.f${i}`)} WHEN ${ok('sc')} THEN ${clamp(`sc.f${i}`)} ELSE ${c[r.key]} END AS t${i},
    CASE WHEN ${ok('fl')} THEN 'language ' || r.g || ' in ' || r.file || ' (' || fl.n${i} || ' rows)' WHEN ${ok('fs')} THEN 'script ' || r.s || ' in ' || r.file || ' (' || fs.n${i} || ' rows)' WHEN ${ok('l')} THEN 'language ' || r.g || ' (' || l.n${i} || ' rows)' WHEN ${ok('sc')} THEN 'script ' || r.s || ' (' || sc.n${i} || ' rows)' ELSE 'default (group too small or its typical row fails the default)' END AS src${i}`;
}

async function fitQuality(ctx: BarrierContext): Promise<BarrierResult> {
  const t0 = performance.now();
  const c = ctx.config.stages.quality;
  const conn = ctx.store.conn;
  const rules: Rule[] = ADAPTIVE_RULES.map((r, i) => ({ r, i })).filter(({ r }) => c[r.key] !== null);
  const langPred = (await hasColumn(conn, 'samples', 'lang_pred')) ? 'lang_pred' : 'NULL';
  const num = (k: string, type: string): string => `(quality->>'${k}')::${type} AS ${k}`;
  // Each alive row's measures and which rules apply to it, read from the JSON column as needed.
  const rows = `SELECT *, ${rules.map(({ r, i }) => `(${appliesSql(r, c)}) AS a${i}`).join(', ')} FROM (
      SELECT uid, source, file, coalesce(lang, ${langPred}) AS g, quality->>'script' AS s, ${num('words', 'INT')}, ${num('chars', 'INT')}, ${num('alphabetic_words', 'INT')},
        ${[...new Set(rules.map(({ r }) => r.measure))].map((m) => num(m, 'DOUBLE')).join(', ')}
      FROM samples WHERE ${ALIVE} AND quality IS NOT NULL)`;
  // Only a row that fails a rule's default or its outer bound (whichever is looser) can fail its
  // clamped threshold, so thresholds are computed for those rows alone (a few percent of a corpus).
  const mayFail = rules
    .map(({ r, i }) => `(a${i} AND ${r.measure} ${r.side === 'max' ? `> ${Math.min(c[r.key]!, c.adapt.outer[r.key])}` : `< ${Math.max(c[r.key]!, c.adapt.outer[r.key])}`})`)
    .join(' OR ');
  // Every group of every level in one pass over the rows, none of them held: materializing the rows
  // first (and a threshold string per row) was most of the run's peak memory at 1M rows.
  // GROUPING's bits, source file g s: 1 = (source, file, g), 2 = (source, file, s), 13 = (g), 14 = (s).
  const level = (name: string, id: number, keys: string, where = ''): string =>
    `CREATE OR REPLACE TEMP VIEW ${name} AS SELECT ${keys}, rows, ${rules.map((x) => fittedSql(x, c)).join(', ')} FROM qf_groups WHERE gid = ${id}${where};`;
  await conn.run(`
    CREATE OR REPLACE TEMP TABLE qf_groups AS
      SELECT source, file, g, s, GROUPING(source, file, g, s) AS gid, count(*) AS rows, ${rules.map(groupAggSql).join(', ')}
      FROM (${rows}) GROUP BY GROUPING SETS ((source, file, g), (source, file, s), (g), (s));
    ${level('qf_file_lang', 1, 'source, file, g', ' AND g IS NOT NULL')}
    ${level('qf_file_script', 2, 'source, file, s')}
    ${level('qf_lang', 13, 'g', ' AND g IS NOT NULL')}
    ${level('qf_script', 14, 's')}
    CREATE OR REPLACE TEMP TABLE qf_thr AS
      SELECT r.*, ${rules.map((x) => thresholdSql(x, c)).join(', ')}
      FROM (SELECT * FROM (${rows}) WHERE ${mayFail}) r LEFT JOIN qf_file_lang fl ON fl.source = r.source AND fl.file = r.file AND fl.g = r.g LEFT JOIN qf_file_script fs ON fs.source = r.source AND fs.file = r.file AND fs.s = r.s LEFT JOIN qf_lang l ON l.g = r.g LEFT JOIN qf_script sc ON sc.s = r.s;`);
  const before = await aliveCount(ctx);
  const rejected: Record<string, number> = {};
  // One rule at a time, in the order of the streaming verdict, so the first failed check decides.
  for (const { r, i } of rules) {
    const op = r.side === 'max' ? '>' : '<';
    const res = await conn.run(`
      UPDATE samples SET status = 'rejected', reason = '${r.reason}',
        reason_detail = format('{}={} ${op} {} (fitted for {}: ${r.side === 'max' ? 'Q3 +' : 'Q1 -'} ${c.adapt.k} IQR within [default ${c[r.key]}, outer ${c.adapt.outer[r.key]}])',
          '${r.measure}', round(q.${r.measure}, 3), round(q.t${i}, 3), q.src${i})
      FROM qf_thr q
      WHERE samples.uid = q.uid AND ${alive('samples')} AND q.a${i} AND q.${r.measure} ${op} q.t${i}`);
    const n = Number(res.rowsChanged);
    if (n > 0) rejected[r.reason] = (rejected[r.reason] ?? 0) + n;
  }
  const groups = await groupThresholds(ctx, rules);
  await conn.run('DROP VIEW qf_file_lang; DROP VIEW qf_file_script; DROP VIEW qf_lang; DROP VIEW qf_script; DROP TABLE qf_groups; DROP TABLE qf_thr');
  const out = before - Object.values(rejected).reduce((a, b) => a + b, 0);
  return { counters: { stage: 'quality_fit', in: before, out, rejected, seconds: (performance.now() - t0) / 1000 }, manifest: { groups } };
}

async function aliveCount(ctx: BarrierContext): Promise<number> {
  const r = await ctx.store.conn.runAndReadAll(`SELECT count(*)::INT FROM samples WHERE ${ALIVE}`);
  return r.getRows()[0]![0] as number;
}

/** The fitted thresholds (before clamping) of the 50 largest languages, for the manifest. */
async function groupThresholds(ctx: BarrierContext, rules: Rule[]): Promise<Record<string, Record<string, number | null>>> {
  const cols = rules.map(({ r, i }) => `CASE WHEN n${i} >= ${ctx.config.stages.quality.adapt.min_rows} THEN round(f${i}, 4) END AS "${r.key}"`).join(', ');
  const r = await ctx.store.conn.runAndReadAll(`SELECT g, rows::INT AS rows, ${cols} FROM qf_lang ORDER BY rows DESC, g LIMIT 50`);
  const out: Record<string, Record<string, number | null>> = {};
  for (const row of r.getRowObjectsJson()) {
    const { g, ...rest } = row as Record<string, number | string | null>;
    out[String(g)] = rest as Record<string, number | null>;
  }
  return out;
}
