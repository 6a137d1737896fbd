import type { ReportData } from './collect.js';
import type { TokenSplit } from '../stages/budget.js';
import { barChart, esc, histogram, lineChart, scatter } from './svg.js';

const n = (v: number): string => Math.round(v).toLocaleString('en-US');
const pct = (a: number, b: number): string => (b > 0 ? `${((100 * a) / b).toFixed(1)}%` : '–');
/**
 * system-ui alone leaves a script without a glyph in the UI font to the browser's fallback, which
 * on a stock Linux draws empty boxes for Ethiopic, emoji and others: name the families that cover
 * the scripts low-resource corpora use (Noto on Linux and Android, the OS fonts on Windows/macOS).
 */
const FONTS = [
  'system-ui',
  '"Noto Sans"',
  '"Segoe UI"',
  'Roboto',
  '"Helvetica Neue"',
  'Arial',
  '"Noto Sans Ethiopic"',
  '"Abyssinica SIL"',
  '"Nyala"',
  '"Kefa"',
  '"Noto Sans Arabic"',
  '"Noto Sans Hebrew"',
  '"Noto Sans Devanagari"',
  '"Noto Sans Bengali"',
  '"Noto Sans Tamil"',
  '"Noto Sans Telugu"',
  '"Noto Sans Khmer"',
  '"Noto Sans Lao"',
  '"Noto Sans Myanmar"',
  '"Noto Sans Thai"',
  '"Noto Sans Sinhala"',
  '"Noto Sans Georgian"',
  '"Noto Sans Armenian"',
  '"Noto Sans Tifinagh"',
  '"Noto Sans NKo"',
  '"Noto Sans Vai"',
  '"Noto Sans Adlam"',
  '"Noto Sans Cherokee"',
  '"Noto Sans Canadian Aboriginal"',
  '"Noto Sans CJK SC"',
  '"Noto Sans CJK JP"',
  '"Microsoft YaHei"',
  '"Ebrima"',
  '"Nirmala UI"',
  '"Leelawadee UI"',
  '"Khmer UI"',
  '"Myanmar Text"',
  '"Noto Color Emoji"',
  '"Apple Color Emoji"',
  '"Segoe UI Emoji"',
  'sans-serif',
].join(',');
const CSS = `body{font:14px/1.45 ${FONTS};margin:24px auto;max-width:980px;color:#222}h1{margin-bottom:0}h2{margin-top:32px;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:8px 0}td,th{padding:3px 10px;border-bottom:1px solid #eee;text-align:right}td:first-child,th:first-child{text-align:left}
svg text{font-size:11px;fill:#333}.axis{stroke:#999}.link{fill:#1a5fb4;text-decoration:underline}
code,pre{background:#f5f5f5;padding:2px 4px;border-radius:3px}pre{padding:8px;overflow-x:auto}.ex{border-left:3px solid #4e79a7;padding:4px 10px;margin:8px 0}.muted{color:#777}`;

type GroupRow = ReportData['byLang'][number];
/** Groups shown before the rest are summed into one "other" row (and listed in a folded table). */
const TOP_GROUPS = 15;

const pair = (a: number | null, b: number | null): string => (a === null ? '-' : `${n(a)} / ${b === null ? '-' : n(b)}`);

/**
 * A per-language or per-source table: the largest groups, an "other" row for the rest, the full
 * table folded below (a mixed corpus can hold hundreds of predicted languages), and a bar chart.
 */
export function groupTable(title: string, id: string, rows: readonly GroupRow[]): string {
  const totalSel = rows.reduce((a, r) => a + r.selectedTokens, 0);
  const head = `<tr><th>${id}</th><th>rows in</th><th>kept</th><th>selected</th><th>tokens in</th><th>tokens selected</th><th>share of selection</th><th title="mean characters per row, kept / selected">chars per row kept / selected</th><th title="mean tokens per row, kept / selected">tokens per row kept / selected</th></tr>`;
  const line = (r: GroupRow): string =>
    `<tr><td>${esc(r.key)}</td><td>${n(r.rows)}</td><td>${n(r.kept)}</td><td>${n(r.selected)}</td><td>${n(r.tokens)}</td><td>${n(r.selectedTokens)}</td><td>${pct(r.selectedTokens, totalSel)}</td><td>${pair(r.keptChars, r.selectedChars)}</td><td>${pair(r.keptMeanTokens, r.selectedMeanTokens)}</td></tr>`;
  const top = rows.slice(0, TOP_GROUPS);
  const rest = rows.slice(TOP_GROUPS);
  const sum = (f: (r: GroupRow) => number): number => rest.reduce((a, r) => a + f(r), 0);
  // A weighted mean over the groups that have the measure (none has tokens without a tokenizer).
  const mean = (count: (r: GroupRow) => number, m: (r: GroupRow) => number | null): number | null => {
    const has = rest.filter((r) => m(r) !== null);
    const c = has.reduce((a, r) => a + count(r), 0);
    return c > 0 ? has.reduce((a, r) => a + count(r) * m(r)!, 0) / c : null;
  };
  const other: GroupRow | null = rest.length
    ? {
        key: `other (${rest.length} more)`,
        rows: sum((r) => r.rows),
        kept: sum((r) => r.kept),
        selected: sum((r) => r.selected),
        tokens: sum((r) => r.tokens),
        selectedTokens: sum((r) => r.selectedTokens),
        keptChars: mean(
          (r) => r.kept,
          (r) => r.keptChars,
        ),
        selectedChars: mean(
          (r) => r.selected,
          (r) => r.selectedChars,
        ),
        keptMeanTokens: mean(
          (r) => r.kept,
          (r) => r.keptMeanTokens,
        ),
        selectedMeanTokens: mean(
          (r) => r.selected,
          (r) => r.selectedMeanTokens,
        ),
      }
    : null;
  const shown = other ? [...top, other] : top;
  const folded = rest.length ? `<details><summary>All ${n(rows.length)} ${id === 'language' ? 'languages' : `${id}s`}</summary><table>${head}${rows.map(line).join('')}</table></details>` : '';
  return `<h3>${title}</h3><table>${head}
${shown.map(line).join('')}</table>${folded}
${barChart(
  `share-${id}`,
  shown.map((r) => ({ label: r.key, value: totalSel > 0 ? r.selectedTokens : r.selected })),
  (v) => (totalSel > 0 ? `${n(v)} tokens` : `${n(v)} rows`),
)}`;
}

/** The self-contained HTML report: inline CSS and SVG only, no script, no external resource. */
export function renderReport(d: ReportData): string {
  const i = d.info;
  const q = (sql: string): string => `npx winnow query ${i.outDir} "${sql}"`;
  const sections: string[] = [];

  const funnel = [
    { label: 'input rows', value: i.counts.input },
    ...i.stages.map((s) => ({ label: `after ${s.stage}`, value: s.out, title: `${s.stage}: in ${n(s.in)}, out ${n(s.out)}, ${s.seconds.toFixed(2)} s` })),
  ];
  const reasons = Object.entries(i.counts.rejected).sort((a, b) => b[1] - a[1]);
  sections.push(`<h2 id="funnel">Funnel</h2>
<p>${n(i.counts.input)} rows read, <b>${n(i.counts.selected)} selected</b>, ${n(i.counts.rejected_total)} rejected.</p>
${barChart('funnel', funnel)}
<h3>Rejections by reason</h3>
${
  reasons.length
    ? barChart(
        'reasons',
        reasons.map(([r, c]) => ({ label: r, value: c, href: `#reason-${r}` })),
      )
    : '<p>No row was rejected.</p>'
}
${reasons.map(([r, c]) => `<div id="reason-${esc(r)}"><b>${esc(r)}</b> (${n(c)} rows): <code>${esc(q(`select id, source, file, \\"row\\", reason_detail, left(text, 80) from samples where reason = '${r}'`))}</code></div>`).join('\n')}`);

  sections.push(`<h2 id="groups">Languages and sources</h2>${groupTable('Per language', 'language', d.byLang)}${groupTable('Per source', 'source', d.bySource)}`);

  const b = i.budget;
  if (b?.plan) {
    const p = b.plan;
    const split: Partial<TokenSplit> = i.augment?.split ?? b.split ?? {};
    sections.push(`<h2 id="budget">Budget</h2>
<p>Rule <b>${esc(p.rule)}</b>: ${n(p.params)} parameters, ${n(p.flops)} FLOPs, <b>${n(p.tokens)} training tokens</b> (${esc(b.tokenizer ?? '')}); ${p.epochs.toFixed(2)} passes over ${n(p.unique_tokens)} unique tokens.</p>
${barChart('budget-split', [
  { label: 'unique real', value: split.unique_real ?? 0 },
  { label: 'repeated real', value: split.repeated_real ?? 0 },
  { label: 'synthetic', value: split.synthetic ?? 0 },
])}
${d.curve ? lineChart('compute-optimal', [{ name: `${d.curve.rule} optimum over compute`, color: '#4e79a7', points: d.curve.optimal }], { logX: true, logY: true, xLabel: 'parameters N', yLabel: 'training tokens D', marker: { x: d.curve.chosen.params, y: d.curve.chosen.tokens, label: 'this run' } }) : ''}
<p class="muted"><code>${esc(q('select * from budget'))}</code></p>`);
  }

  if (d.hists.length) {
    sections.push(`<h2 id="scores">Scores: selected vs not selected (kept rows)</h2>
${d.hists.map((h) => `<h3>${esc(h.column)}</h3>${histogram(`hist-${h.column}`, h.edges, { name: 'selected', color: '#4e79a7', counts: h.selected }, { name: 'not selected', color: '#e15759', counts: h.other })}`).join('\n')}`);
  }

  if (d.map.points.length) {
    sections.push(`<h2 id="map">Embedding map</h2><p class="muted">PCA of ${n(d.map.points.length)} sampled rows; hover a point for its id and text. <code>winnow report --color-by &lt;column&gt;</code> adds a column to color by.</p>
${scatter('embedding-map', d.map.points, d.map.colorings)}`);
  }

  if (d.clusters.length) {
    sections.push(`<h2 id="duplicates">Largest duplicate clusters</h2>
${d.clusters.map((c) => `<h3>${esc(c.cluster)}: ${n(c.size)} rows (${esc(c.kind)})</h3>${c.examples.map((e) => `<div class="ex"><span class="muted">${esc(e.id)} · ${esc(e.status)}</span><br>${esc(e.text)}</div>`).join('')}`).join('\n')}
<p class="muted"><code>${esc(q('select * from dup_clusters order by size desc limit 20'))}</code></p>`);
  }

  const ex = (rows: ReportData['best']): string =>
    rows
      .map(
        (e) =>
          `<div class="ex"><span class="muted">${esc(e.id)}${e.lang ? ` · ${esc(e.lang)}` : ''} · ${esc(e.by ?? '')} · value ${e.value.toFixed(3)} · ${Object.entries(e.signals)
            .map(([k, v]) => `${k} ${v.toFixed(3)}`)
            .join(', ')}</span><br>${esc(e.text)}</div>`,
      )
      .join('');
  if (d.best.length) sections.push(`<h2 id="examples">Examples</h2><h3>Most valuable selected rows</h3>${ex(d.best)}<h3>Least valuable selected rows</h3>${ex(d.worst)}`);

  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>winnow report: ${esc(i.name)}</title><style>${CSS}</style></head>
<body><h1>winnow report: ${esc(i.name)}</h1><p class="muted">run ${esc(i.runId)} · ${esc(i.outDir)}${i.select?.strategy ? ` · selection ${esc(i.select.strategy)}, ${n(i.select.labelled_rows ?? 0)} labelled rows` : ''}</p>
${sections.join('\n')}
</body></html>
`;
}
