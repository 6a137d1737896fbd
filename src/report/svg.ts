/**
 * Minimal inline-SVG charts for the report: no library, no network. Every data mark carries class
 * "mark" so a test can check that each chart has data.
 */
export const esc = (s: string): string => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

const W = 640;

export interface Bar {
  label: string;
  value: number;
  href?: string;
  title?: string;
}

/** Horizontal bars, one per row, with the value printed at the end. */
export function barChart(name: string, bars: Bar[], fmt: (v: number) => string = (v) => v.toLocaleString('en-US')): string {
  const rowH = 22;
  const left = 190;
  const h = bars.length * rowH + 10;
  const max = Math.max(1, ...bars.map((b) => b.value));
  const rows = bars.map((b, i) => {
    const y = 5 + i * rowH;
    const w = ((W - left - 90) * b.value) / max;
    const label = b.href
      ? `<a href="${esc(b.href)}"><text x="${left - 6}" y="${y + 14}" text-anchor="end" class="link">${esc(b.label)}</text></a>`
      : `<text x="${left - 6}" y="${y + 14}" text-anchor="end">${esc(b.label)}</text>`;
    return `${label}<rect class="mark" fill="#4e79a7" x="${left}" y="${y + 2}" width="${Math.max(1, w).toFixed(1)}" height="${rowH - 6}"><title>${esc(b.title ?? `${b.label}: ${fmt(b.value)}`)}</title></rect><text x="${(left + Math.max(1, w) + 6).toFixed(1)}" y="${y + 14}">${esc(fmt(b.value))}</text>`;
  });
  return `<svg class="chart" data-chart="${esc(name)}" viewBox="0 0 ${W} ${h}" width="${W}" height="${h}">${rows.join('')}</svg>`;
}

export interface Series {
  name: string;
  color: string;
  points: [number, number][];
}

/** Lines (or points) on linear or log axes, with a legend. */
export function lineChart(name: string, series: Series[], opts: { logX?: boolean; logY?: boolean; xLabel: string; yLabel: string; marker?: { x: number; y: number; label: string } }): string {
  const h = 300;
  const m = { l: 70, r: 20, t: 20, b: 45 };
  const tx = (v: number): number => (opts.logX ? Math.log10(v) : v);
  const ty = (v: number): number => (opts.logY ? Math.log10(v) : v);
  const all = series.flatMap((s) => s.points).concat(opts.marker ? [[opts.marker.x, opts.marker.y]] : []);
  const xs = all.map((p) => tx(p[0]));
  const ys = all.map((p) => ty(p[1]));
  const [x0, x1] = [Math.min(...xs), Math.max(...xs)];
  const [y0, y1] = [Math.min(...ys), Math.max(...ys)];
  const sx = (v: number): number => m.l + ((tx(v) - x0) / (x1 - x0 || 1)) * (W - m.l - m.r);
  const sy = (v: number): number => h - m.b - ((ty(v) - y0) / (y1 - y0 || 1)) * (h - m.t - m.b);
  const tick = (v: number, log?: boolean): string => (log ? `1e${Math.round(v)}` : Math.abs(v) >= 1000 ? v.toExponential(1) : v.toFixed(2));
  const axes = `<line x1="${m.l}" y1="${h - m.b}" x2="${W - m.r}" y2="${h - m.b}" class="axis"/><line x1="${m.l}" y1="${m.t}" x2="${m.l}" y2="${h - m.b}" class="axis"/>
<text x="${m.l}" y="${h - m.b + 16}">${tick(x0, opts.logX)}</text><text x="${W - m.r}" y="${h - m.b + 16}" text-anchor="end">${tick(x1, opts.logX)}</text>
<text x="${m.l - 4}" y="${h - m.b}" text-anchor="end">${tick(y0, opts.logY)}</text><text x="${m.l - 4}" y="${m.t + 10}" text-anchor="end">${tick(y1, opts.logY)}</text>
<text x="${(W + m.l) / 2}" y="${h - 8}" text-anchor="middle">${esc(opts.xLabel)}</text><text x="14" y="${(h - m.b + m.t) / 2}" transform="rotate(-90 14 ${(h - m.b + m.t) / 2})" text-anchor="middle">${esc(opts.yLabel)}</text>`;
  const lines = series.map(
    (s) =>
      `<polyline class="mark" fill="none" stroke="${s.color}" stroke-width="2" points="${s.points.map((p) => `${sx(p[0]).toFixed(1)},${sy(p[1]).toFixed(1)}`).join(' ')}"><title>${esc(s.name)}</title></polyline>`,
  );
  const legend = series.map((s, i) => `<rect x="${W - 200}" y="${m.t + i * 16}" width="10" height="10" fill="${s.color}"/><text x="${W - 185}" y="${m.t + 9 + i * 16}">${esc(s.name)}</text>`);
  const mk = opts.marker
    ? `<circle class="mark" cx="${sx(opts.marker.x).toFixed(1)}" cy="${sy(opts.marker.y).toFixed(1)}" r="6" fill="#d62728"><title>${esc(opts.marker.label)}</title></circle><text x="${(sx(opts.marker.x) + 9).toFixed(1)}" y="${(sy(opts.marker.y) - 8).toFixed(1)}">${esc(opts.marker.label)}</text>`
    : '';
  return `<svg class="chart" data-chart="${esc(name)}" viewBox="0 0 ${W} ${h}" width="${W}" height="${h}">${axes}${lines.join('')}${mk}${legend.join('')}</svg>`;
}

/** Two histograms on the same bins (e.g. selected vs not), as side-by-side bars per bin, as shares. */
export function histogram(name: string, edges: number[], a: { name: string; color: string; counts: number[] }, b: { name: string; color: string; counts: number[] }): string {
  const h = 180;
  const m = { l: 40, r: 10, t: 22, b: 30 };
  const share = (c: number[]): number[] => {
    const t = c.reduce((s, v) => s + v, 0) || 1;
    return c.map((v) => v / t);
  };
  const sa = share(a.counts);
  const sb = share(b.counts);
  const max = Math.max(1e-9, ...sa, ...sb);
  const bins = a.counts.length;
  const bw = (W - m.l - m.r) / bins;
  const bars: string[] = [];
  for (let i = 0; i < bins; i++) {
    for (const [k, s, color, label] of [
      [0, sa, a.color, a.name],
      [1, sb, b.color, b.name],
    ] as const) {
      const v = s[i]!;
      const hh = ((h - m.t - m.b) * v) / max;
      bars.push(
        `<rect class="mark" x="${(m.l + i * bw + k * (bw / 2)).toFixed(1)}" y="${(h - m.b - hh).toFixed(1)}" width="${(bw / 2 - 1).toFixed(1)}" height="${hh.toFixed(1)}" fill="${color}"><title>${esc(label)} ${edges[i]!.toPrecision(3)}..${edges[i + 1]!.toPrecision(3)}: ${(100 * v).toFixed(1)}%</title></rect>`,
      );
    }
  }
  const legend = `<rect x="${m.l}" y="4" width="10" height="10" fill="${a.color}"/><text x="${m.l + 14}" y="13">${esc(a.name)}</text><rect x="${m.l + 120}" y="4" width="10" height="10" fill="${b.color}"/><text x="${m.l + 134}" y="13">${esc(b.name)}</text>`;
  const axis = `<line x1="${m.l}" y1="${h - m.b}" x2="${W - m.r}" y2="${h - m.b}" class="axis"/><text x="${m.l}" y="${h - 12}">${edges[0]!.toPrecision(3)}</text><text x="${W - m.r}" y="${h - 12}" text-anchor="end">${edges[bins]!.toPrecision(3)}</text>`;
  // The y axis: share of each group's rows in the bin, with ticks at 0, half and the top.
  const ticks = [0, max / 2, max].map((v) => {
    const y = h - m.b - ((h - m.t - m.b) * v) / max;
    return `<line x1="${m.l - 4}" y1="${y.toFixed(1)}" x2="${m.l}" y2="${y.toFixed(1)}" class="axis"/><text class="tick" x="${m.l - 6}" y="${(y + 4).toFixed(1)}" text-anchor="end">${(100 * v).toFixed(v * 100 >= 10 ? 0 : 1)}%</text>`;
  });
  const yAxis = `<line x1="${m.l}" y1="${m.t}" x2="${m.l}" y2="${h - m.b}" class="axis"/>${ticks.join('')}`;
  return `<svg class="chart" data-chart="${esc(name)}" viewBox="0 0 ${W} ${h}" width="${W}" height="${h}">${legend}${bars.join('')}${axis}${yAxis}</svg>`;
}

export interface Point {
  x: number;
  y: number;
  /** The point's value under each coloring, in the order of the colorings. */
  groups: string[];
  title: string;
}

/** One way to color the points: a column's values in legend order, each with its color. */
export interface Coloring {
  label: string;
  values: { value: string; color: string }[];
}

/**
 * A scatter plot of 2-D points, colored by one of several columns that the reader picks with
 * radio buttons (CSS only: the report runs no script). The first coloring is drawn as the fill
 * attribute; the others are class rules that apply while their button is checked. One scale for
 * both axes (distances in the projection read the same either way), the legend in its own column.
 */
export function scatter(name: string, points: Point[], colorings: Coloring[]): string {
  const h = 420;
  const m = 20;
  const legendW = 150;
  const plotW = W - legendW;
  const xs = points.map((p) => p.x);
  const ys = points.map((p) => p.y);
  const [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
  const unit = Math.min((plotW - 2 * m) / (x1 - x0 || 1), (h - 2 * m) / (y1 - y0 || 1));
  const sx = (v: number): number => m + (v - x0) * unit;
  const sy = (v: number): number => h - m - (v - y0) * unit;
  const index = colorings.map((c) => new Map(c.values.map((v, i) => [v.value, i])));
  const first = colorings[0]!;
  // Draw in the first coloring's legend order, so rarer groups listed last (duplicates) stay on top.
  const dots = [...points]
    .sort((a, b) => (index[0]!.get(a.groups[0]!) ?? 0) - (index[0]!.get(b.groups[0]!) ?? 0))
    .map((p) => {
      const cls = p.groups.map((g, k) => `k${k}v${index[k]!.get(g) ?? 0}`).join(' ');
      const fill = first.values[index[0]!.get(p.groups[0]!) ?? 0]?.color ?? '#999';
      return `<circle class="mark ${cls}" cx="${sx(p.x).toFixed(1)}" cy="${sy(p.y).toFixed(1)}" r="2.6" fill="${fill}"><title>${esc(p.title)}</title></circle>`;
    });
  const legends = colorings.map(
    (c, k) =>
      `<g class="lg lg${k}">${c.values.map((v, i) => `<rect class="legend" x="${plotW + 10}" y="${6 + i * 16}" width="10" height="10" fill="${v.color}"/><text x="${plotW + 25}" y="${15 + i * 16}">${esc(v.value)}</text>`).join('')}</g>`,
  );
  const id = (k: number): string => `${name}-by-${k}`;
  const css = colorings.map((c, k) => `#${id(k)}:checked~svg .lg${k}{display:inline}${k === 0 ? '' : c.values.map((v, i) => `#${id(k)}:checked~svg .k${k}v${i}{fill:${v.color}}`).join('')}`).join('');
  const buttons = colorings.map((c, k) => `<input type="radio" name="${name}-by" id="${id(k)}"${k === 0 ? ' checked' : ''}><label for="${id(k)}">${esc(c.label)}</label>`).join(' ');
  const frame = `<rect x="0.5" y="0.5" width="${plotW - 1}" height="${h - 1}" fill="none" class="axis"/>`;
  return `<div class="color-by"><style>.color-by .lg{display:none}.color-by>svg{display:block;margin-top:6px}${css}</style>color by: ${buttons}
<svg class="chart" data-chart="${esc(name)}" viewBox="0 0 ${W} ${h}" width="${W}" height="${h}">${frame}${dots.join('')}${legends.join('')}</svg></div>`;
}
