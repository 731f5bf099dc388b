/**
 * Static SVG charts for the report: line charts (linear or log y), grouped bar charts and the
 * log-scale histogram of S. Each returns one self-contained `<svg>` string with marks drawn as
 * `<path class="mark">` (the browser check looks for them) and hover text as SVG `<title>`.
 * No scripts, no external fonts; every label is escaped.
 */
import { escapeHtml as esc } from './escape.ts';

export interface Series {
  readonly name: string;
  readonly color: string;
  readonly points: ReadonlyArray<readonly [number, number]>;
  /** Stroke width (default 2). */
  readonly width?: number;
  readonly opacity?: number;
  readonly dashed?: boolean;
  /** Leave the series out of the legend (e.g. the faint raw line under a smoothed one). */
  readonly hideInLegend?: boolean;
  /** Draw a dot at every point (for sparse series). */
  readonly dots?: boolean;
}

export interface LineChartOptions {
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly series: readonly Series[];
  readonly yLog?: boolean;
  /** Fixed y range (linear charts), e.g. [0, 1] for accuracy. */
  readonly yDomain?: readonly [number, number];
  /** Vertical markers, e.g. a detected collapse onset. */
  readonly markers?: ReadonlyArray<{ x: number; label: string; color: string }>;
  readonly yFormat?: (v: number) => string;
  readonly xFormat?: (v: number) => string;
}

const W = 560;
const H = 280;
const M = { top: 46, right: 16, bottom: 44, left: 58 };
const PW = W - M.left - M.right;
const PH = H - M.top - M.bottom;

const f = (x: number) => (Math.round(x * 100) / 100).toString();

/** Round tick values covering [lo, hi], about `count` of them. */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((k) => k * mag).find((s) => s >= raw) ?? 10 * mag;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step - 1e-9) * step; v <= hi + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

/** A compact number: 0.123, 12.3, 1.2k, 3e-5. */
export function formatNumber(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (a === 0) return '0';
  if (a >= 1e4) return `${Number((v / 1000).toPrecision(3))}k`;
  if (a < 1e-3) return v.toExponential(0);
  return String(Number(v.toPrecision(3)));
}

function frame(title: string, body: string, ariaExtra = ''): string {
  return (
    `<svg class="chart" viewBox="0 0 ${W} ${H}" role="img" aria-label="${esc(title + ariaExtra)}" xmlns="http://www.w3.org/2000/svg">` +
    `<text class="chart-title" x="${M.left}" y="18">${esc(title)}</text>${body}</svg>`
  );
}

function emptyChart(title: string, why: string): string {
  return frame(title, `<text class="empty-note" x="${W / 2}" y="${H / 2}" text-anchor="middle">${esc(why)}</text>`).replace('class="chart"', 'class="chart empty"');
}

function legend(items: ReadonlyArray<{ name: string; color: string; dashed?: boolean }>): string {
  let x = M.left;
  const parts: string[] = [];
  for (const it of items) {
    parts.push(
      `<g class="legend-item"><line x1="${f(x)}" y1="32" x2="${f(x + 14)}" y2="32" stroke="${esc(it.color)}" stroke-width="3"${it.dashed ? ' stroke-dasharray="4 3"' : ''}/>` +
        `<text x="${f(x + 18)}" y="36">${esc(it.name)}</text></g>`,
    );
    x += 30 + it.name.length * 6.6;
  }
  return parts.join('');
}

function axes(xTicks: Array<{ v: number; px: number; label: string }>, yTicks: Array<{ v: number; py: number; label: string }>, xLabel: string, yLabel: string): string {
  const grid = yTicks.map((t) => `<line class="grid" x1="${M.left}" x2="${M.left + PW}" y1="${f(t.py)}" y2="${f(t.py)}"/>`).join('');
  const yl = yTicks.map((t) => `<text class="tick" x="${M.left - 6}" y="${f(t.py + 4)}" text-anchor="end">${esc(t.label)}</text>`).join('');
  const xl = xTicks.map((t) => `<text class="tick" x="${f(t.px)}" y="${M.top + PH + 16}" text-anchor="middle">${esc(t.label)}</text>`).join('');
  return (
    grid +
    `<line class="axis" x1="${M.left}" x2="${M.left + PW}" y1="${M.top + PH}" y2="${M.top + PH}"/>` +
    `<line class="axis" x1="${M.left}" x2="${M.left}" y1="${M.top}" y2="${M.top + PH}"/>` +
    yl +
    xl +
    `<text class="axis-label" x="${M.left + PW / 2}" y="${H - 6}" text-anchor="middle">${esc(xLabel)}</text>` +
    `<text class="axis-label" transform="translate(14 ${M.top + PH / 2}) rotate(-90)" text-anchor="middle">${esc(yLabel)}</text>`
  );
}

export function lineChart(o: LineChartOptions): string {
  const finite = o.series.flatMap((s) => s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y) && (!o.yLog || y > 0)));
  if (finite.length === 0) return emptyChart(o.title, 'no data in these runs');
  const xs = finite.map((p) => p[0]);
  const ys = finite.map((p) => (o.yLog ? Math.log10(p[1]) : p[1]));
  let [x0, x1] = [Math.min(...xs), Math.max(...xs)];
  if (x0 === x1) [x0, x1] = [x0 - 1, x1 + 1];
  let [y0, y1] = o.yDomain && !o.yLog ? o.yDomain : [Math.min(...ys), Math.max(...ys)];
  if (!o.yDomain || o.yLog) {
    const pad = (y1 - y0) * 0.06 || Math.abs(y0) * 0.1 || 1;
    y0 -= pad;
    y1 += pad;
    if (!o.yLog && Math.min(...ys) >= 0 && y0 < 0) y0 = 0;
  }
  const sx = (x: number) => M.left + ((x - x0) / (x1 - x0)) * PW;
  const sy = (y: number) => M.top + PH - (((o.yLog ? Math.log10(y) : y) - y0) / (y1 - y0)) * PH;
  const xFormat = o.xFormat ?? formatNumber;
  const yFormat = o.yFormat ?? formatNumber;
  const xTicks = niceTicks(x0, x1, 6).map((v) => ({ v, px: sx(v), label: xFormat(v) }));
  // log axes: whole decades when the data spans two or more, else round values inside the range
  const logTicks =
    y1 - y0 >= 2
      ? niceTicks(y0, y1, 5)
          .filter(Number.isInteger)
          .map((e) => 10 ** e)
      : niceTicks(10 ** y0, 10 ** y1, 4).filter((v) => v > 0);
  const yTicks = o.yLog ? logTicks.map((v) => ({ v, py: sy(v), label: formatNumber(v) })) : niceTicks(y0, y1, 5).map((v) => ({ v, py: sy(v), label: yFormat(v) }));
  const lines = o.series
    .map((s) => {
      const pts = s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y) && (!o.yLog || y > 0));
      if (pts.length === 0) return '';
      // a single point still gets a visible mark: a short horizontal tick
      const d = pts.length === 1 ? `M${f(sx(pts[0][0]) - 3)},${f(sy(pts[0][1]))}h6` : pts.map(([x, y], i) => `${i ? 'L' : 'M'}${f(sx(x))},${f(sy(y))}`).join('');
      const dots = s.dots ? pts.map(([x, y]) => `<circle cx="${f(sx(x))}" cy="${f(sy(y))}" r="2.5" fill="${esc(s.color)}"/>`).join('') : '';
      return (
        `<g class="series"><path class="mark" d="${d}" fill="none" stroke="${esc(s.color)}" stroke-width="${s.width ?? 2}" stroke-linejoin="round" stroke-linecap="round"` +
        `${s.opacity !== undefined ? ` stroke-opacity="${s.opacity}"` : ''}${s.dashed ? ' stroke-dasharray="5 4"' : ''}><title>${esc(s.name)}</title></path>${dots}</g>`
      );
    })
    .join('');
  const markers = (o.markers ?? [])
    .filter((m) => m.x >= x0 && m.x <= x1)
    .map(
      (m) =>
        `<g class="marker"><line x1="${f(sx(m.x))}" x2="${f(sx(m.x))}" y1="${M.top}" y2="${M.top + PH}" stroke="${esc(m.color)}" stroke-dasharray="3 3"/>` +
        `<text x="${f(sx(m.x) + 4)}" y="${M.top + 12}" fill="${esc(m.color)}">${esc(m.label)}</text></g>`,
    )
    .join('');
  const seen = new Set<string>();
  const legendItems = o.series.filter((s) => !s.hideInLegend && !seen.has(s.name) && seen.add(s.name));
  return frame(o.title, axes(xTicks, yTicks, o.xLabel, o.yLabel) + `<g class="plot">${lines}</g>` + markers + legend(legendItems));
}

export interface BarGroup {
  readonly name: string;
  readonly color: string;
  /** One value per category; NaN leaves a gap. */
  readonly values: readonly number[];
  /** Per-bar colours overriding `color` (e.g. one colour per algorithm in a single group). */
  readonly colors?: readonly string[];
}

export interface BarChartOptions {
  readonly title: string;
  readonly yLabel: string;
  readonly categories: readonly string[];
  readonly groups: readonly BarGroup[];
  readonly yFormat?: (v: number) => string;
}

/** Grouped bars: one cluster per category, one bar per group. y starts at 0. */
export function barChart(o: BarChartOptions): string {
  const all = o.groups.flatMap((g) => g.values.filter(Number.isFinite));
  if (all.length === 0 || o.categories.length === 0) return emptyChart(o.title, 'no data in these runs');
  const yMax = Math.max(...all, 0) * 1.08 || 1;
  const sy = (y: number) => M.top + PH - (y / yMax) * PH;
  const yFormat = o.yFormat ?? formatNumber;
  const band = PW / o.categories.length;
  const inner = band * 0.78;
  const bw = inner / Math.max(1, o.groups.length);
  const xTicks = o.categories.map((c, i) => ({ v: i, px: M.left + band * (i + 0.5), label: c }));
  const yTicks = niceTicks(0, yMax, 5).map((v) => ({ v, py: sy(v), label: yFormat(v) }));
  const bars = o.groups
    .map((g, gi) =>
      g.values
        .map((v, ci) => {
          if (!Number.isFinite(v)) return '';
          const x = M.left + band * ci + (band - inner) / 2 + gi * bw;
          const top = sy(Math.max(v, 0));
          const h = Math.max(1, M.top + PH - top); // a zero still shows a hairline
          return `<path class="mark" d="M${f(x + 1)},${f(M.top + PH)}V${f(M.top + PH - h)}H${f(x + bw - 1)}V${f(M.top + PH)}Z" fill="${esc(g.colors?.[ci] ?? g.color)}"><title>${esc(`${g.name} · ${o.categories[ci]}: ${yFormat(v)}`)}</title></path>`;
        })
        .join(''),
    )
    .join('');
  return frame(o.title, axes(xTicks, yTicks, '', o.yLabel) + `<g class="plot">${bars}</g>` + (o.groups.length > 1 ? legend(o.groups) : ''));
}

export interface HistogramOptions {
  readonly title: string;
  /** Bin edges in log10 units (bins + 1). */
  readonly edges: readonly number[];
  readonly counts: readonly number[];
  /** Count drawn as a separate bar left of the axis, labelled `≤ floor`. */
  readonly belowFloor: number;
  readonly floor: number;
  readonly color: string;
  readonly note?: string;
}

/** Histogram over log10(S), with the tokens at or below the floor as a separate grey bar. */
export function logHistogram(o: HistogramOptions): string {
  const total = o.counts.reduce((a, b) => a + b, 0) + o.belowFloor;
  if (total === 0) return emptyChart(o.title, 'no tokens');
  const lo = o.edges[0];
  const hi = o.edges[o.edges.length - 1];
  const gap = 0.08 * PW;
  const sx = (e: number) => M.left + gap + ((e - lo) / (hi - lo)) * (PW - gap);
  const share = (c: number) => c / total;
  const yMax = Math.max(share(o.belowFloor), ...o.counts.map(share)) * 1.1 || 1;
  const sy = (y: number) => M.top + PH - (y / yMax) * PH;
  const pct = (v: number) => `${Math.round(v * 1000) / 10}%`;
  const yTicks = niceTicks(0, yMax, 5).map((v) => ({ v, py: sy(v), label: pct(v) }));
  const xTicks = [
    { v: lo - 1, px: M.left + gap / 2, label: `≤${formatNumber(o.floor)}` },
    ...niceTicks(lo, hi, 6)
      .filter((e) => Number.isInteger(e) && e > lo + 0.5) // the floor's own decade is the grey bar's label
      .map((e) => ({ v: e, px: sx(e), label: `1e${e}` })),
  ];
  const bar = (x0: number, x1: number, c: number, color: string, label: string) => {
    const h = c > 0 ? Math.max(1, M.top + PH - sy(share(c))) : 0;
    if (h === 0) return '';
    return `<path class="mark" d="M${f(x0)},${f(M.top + PH)}V${f(M.top + PH - h)}H${f(x1)}V${f(M.top + PH)}Z" fill="${color}"><title>${esc(`${label}: ${c} tokens (${pct(share(c))})`)}</title></path>`;
  };
  const bars =
    bar(M.left + 4, M.left + gap - 6, o.belowFloor, '#b8bec8', `S ≤ ${formatNumber(o.floor)}`) +
    o.counts.map((c, i) => bar(sx(o.edges[i]) + 0.5, sx(o.edges[i + 1]) - 0.5, c, esc(o.color), `S in [${formatNumber(10 ** o.edges[i])}, ${formatNumber(10 ** o.edges[i + 1])})`)).join('');
  const note = o.note ? `<text class="chart-note" x="${W - M.right}" y="36" text-anchor="end">${esc(o.note)}</text>` : '';
  return frame(o.title, axes(xTicks, yTicks, 'S_t (log scale)', 'share of tokens') + `<g class="plot">${bars}</g>` + note);
}
