import type { DuckDBConnection } from '@duckdb/node-api';
import { makePlan, type Rule } from '../budget/plan.js';
import type { AugmentManifest } from '../stages/augment.js';
import type { BudgetManifest } from '../stages/budget.js';
import type { SelectManifest } from '../stages/select.js';
import { ALIVE, KEPT_SQL } from '../core/reasons.js';
import { readEmbeddingColumn } from '../embed/vector-chunk.js';
import { ConfigError } from '../core/errors.js';
import { hasView } from '../store/catalog.js';
import { quoteIdent, quoteLiteral } from '../store/sql.js';
import type { Coloring, Point } from './svg.js';

/** What the report needs from manifest.json (or from the run in progress). */
export interface RunInfo {
  outDir: string;
  name: string;
  runId: string;
  counts: { input: number; selected: number; rejected: Record<string, number>; rejected_total: number };
  stages: { stage: string; in: number; out: number; rejected: Record<string, number>; seconds: number }[];
  budget?: BudgetManifest;
  select?: SelectManifest;
  augment?: AugmentManifest;
}

export interface GroupRow {
  key: string;
  rows: number;
  kept: number;
  selected: number;
  tokens: number;
  selectedTokens: number;
  /** Mean characters of the kept rows and of the selected ones: a fill that prefers short rows shows here. */
  keptChars: number | null;
  selectedChars: number | null;
  /** The same in tokens (null without a tokenizer). */
  keptMeanTokens: number | null;
  selectedMeanTokens: number | null;
}

export interface Hist {
  column: string;
  edges: number[];
  selected: number[];
  other: number[];
}

export interface ReportData {
  info: RunInfo;
  byLang: GroupRow[];
  bySource: GroupRow[];
  hists: Hist[];
  map: { points: Point[]; colorings: Coloring[] };
  clusters: { cluster: string; size: number; kind: string; examples: { id: string; text: string; status: string }[] }[];
  best: Example[];
  worst: Example[];
  curve: { rule: string; optimal: [number, number][]; chosen: { params: number; tokens: number } } | null;
}

export interface Example {
  id: string;
  lang: string | null;
  text: string;
  by: string | null;
  value: number;
  signals: Record<string, number>;
}

const SCORES = ['select_value', 'typicality', 'cluster_entropy', 'margin', 'entropy', 'bald', 'surprise', 'lang_conf', 'tokens', 'text_chars'].map((c) => ({ name: c, expr: c, needs: c }));
// Quality measures live in one JSON column; a few of the nine are worth a histogram.
const QUALITY = ['words', 'mean_word_length', 'symbol_ratio'].map((k) => ({ name: `quality.${k}`, expr: `(quality->>'${k}')::DOUBLE`, needs: 'quality' }));
const MAP_POINTS = 1500;
/** Tableau 10 without its grey, which is kept for "other". */
const PALETTE = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f'];
const STATUS_COLORS: Record<string, string> = { rejected: '#bab0ac', selected: '#4e79a7', duplicate: '#f28e2b' };

/** What the report is asked for beyond the run itself. */
export interface ReportOptions {
  /** Extra columns of `samples` the embedding map can be colored by (status, language and source always). */
  colorBy?: string[];
}

async function columns(conn: DuckDBConnection): Promise<Set<string>> {
  const r = await conn.runAndReadAll(`SELECT column_name FROM duckdb_columns() WHERE table_name = 'samples'`);
  return new Set(r.getRows().map((x) => String(x[0])));
}

/** Aggregates for the report, all computed in DuckDB; only a fixed-size sample of rows reaches JS. */
export async function collectReport(conn: DuckDBConnection, info: RunInfo, opts: ReportOptions = {}): Promise<ReportData> {
  const cols = await columns(conn);
  for (const c of opts.colorBy ?? []) {
    if (!cols.has(c)) throw new ConfigError(`--color-by ${c}: samples has no column "${c}" (it has ${[...cols].sort().join(', ')})`);
  }
  const tok = cols.has('tokens') ? 'coalesce(tokens, 0)' : '0';
  const groupBy = async (expr: string): Promise<GroupRow[]> =>
    (
      await conn.runAndReadAll(
        `SELECT ${expr} AS k, count(*), count(*) FILTER ${KEPT_SQL}, count(*) FILTER (${ALIVE}), sum(${tok}), sum(${tok}) FILTER (${ALIVE}),
          avg(text_chars) FILTER ${KEPT_SQL}, avg(text_chars) FILTER (${ALIVE}),
          ${cols.has('tokens') ? `avg(tokens) FILTER ${KEPT_SQL}, avg(tokens) FILTER (${ALIVE})` : 'NULL, NULL'} FROM samples GROUP BY ALL ORDER BY 2 DESC, 1`,
      )
    )
      .getRows()
      .map((r) => ({
        key: String(r[0]),
        rows: Number(r[1]),
        kept: Number(r[2]),
        selected: Number(r[3]),
        tokens: Number(r[4] ?? 0),
        selectedTokens: Number(r[5] ?? 0),
        keptChars: r[6] === null ? null : Number(r[6]),
        selectedChars: r[7] === null ? null : Number(r[7]),
        keptMeanTokens: r[8] === null ? null : Number(r[8]),
        selectedMeanTokens: r[9] === null ? null : Number(r[9]),
      }));
  const langExpr = `coalesce(${cols.has('lang_pred') ? 'lang, lang_pred' : 'lang'}, 'und')`;
  const byLang = await groupBy(langExpr);
  const bySource = await groupBy('source::VARCHAR');

  const hists: Hist[] = [];
  for (const { name, expr: col } of [...SCORES, ...QUALITY].filter((c) => cols.has(c.needs))) {
    const [lo, hi, n] = (await conn.runAndReadAll(`SELECT min(${col})::DOUBLE, max(${col})::DOUBLE, count(${col}) FROM samples WHERE ${KEPT_SQL}`)).getRows()[0]!.map(Number) as [
      number,
      number,
      number,
    ];
    if (!(n > 1) || !(hi > lo)) continue;
    const bins = 20;
    const rows = (
      await conn.runAndReadAll(
        `SELECT least(${bins - 1}, floor((${col} - ${lo}) / ${(hi - lo) / bins}))::INT b, count(*) FILTER (${ALIVE}), count(*) FILTER (NOT ${ALIVE}) FROM samples WHERE ${col} IS NOT NULL AND ${KEPT_SQL} GROUP BY ALL`,
      )
    ).getRows();
    const selected = new Array<number>(bins).fill(0);
    const other = new Array<number>(bins).fill(0);
    for (const [b, s, o] of rows) {
      selected[Number(b)] = Number(s);
      other[Number(b)] = Number(o);
    }
    hists.push({ column: name, edges: Array.from({ length: bins + 1 }, (_, i) => lo + ((hi - lo) * i) / bins), selected, other });
  }

  const extra = [
    { label: 'language', expr: langExpr },
    { label: 'source', expr: 'source::VARCHAR' },
    ...(opts.colorBy ?? []).map((c) => ({ label: c, expr: `coalesce(${quoteIdent(c)}::VARCHAR, 'null')` })),
  ];
  const map = await embeddingMap(conn, cols, extra);
  const clusters: ReportData['clusters'] = [];
  if (cols.has('dup_cluster')) {
    const top = (
      await conn.runAndReadAll(
        `SELECT dup_cluster, count(*), string_agg(DISTINCT dup_kind, ', ') FROM samples WHERE dup_cluster IS NOT NULL GROUP BY ALL HAVING count(*) > 1 ORDER BY 2 DESC, 1 LIMIT 5`,
      )
    ).getRows();
    for (const [cl, size, kind] of top) {
      const ex = (await conn.runAndReadAll(`SELECT id, left(text, 160), status::VARCHAR FROM samples WHERE dup_cluster = ${quoteLiteral(String(cl))} ORDER BY ${ALIVE} DESC, uid LIMIT 3`)).getRows();
      clusters.push({ cluster: String(cl), size: Number(size), kind: String(kind ?? ''), examples: ex.map(([id, t, st]) => ({ id: String(id), text: String(t ?? ''), status: String(st) })) });
    }
  }
  const valueCol = cols.has('select_value') ? 'select_value' : cols.has('value') ? 'value' : null;
  const sig = ['importance', 'typicality', 'cluster_entropy', 'margin', 'bald', 'surprise'].filter((c) => cols.has(c));
  const examples = async (order: string): Promise<Example[]> => {
    if (valueCol === null) return [];
    const r = await conn.runAndReadAll(
      `SELECT id, lang, left(text, 240), ${cols.has('select_by') ? 'select_by' : 'NULL'}, ${valueCol}${sig.map((c) => `, ${c}`).join('')} FROM samples WHERE ${ALIVE} AND ${valueCol} IS NOT NULL ORDER BY ${valueCol} ${order}, uid LIMIT 5`,
    );
    return r.getRows().map((x) => ({
      id: String(x[0]),
      lang: x[1] === null ? null : String(x[1]),
      text: String(x[2] ?? ''),
      by: x[3] === null ? null : String(x[3]),
      value: Number(x[4]),
      // A signal not computed for a row (no labels, no reference) is NULL: left out, not shown as 0.
      signals: Object.fromEntries(sig.flatMap((c, i) => (x[5 + i] === null ? [] : [[c, Number(x[5 + i])]])).filter(([, v]) => Number.isFinite(v as number))),
    }));
  };
  return { info, byLang, bySource, hists, map, clusters, best: await examples('DESC'), worst: await examples('ASC'), curve: planCurve(info) };
}

/**
 * PCA of a fixed-size deterministic sample of the embeddings (rows ordered by a hash of their uid):
 * top two components by power iteration on the d x d covariance.
 */
async function embeddingMap(conn: DuckDBConnection, cols: Set<string>, extra: { label: string; expr: string }[]): Promise<ReportData['map']> {
  const none = { points: [], colorings: [] };
  if (!(await hasView(conn, 'embeddings'))) return none;
  // Exact and near duplicates were never embedded: they are drawn at the row they duplicate (a
  // semantic duplicate has its own vector).
  const lexical = cols.has('dup_of') ? `reason IN ('exact_dup', 'near_dup')` : 'false';
  const result = await conn.stream(`
    WITH pick AS (
      SELECT uid, id, status, reason, ${cols.has('dup_of') ? 'dup_of' : 'NULL AS dup_of'}, text${extra.map((e, k) => `, ${e.expr} AS g${k}`).join('')} FROM samples
      WHERE uid IN (SELECT uid FROM embeddings) OR ${lexical} ORDER BY hash(uid) LIMIT ${MAP_POINTS}),
    anchored AS (
      SELECT p.*, CASE WHEN ${lexical.replace('reason', 'p.reason')} THEN (SELECT min(k.uid) FROM samples k WHERE k.id = p.dup_of) ELSE p.uid END AS anchor FROM pick p)
    SELECT a.id, a.status::VARCHAR, a.reason IN ('exact_dup', 'near_dup', 'semantic_dup'), left(a.text, 80), e.embedding${extra.map((_, k) => `, a.g${k}`).join('')}
    FROM anchored a JOIN embeddings e ON e.uid = a.anchor ORDER BY hash(a.uid)`);
  const meta: { id: string; groups: string[]; text: string }[] = [];
  const parts: Float32Array[] = [];
  for (;;) {
    const chunk = await result.fetchChunk();
    if (chunk === null || chunk.rowCount === 0) break;
    const [ids, st, isDup, texts] = [0, 1, 2, 3].map((j) => chunk.getColumnValues(j));
    const g = extra.map((_, k) => chunk.getColumnValues(5 + k));
    for (let r = 0; r < chunk.rowCount; r++) {
      const status = isDup![r] ? 'duplicate' : st![r] === 'selected' ? 'selected' : 'rejected';
      meta.push({ id: String(ids![r]), groups: [status, ...g.map((v) => String(v[r]))], text: String(texts![r] ?? '') });
    }
    parts.push(readEmbeddingColumn(chunk, 4));
  }
  const n = meta.length;
  if (n < 3) return none;
  const d = parts.reduce((a, p) => a + p.length, 0) / n;
  const x = new Float64Array(n * d);
  let off = 0;
  for (const p of parts) {
    x.set(p, off);
    off += p.length;
  }
  const mean = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j]! += x[i * d + j]! / n;
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) x[i * d + j]! -= mean[j]!;
  const comps: Float64Array[] = [];
  for (let c = 0; c < 2; c++) {
    let v = Float64Array.from({ length: d }, (_, j) => Math.sin(j + 1 + c));
    for (let it = 0; it < 50; it++) {
      const xv = new Float64Array(n);
      for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) xv[i]! += x[i * d + j]! * v[j]!;
      const w = new Float64Array(d);
      for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) w[j]! += x[i * d + j]! * xv[i]!;
      for (const p of comps) {
        let dot = 0;
        for (let j = 0; j < d; j++) dot += w[j]! * p[j]!;
        for (let j = 0; j < d; j++) w[j]! -= dot * p[j]!;
      }
      const norm = Math.sqrt(w.reduce((a, b) => a + b * b, 0)) || 1;
      v = w.map((e) => e / norm);
    }
    comps.push(v);
  }
  const points = meta.map((m, i) => {
    // A duplicate sits on its original; a small deterministic offset keeps both visible.
    const dup = m.groups[0] === 'duplicate';
    let px = dup ? 0.01 * Math.cos(i) : 0;
    let py = dup ? 0.01 * Math.sin(i) : 0;
    for (let j = 0; j < d; j++) {
      px += x[i * d + j]! * comps[0]![j]!;
      py += x[i * d + j]! * comps[1]![j]!;
    }
    return { x: px, y: py, groups: m.groups, title: `${m.id}: ${m.text}` };
  });
  const status: Coloring = { label: 'status', values: Object.entries(STATUS_COLORS).map(([value, color]) => ({ value, color })) };
  const colorings = [status, ...extra.map((e, k) => categorical(e.label, points, k + 1))];
  return { points: points.map((p) => ({ ...p, groups: p.groups.map((g, k) => (colorings[k]!.values.some((v) => v.value === g) ? g : OTHER)) })), colorings };
}

const OTHER = 'other';

/** The most frequent values of one coloring each get a color; the rest share grey as "other". */
function categorical(label: string, points: Point[], k: number): Coloring {
  const counts = new Map<string, number>();
  for (const p of points) counts.set(p.groups[k]!, (counts.get(p.groups[k]!) ?? 0) + 1);
  const ranked = [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  const top = ranked.slice(0, ranked.length > PALETTE.length ? PALETTE.length - 1 : PALETTE.length);
  const values = top.map(([value], i) => ({ value, color: PALETTE[i]! }));
  if (top.length < ranked.length) values.push({ value: OTHER, color: '#bab0ac' });
  return { label, values };
}

/** The compute-optimal frontier of the run's rule (tokens vs parameters over 4 decades of compute). */
function planCurve(info: RunInfo): ReportData['curve'] {
  const plan = info.budget?.plan;
  if (!plan) return null;
  const optimal: [number, number][] = [];
  for (let e = -2; e <= 2; e += 0.25) {
    const p = makePlan({ flops: plan.flops * Math.pow(10, e), rule: plan.rule as Rule, uniqueTokens: plan.given.unique_tokens, tokensPerParam: plan.tokens_per_param ?? undefined });
    optimal.push([p.params, p.tokens]);
  }
  return { rule: plan.rule, optimal, chosen: { params: plan.params, tokens: plan.tokens } };
}
