/**
 * `pgpo report`'s page: one self-contained HTML file from run and compare directories — the
 * comparison table, training curves with the collapse check, the analyses' figures and token
 * heatmaps of example rollouts. Inline CSS and SVG, images as data URIs, no scripts; a Content
 * Security Policy forbids any network access, so the file reads the same offline.
 */
import {
  TOKEN_CLASSES,
  TOKEN_CLASS_LABELS,
  classifyTokens,
  dependencyByClass,
  dependencyByVariant,
  dependencyHistogram,
  detectCollapse,
  ladderSummary,
  metricSeries,
  pgVarianceByAlgo,
  pgVarianceRatio,
  rungOrder,
  smooth,
  smoothingWindow,
  variantOrder,
  type CollapseReport,
  type LadderSummary,
  type PriorShare,
} from './analyses.ts';
import { barChart, formatNumber, lineChart, logHistogram, type Series } from './charts.ts';
import { escapeHtml as esc, pngDataUri } from './escape.ts';
import type { CompareData, Rollout, RunData } from './run-data.ts';

const SHORT_CLASS: Record<(typeof TOKEN_CLASSES)[number], string> = {
  'image-digit': 'image digits',
  'text-digit': 'text digits',
  'computed-digit': 'computed',
  operator: 'operators',
  template: 'template',
};

const ALGO_COLORS: Record<string, string> = {
  base: '#8a8f98',
  grpo: '#7b61c9',
  dapo: '#e0772e',
  papo: '#2a9d8f',
  vppo: '#c2417b',
  pgpo: '#2f6fd6',
};
const PALETTE = ['#2f6fd6', '#e0772e', '#2a9d8f', '#c2417b', '#7b61c9', '#8c6d31', '#4c9f38', '#d14a4a'];

function colorFor(algo: string, index: number): string {
  return ALGO_COLORS[algo.toLowerCase()] ?? PALETTE[index % PALETTE.length];
}

export interface ReportInput {
  readonly compares: readonly CompareData[];
  readonly runs: readonly RunData[];
  /** Shown in the header; the caller passes the time so that the page is reproducible in tests. */
  readonly generated?: string;
  /** Example rollouts shown per run (default 4). */
  readonly examplesPerRun?: number;
  /** At most this many runs get heatmaps: the first run of each algorithm first (default 6). */
  readonly heatmapRuns?: number;
}

const pct = (x: number | null | undefined, digits = 1) => (x === null || x === undefined || !Number.isFinite(x) ? '–' : (100 * x).toFixed(digits));

/** A short label that tells runs apart: the directory name. */
const runLabel = (r: RunData) => r.name;

function figure(svg: string, caption: string): string {
  return `<figure class="fig">${svg}<figcaption>${caption}</figcaption></figure>`;
}

// ------------------------------------------------------------------------------------------------

function compareTable(c: CompareData): string {
  const t = c.table;
  const best = t.columns.map((_, j) => Math.max(...t.rows.map((r) => r.cells[j].mean ?? -Infinity)));
  const head = `<tr><th>algorithm</th>${t.columns.map((col) => `<th>${esc(col)}</th>`).join('')}</tr>`;
  const body = t.rows
    .map((row) => {
      const cells = row.cells
        .map((cell, j) => {
          if (cell.mean === null) return '<td class="num">–</td>';
          const isBest = cell.mean === best[j] && t.rows.length > 1;
          const ci = cell.lo !== null && cell.hi !== null ? `<span class="ci">[${pct(cell.lo)}, ${pct(cell.hi)}]</span>` : '';
          const tint = `background: rgba(47, 111, 214, ${(0.06 + 0.3 * Math.max(0, Math.min(1, cell.mean))).toFixed(3)})`;
          return `<td class="num${isBest ? ' best' : ''}" style="${tint}" title="${esc(`n = ${cell.n}`)}">${pct(cell.mean)}${ci}</td>`;
        })
        .join('');
      return `<tr><th scope="row"><span class="swatch" style="background:${colorFor(row.algo, 0)}"></span>${esc(row.algo)}</th>${cells}</tr>`;
    })
    .join('');
  const budget = t.budget === undefined ? '' : ` · budget <code>${esc(JSON.stringify(t.budget))}</code>`;
  return (
    `<div class="table-wrap"><table class="compare">${head}${body}</table></div>` +
    `<p class="note">Accuracy (%) per task family and variant (and rung, on the ladder world): mean over ${esc(t.seeds)} seed(s)${(t.eval_seeds ?? 1) > 1 ? `, each run's ${esc(t.eval_seeds)} evaluations pooled,` : ''} with the 95% interval in brackets; the best mean of each column in bold. ` +
    `From <code>${esc(c.path)}</code>${t.date ? `, ${esc(t.date)}` : ''}${budget}.</p>`
  );
}

/** Signed points: +1.2, -0.4. */
const pts = (x: number | null) => (x === null || !Number.isFinite(x) ? '–' : `${x >= 0 ? '+' : ''}${(100 * x).toFixed(1)}`);

/** compare.json's differences between arms, each with its Welch interval and whether the evaluation tells the two apart. */
function differencesTable(c: CompareData): string {
  const ds = c.table.differences;
  if (!ds.length) return '';
  const rows = ds
    .map((d) => {
      const interval = d.lo === null || d.hi === null ? '–' : `${pts(d.lo)} to ${pts(d.hi)}`;
      // an interval that holds 0 cannot tell the difference from the seeds' and the sampling's noise
      const reading = d.lo === null || d.hi === null ? 'no interval (one replicate a side, or no spread)' : d.lo > 0 ? `${d.a} ahead` : d.hi < 0 ? `${d.b} ahead` : 'not told apart';
      return `<tr><th scope="row">${esc(d.a)} − ${esc(d.b)}</th><td class="num">${pts(d.diff)}</td><td class="num">${interval}</td><td>${esc(reading)}</td></tr>`;
    })
    .join('');
  return (
    `<div class="table-wrap"><table class="plain"><tr><th>difference</th><th>points</th><th>95% interval</th><th>reading</th></tr>${rows}</table></div>` +
    `<p class="note">Differences of overall accuracy, in points: each arm's mean over its runs, with a 95% Welch interval over the runs; the test problems are the same for every arm and held fixed (compare.json).</p>`
  );
}

interface LadderRow {
  readonly label: string;
  readonly color?: string;
  /** Under the label, e.g. how many evaluations were pooled. */
  readonly detail?: string;
  readonly summary: LadderSummary;
}

/**
 * The ladder world's own numbers, one row per run or arm: accuracy per rung, and the share of
 * samples that answered the misleading language prior, overall and per rung. The two have other
 * denominators (all samples; only those of problems whose prior misleads), so the header says which.
 */
function ladderTable(rows: readonly LadderRow[], what: string, note: string): string {
  if (!rows.length) return '';
  const rungs = [...new Set(rows.flatMap((r) => r.summary.rungs))].sort(rungOrder);
  const accRungs = rungs.filter((g) => rows.some((r) => r.summary.accuracy[g]));
  // with one rung its prior share is the overall one: no column to repeat it
  const priorRungs = rungs.length > 1 ? rungs.filter((g) => rows.some((r) => r.summary.priorByRung[g])) : [];
  const hasPrior = rows.some((r) => r.summary.prior);
  const head =
    `<tr><th rowspan="2">${esc(what)}</th>` +
    (accRungs.length ? `<th colspan="${accRungs.length}">accuracy (%)<span class="ci">of all samples</span></th>` : '') +
    (hasPrior ? `<th colspan="${1 + priorRungs.length}">answered the misleading prior (%)<span class="ci">of the samples of problems whose prior misleads</span></th>` : '') +
    `</tr><tr>${accRungs.map((g) => `<th>${esc(g)}</th>`).join('')}${hasPrior ? `<th>all</th>${priorRungs.map((g) => `<th>${esc(g)}</th>`).join('')}` : ''}</tr>`;
  const accCell = (a: { accuracy: number; n: number } | undefined) => (a ? `<td class="num" title="${esc(`n = ${a.n} problems`)}">${pct(a.accuracy)}</td>` : '<td class="num">–</td>');
  // the prior share is of a subset of the samples: its size shows under it
  const priorCell = (p: PriorShare | null | undefined) => (p ? `<td class="num">${pct(p.rate)}<span class="ci">of ${esc(p.n)}</span></td>` : '<td class="num">–</td>');
  const body = rows
    .map(({ label, color, detail, summary: s }) => {
      const swatch = color ? `<span class="swatch" style="background:${color}"></span>` : '';
      const prior = hasPrior ? priorCell(s.prior) + priorRungs.map((g) => priorCell(s.priorByRung[g])).join('') : '';
      return `<tr><th scope="row">${swatch}${esc(label)}${detail ? `<span class="ci">${esc(detail)}</span>` : ''}</th>${accRungs.map((g) => accCell(s.accuracy[g])).join('')}${prior}</tr>`;
    })
    .join('');
  return `<h3>Ladder world: accuracy per rung and the misleading prior</h3><div class="table-wrap"><table class="plain">${head}${body}</table></div><p class="note">${note}</p>`;
}

/** A comparison's arms on the ladder world, in its table's order: every evaluation of an arm pooled, base arms (eval only) included. */
function armLadderTable(c: CompareData): string {
  const rows = c.table.rows.flatMap((row): LadderRow[] => {
    const summary = ladderSummary(c.evals.filter((e) => e.arm === row.algo).map((e) => e.eval));
    return summary ? [{ label: row.algo, color: colorFor(row.algo, 0), detail: `${summary.evaluations} evaluation(s)`, summary }] : [];
  });
  return ladderTable(
    rows,
    'algorithm',
    `Each arm's evaluations pooled: all its runs and sampling seeds, as compare.md's split table. Under each prior share, the samples it is of. From <code>${esc(c.path)}</code>.`,
  );
}

/** Runs outside a comparison on the ladder world: each run's eval.json. */
function runLadderTable(runs: readonly RunData[]): string {
  const rows = runs.flatMap((r): LadderRow[] => {
    const summary = r.eval && ladderSummary([r.eval]);
    return summary ? [{ label: runLabel(r), summary }] : [];
  });
  return ladderTable(rows, 'run', "Each run's eval.json. Under each prior share, the samples it is of.");
}

function evalTable(runs: readonly RunData[]): string {
  const withEval = runs.filter((r) => r.eval);
  if (!withEval.length) return '';
  const cols = [...new Set(withEval.flatMap((r) => Object.keys(r.eval!.by_family_variant)))].sort();
  const head = `<tr><th>run</th><th>overall</th>${cols.map((c) => `<th>${esc(c)}</th>`).join('')}</tr>`;
  const body = withEval
    .map((r) => {
      const e = r.eval!;
      const cell = (a: { accuracy: number; n: number } | undefined) => (a ? `<td class="num" title="n = ${esc(a.n)}">${pct(a.accuracy)}</td>` : '<td class="num">–</td>');
      return `<tr><th scope="row">${esc(runLabel(r))}</th>${cell(e.overall)}${cols.map((c) => cell(e.by_family_variant[c])).join('')}</tr>`;
    })
    .join('');
  const k = withEval[0].eval!.k;
  return `<div class="table-wrap"><table class="compare">${head}${body}</table></div><p class="note">Evaluation of each run's checkpoint (eval.json)${k ? `, avg@${esc(k)}` : ''}, accuracy in %.</p>`;
}

// ------------------------------------------------------------------------------------------------

interface RunStyle {
  readonly run: RunData;
  readonly color: string;
}

function styles(runs: readonly RunData[]): RunStyle[] {
  const algos = [...new Set(runs.map((r) => r.algo))];
  return runs.map((run) => ({ run, color: colorFor(run.algo, algos.indexOf(run.algo)) }));
}

function curveChart(
  rs: readonly RunStyle[],
  key: string,
  title: string,
  yLabel: string,
  opts: { yDomain?: [number, number]; yFormat?: (v: number) => string; collapse?: Map<RunData, CollapseReport> } = {},
): string {
  const series: Series[] = [];
  const multi = new Set(rs.map((r) => r.run.algo)).size < rs.length; // several seeds per algorithm: name lines by algorithm
  for (const { run, color } of rs) {
    const raw = metricSeries(run.metrics, key);
    if (!raw.length) continue;
    const name = multi ? run.algo : runLabel(run);
    series.push({ name: `${name} (raw)`, color, points: raw, width: 1, opacity: 0.25, hideInLegend: true });
    series.push({ name, color, points: smooth(raw, smoothingWindow(raw.length)), width: 2.2 });
  }
  const markers = opts.collapse
    ? rs.flatMap(({ run, color }) => {
        const c = opts.collapse!.get(run);
        return c?.collapsed && c.onsetStep !== null ? [{ x: c.onsetStep, label: `collapse: ${runLabel(run)}`, color }] : [];
      })
    : [];
  return lineChart({ title, xLabel: 'step', yLabel, series, yDomain: opts.yDomain, yFormat: opts.yFormat, markers });
}

function curvesSection(rs: readonly RunStyle[]): string {
  const collapse = new Map(rs.map(({ run }) => [run, detectCollapse(metricSeries(run.metrics, 'accuracy'), metricSeries(run.metrics, 'entropy'))]));
  const charts = [
    figure(
      curveChart(rs, 'accuracy', 'Training accuracy', 'accuracy', { yDomain: [0, 1], yFormat: (v) => `${Math.round(v * 100)}%`, collapse }),
      'Accuracy of the sampled responses per step; thin: raw, thick: trailing mean. Dashed lines mark a detected collapse.',
    ),
    figure(
      curveChart(rs, 'entropy', 'Policy entropy', 'nats / token', { collapse }),
      'Mean per-token entropy of the policy on its own samples. A late spike with an accuracy drop is the collapse DAPO shows.',
    ),
    figure(curveChart(rs, 'response_length', 'Response length', 'tokens'), 'Mean response length in tokens.'),
    figure(curveChart(rs, 'log1p_dep_mean', 'Average log(1+S) over training', 'mean log(1+S_t)'), 'Mean compressed visual dependency of the sampled tokens: the paper reports it rising under PGPO.'),
  ];
  // runs from before the learned logit scale (or with a policy without one) do not log it
  if (rs.some(({ run }) => metricSeries(run.metrics, 'logit_scale').length)) {
    charts.push(
      figure(
        curveChart(rs, 'logit_scale', 'Learned logit scale', 'inverse temperature'),
        "The policy's logit scale after each step (docs/model.md): above 1 it samples sharper than its weights alone, as at temperature 1 / scale. What the main job gains is this (docs/results.md).",
      ),
    );
  }
  const rows = rs
    .map(({ run, color }) => {
      const c = collapse.get(run)!;
      const verdict = c.collapsed ? '<span class="bad">collapse</span>' : c.accuracyDrop?.flagged || c.entropySpike?.flagged ? '<span class="warn">partial</span>' : '<span class="good">stable</span>';
      const a = c.accuracyDrop;
      const e = c.entropySpike;
      return (
        `<tr><th scope="row"><span class="swatch" style="background:${color}"></span>${esc(runLabel(run))}</th><td>${verdict}</td>` +
        `<td class="num">${a ? `${pct(a.peak)} @ ${a.peakStep}` : '–'}</td><td class="num">${a ? pct(a.final) : '–'}</td>` +
        `<td class="num">${e ? `${e.ratio.toFixed(2)}×` : '–'}</td><td>${esc(c.reason)}</td></tr>`
      );
    })
    .join('');
  const table =
    `<div class="table-wrap"><table class="plain"><tr><th>run</th><th>verdict</th><th>peak acc. (%) @ step</th><th>final acc. (%)</th><th>entropy after / before peak</th><th>reading</th></tr>${rows}</table></div>` +
    `<p class="note">Collapse = the smoothed accuracy ends at least 10 points below its peak <em>and</em> the smoothed entropy after the peak reaches at least 2× its median before it (docs/analyses.md).</p>`;
  return `<div class="grid">${charts.join('')}</div>${table}`;
}

// ------------------------------------------------------------------------------------------------

function dependencySection(rs: readonly RunStyle[]): string {
  const withTokens = rs.filter(({ run }) => run.tokens.some((t) => t.dep.length > 0)); // GRPO, DAPO, PAPO measure no S
  if (!withTokens.length) return '<p class="note">No per-token data (tokens/ or rollouts/) in these runs.</p>';
  const hists = withTokens.map(({ run, color }) => {
    const h = dependencyHistogram(run.tokens.flatMap((t) => t.dep));
    return {
      run,
      color,
      h,
      svg: logHistogram({
        title: `Distribution of S_t — ${runLabel(run)}`,
        edges: h.edges,
        counts: h.counts,
        belowFloor: h.belowFloor,
        floor: h.floor,
        color,
        note: `top 10% of tokens carry ${pct(h.top10Share)}% of S · Gini ${h.gini.toFixed(2)}`,
      }),
    };
  });
  const conc = lineChart({
    title: 'Concentration of S: share held by the top tokens',
    xLabel: 'top fraction of tokens (log scale, %)',
    yLabel: 'share of total S',
    series: hists.map(({ run, color, h }) => ({ name: runLabel(run), color, points: h.concentration.map((c) => [Math.log10(100 * c.top), c.share] as const), dots: true })),
    yDomain: [0, 1],
    yFormat: (v) => `${Math.round(v * 100)}%`,
    xFormat: (v) => formatNumber(10 ** v),
  });
  const step = (run: RunData) => (run.tokensStep === null ? '' : ` at step ${run.tokensStep}`);
  const figs = hists.map(({ run, h, svg }) =>
    figure(
      svg,
      `${esc(h.tokens)} response tokens of ${esc(runLabel(run))}${esc(step(run))}; the grey bar counts tokens with S ≤ ${esc(formatNumber(h.floor))}. Median S ${esc(formatNumber(h.median))}, mean ${esc(formatNumber(h.mean))}.`,
    ),
  );
  figs.push(figure(conc, 'A uniform signal would lie on the diagonal; a sparse one rises steeply at the left: few tokens carry most of the dependency.'));

  const byClass = withTokens.map(({ run, color }) => ({ run, color, stats: dependencyByClass(run.tokens) }));
  const classChart = barChart({
    title: 'Mean S_t by token class',
    yLabel: 'mean S_t',
    categories: TOKEN_CLASSES.map((c) => SHORT_CLASS[c]),
    groups: byClass.map(({ run, color, stats }) => ({ name: runLabel(run), color, values: stats.map((s) => s.meanS) })),
  });
  const classRows = TOKEN_CLASSES.map(
    (cls, i) =>
      `<tr><th scope="row">${esc(TOKEN_CLASS_LABELS[cls])}</th>${byClass
        .map(({ stats }) => `<td class="num">${esc(stats[i].tokens)}</td><td class="num">${esc(formatNumber(stats[i].meanS))}</td><td class="num">${pct(stats[i].shareOfS)}</td>`)
        .join('')}</tr>`,
  ).join('');
  const classTable =
    `<div class="table-wrap"><table class="plain"><tr><th rowspan="2">token class</th>${byClass.map(({ run }) => `<th colspan="3">${esc(runLabel(run))}</th>`).join('')}</tr>` +
    `<tr>${byClass.map(() => '<th>tokens</th><th>mean S</th><th>% of S</th>').join('')}</tr>${classRows}</table></div>`;

  const byVariant = withTokens.map(({ run, color }) => ({ run, color, stats: dependencyByVariant(run.tokens) }));
  const variants = [...new Set(byVariant.flatMap((v) => v.stats.map((s) => s.variant)))].sort(variantOrder);
  const variantChart = barChart({
    title: 'Mean S_t by task variant',
    yLabel: 'mean S_t',
    categories: variants,
    groups: byVariant.map(({ run, color, stats }) => ({ name: runLabel(run), color, values: variants.map((v) => stats.find((s) => s.variant === v)?.meanS ?? NaN) })),
  });

  return (
    `<h3>Distribution over tokens</h3><div class="grid">${figs.join('')}</div>` +
    `<h3>By token class</h3><div class="grid">${figure(classChart, 'Digits only the image shows should carry the dependency; template text (tags, names, words) should not. Classes: docs/analyses.md.')}<div class="side">${classTable}</div></div>` +
    `<h3>By variant</h3><div class="grid">${figure(variantChart, 'Vision-only problems show their values only in the image; text-dominant ones also write them in the question, so the policy can answer without looking.')}</div>`
  );
}

// ------------------------------------------------------------------------------------------------

function varianceSection(all: readonly RunStyle[]): string {
  // only runs with a finite pg_var (experiment.pg_var_freq > 0): the others would be NaN rows and empty legend entries
  const measured = all.map((rs) => ({ ...rs, pgVar: metricSeries(rs.run.metrics, 'pg_var') })).filter((r) => r.pgVar.length);
  if (!measured.length) return '<p class="note">No run logged a finite <code>pg_var</code> (it is measured when <code>experiment.pg_var_freq</code> > 0).</p>';
  const input = measured.map(({ run, pgVar }) => ({ algo: run.algo, pgVar, pgVarUniform: metricSeries(run.metrics, 'pg_var_uniform') }));
  const summary = pgVarianceByAlgo(input);
  const algos = summary.map((s) => s.algo);
  const chart = barChart({
    title: 'Policy-gradient variance (pg_var), geometric mean',
    yLabel: 'relative variance',
    categories: algos,
    groups: [{ name: 'pg_var', color: '#5b6b82', values: summary.map((s) => s.geoMean), colors: algos.map((a, i) => colorFor(a, i)) }],
  });
  const over = lineChart({
    title: 'pg_var over training',
    xLabel: 'step',
    yLabel: 'pg_var (log scale)',
    yLog: true,
    series: measured.map(({ run, color, pgVar }) => ({ name: runLabel(run), color, points: pgVar, dots: true, width: 1.5 })),
  });
  const ratio = pgVarianceRatio(summary);
  const rows = summary
    .map(
      (s) =>
        `<tr><th scope="row">${esc(s.algo)}</th><td class="num">${esc(s.runs)}</td><td class="num">${esc(s.steps)}</td><td class="num">${esc(formatNumber(s.geoMean))}</td><td class="num">${esc(formatNumber(s.median))}</td>` +
        `<td class="num">${s.pairedSteps ? `${esc(formatNumber(s.pairedRatio))} (${esc(s.pairedSteps)} steps)` : '–'}</td></tr>`,
    )
    .join('');
  const headline = Number.isFinite(ratio)
    ? `<p class="headline">PGPO / DAPO pg_var (geometric means): <strong>${esc(ratio.toFixed(2))}</strong> ${ratio < 1 ? '— lower under PGPO' : '— not lower under PGPO'}.</p>`
    : '';
  return (
    headline +
    `<div class="grid">${figure(chart, 'pg_var: on one batch, the variance of M chunk gradients relative to the squared norm of their mean (docs/analyses.md).')}${figure(over, 'Per logged step, one dot.')}</div>` +
    `<div class="table-wrap"><table class="plain"><tr><th>algorithm</th><th>runs</th><th>steps</th><th>geo. mean</th><th>median</th><th>paired: pg_var / pg_var_uniform, same batches</th></tr>${rows}</table></div>` +
    (measured.length < all.length
      ? `<p class="note">${esc(all.length - measured.length)} other run(s) logged no finite <code>pg_var</code> (<code>experiment.pg_var_freq</code> = 0) and are not shown here.</p>`
      : '')
  );
}

// ------------------------------------------------------------------------------------------------

/** Background colour for a token: white -> amber -> red as log(1+S)/log(1+S_ref) goes 0 -> 1. */
function heat(v: number): string {
  const stops: Array<[number, [number, number, number]]> = [
    [0, [255, 255, 255]],
    [0.35, [253, 226, 181]],
    [0.7, [240, 138, 75]],
    [1, [178, 24, 43]],
  ];
  const x = Math.max(0, Math.min(1, v));
  let i = 0;
  while (i < stops.length - 2 && x > stops[i + 1][0]) i++;
  const [a, ca] = stops[i];
  const [b, cb] = stops[i + 1];
  const t = (x - a) / (b - a);
  const c = ca.map((u, k) => Math.round(u + (cb[k] - u) * t));
  return `rgb(${c[0]},${c[1]},${c[2]})`;
}

function quantile(values: number[], q: number): number {
  if (!values.length) return 0;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * (s.length - 1)))];
}

function tokenSpans(r: Rollout, ref: number): string {
  const classes = classifyTokens(r.pieces, r.image_values, r.text_values);
  return r.pieces
    .map((p, t) => {
      const s = Math.max(0, r.dep[t] ?? 0);
      const w = r.weights[t];
      const v = ref > 0 ? Math.log1p(s) / Math.log1p(ref) : 0;
      const tip = `S=${formatNumber(s)} · w=${w === undefined ? '–' : w.toFixed(2)} · ${classes[t]}`;
      const amp = w !== undefined && w > 1 ? ` amp` : w !== undefined && w < 1 ? ` sup` : '';
      const style = `background:${heat(v)}${v > 0.72 ? ';color:#fff' : ''}`;
      return `<span class="tok${amp}" style="${style}" title="${esc(tip)}">${esc(p)}</span>`;
    })
    .join('');
}

function examplesFor(run: RunData, n: number): Rollout[] {
  if (!run.rollouts.length) return [];
  const last = run.rollouts[run.rollouts.length - 1].step;
  const pool = run.rollouts.filter((r) => r.step === last);
  // alternate right and wrong answers when both exist, so both signs of the advantage show
  const right = pool.filter((r) => r.accuracy === 1);
  const wrong = pool.filter((r) => r.accuracy !== 1);
  const out: Rollout[] = [];
  for (let i = 0; out.length < n && (i < right.length || i < wrong.length); i++) {
    if (i < right.length) out.push(right[i]);
    if (out.length < n && i < wrong.length) out.push(wrong[i]);
  }
  return out;
}

function heatmapSection(rs: readonly RunStyle[], perRun: number, maxRuns: number): string {
  const firstOfAlgo = rs.filter(({ run }, i) => rs.findIndex((x) => x.run.algo === run.algo) === i);
  const chosen = [...firstOfAlgo, ...rs.filter((x) => !firstOfAlgo.includes(x))].slice(0, maxRuns).filter(({ run }) => run.rollouts.length);
  if (!chosen.length) return '<p class="note">No example rollouts (rollouts/) in these runs.</p>';
  const all = chosen.flatMap(({ run }) => examplesFor(run, perRun));
  const ref = quantile(
    all.flatMap((r) => r.dep.map((x) => Math.max(0, x))),
    0.99,
  );
  const legendStops = [0, 0.25, 0.5, 0.75, 1]
    .map((v) => `<span class="tok" style="background:${heat(v)}${v > 0.72 ? ';color:#fff' : ''}">${esc(formatNumber(Math.expm1(v * Math.log1p(ref))))}</span>`)
    .join('');
  const cards = chosen
    .map(({ run, color }) => {
      const ex = examplesFor(run, perRun);
      const items = ex
        .map((r) => {
          const uri = pngDataUri(r.image_png);
          const img = uri ? `<img class="thumb" src="${uri}" width="144" height="144" alt="${esc(`${r.family} image`)}">` : '<div class="thumb missing">no image</div>';
          const ok = r.accuracy === 1 ? '<span class="good">✓ correct</span>' : '<span class="bad">✗ wrong</span>';
          return (
            `<article class="rollout">${img}<div class="rollout-body">` +
            `<div class="meta"><span class="pill">${esc(r.family)}</span><span class="pill">${esc(r.variant)}</span>${ok}<span>reward ${esc(formatNumber(r.reward))}</span><span>A = ${esc(formatNumber(r.advantage))}</span><span>answer ${esc(r.answer)}</span><span>step ${esc(r.step)}</span></div>` +
            `<p class="problem">${esc(r.problem)}</p><div class="response">${tokenSpans(r, ref)}</div></div></article>`
          );
        })
        .join('');
      return `<h3><span class="swatch" style="background:${color}"></span>${esc(runLabel(run))}</h3>${items}`;
    })
    .join('');
  return (
    `<p class="note">Each token's background is its visual dependency S_t on a log(1+S) scale shared by all examples below (legend: S_t at each shade). ` +
    `A blue underline marks an amplified token (w̃ &gt; 1), a dotted grey one a suppressed token (w̃ &lt; 1). Hover a token for S_t, its reshaped weight w̃_t and its class.</p>` +
    `<p class="legend-strip">S_t: ${legendStops}</p>${cards}`
  );
}

// ------------------------------------------------------------------------------------------------

const CSS = `
:root{--fg:#1d2330;--muted:#5d6676;--line:#e3e6ec;--bg:#f6f7f9;--card:#fff;--accent:#2f6fd6}
*{box-sizing:border-box}
body{margin:0;font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:var(--fg);background:var(--bg)}
header{background:#18202f;color:#fff;padding:28px 40px 22px}
header h1{margin:0 0 4px;font-size:26px;font-weight:650;letter-spacing:-.01em}
header p{margin:0;color:#b9c2d3;font-size:14px}
nav{position:sticky;top:0;z-index:5;background:#fff;border-bottom:1px solid var(--line);padding:8px 40px;display:flex;gap:18px;flex-wrap:wrap;font-size:14px}
nav a{color:var(--muted);text-decoration:none}nav a:hover{color:var(--accent)}
main{max-width:1240px;margin:0 auto;padding:8px 40px 60px}
section{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:18px 24px 20px;margin:22px 0}
h2{margin:0 0 10px;font-size:20px}h3{margin:22px 0 8px;font-size:16px;display:flex;align-items:center;gap:8px}
code{font:13px ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;background:#f0f2f5;padding:1px 4px;border-radius:4px}
.note{color:var(--muted);font-size:13.5px;margin:8px 0}
.headline{font-size:16px;margin:4px 0 10px}
.grid{display:flex;flex-wrap:wrap;gap:18px;align-items:flex-start}
.fig{margin:0;flex:1 1 460px;max-width:calc(50% - 9px);min-width:320px}
.fig figcaption{color:var(--muted);font-size:13px;margin-top:2px}
.side{flex:1 1 420px;min-width:0}
svg.chart{display:block;width:100%;height:auto;background:#fff;font-family:inherit}
@media (max-width:900px){.fig{max-width:100%}}
svg .chart-title{font-size:14px;font-weight:600;fill:var(--fg)}
svg .tick{font-size:11px;fill:var(--muted)}
svg .axis-label{font-size:12px;fill:var(--muted)}
svg .axis{stroke:#9aa3b2;stroke-width:1}
svg .grid{stroke:#eef0f4;stroke-width:1}
svg .legend-item text{font-size:12px;fill:var(--fg)}
svg .marker text{font-size:11px}
svg .chart-note{font-size:12px;fill:var(--fg)}
svg .empty-note{font-size:13px;fill:var(--muted)}
.table-wrap{overflow-x:auto}
table{border-collapse:collapse;font-size:13.5px;margin:6px 0}
th,td{padding:6px 10px;border-bottom:1px solid var(--line);text-align:left;vertical-align:top}
th{font-weight:600;white-space:nowrap}
td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
table.compare td.best{font-weight:700}
.ci{display:block;color:var(--muted);font-size:11.5px;font-weight:400}
.swatch{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:6px;flex:none}
.good{color:#1e7f4f;font-weight:600}.bad{color:#b3261e;font-weight:600}.warn{color:#a86400;font-weight:600}
.cards{display:flex;flex-wrap:wrap;gap:12px}
.card{border:1px solid var(--line);border-radius:8px;padding:10px 14px;min-width:200px}
.card b{display:block;font-size:15px}.card span{color:var(--muted);font-size:13px}
.rollout{display:flex;gap:16px;padding:12px 0;border-top:1px solid var(--line)}
.thumb{width:144px;height:144px;image-rendering:pixelated;border:1px solid var(--line);border-radius:6px;flex:none;background:#fff}
.thumb.missing{display:flex;align-items:center;justify-content:center;color:var(--muted);font-size:12px}
.rollout-body{min-width:0;flex:1}
.meta{display:flex;flex-wrap:wrap;gap:10px;font-size:12.5px;color:var(--muted);align-items:center}
.pill{background:#eef2fa;color:#2b3f66;border-radius:10px;padding:0 8px}
.problem{margin:6px 0;font-size:14px}
.response{font:14px/2 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;white-space:pre-wrap;word-break:break-word}
.tok{position:relative;border-radius:3px;padding:1px 0;border-bottom:2px solid transparent}
.tok.amp{border-bottom-color:var(--accent)}
.tok.sup{border-bottom:2px dotted #b8bec8}
.tok:hover{outline:1px solid #18202f}
.legend-strip{font-size:13px;color:var(--muted)}.legend-strip .tok{display:inline-block;padding:0 8px;margin-right:2px;font:12px ui-monospace,monospace}
footer{color:var(--muted);font-size:12.5px;text-align:center;padding:20px}
`;

/** The whole page. Deterministic for a given input (pass `generated` to fix the header's time). */
export function renderReport(input: ReportInput): string {
  const rs = styles(input.runs);
  const sections: Array<{ id: string; title: string; body: string }> = [];
  const tables = input.compares.map((c) => compareTable(c) + differencesTable(c) + armLadderTable(c)).join('');
  // a comparison's runs show on the ladder by arm, above; the others one by one
  const evals = evalTable(input.runs) + runLadderTable(input.runs.filter((r) => !input.compares.some((c) => c.runs.includes(r))));
  if (tables || evals) sections.push({ id: 'comparison', title: 'Comparison', body: tables + evals });
  if (rs.length) {
    const cards = rs
      .map(({ run, color }) => {
        const last = run.metrics.at(-1);
        return (
          `<div class="card"><b><span class="swatch" style="background:${color}"></span>${esc(runLabel(run))}</b>` +
          `<span>${esc(run.algo)}${run.seed === null ? '' : ` · seed ${esc(run.seed)}`} · ${esc(run.metrics.length)} steps${last ? ` · last step ${esc(last.step)}` : ''}` +
          `${run.eval ? ` · eval ${pct(run.eval.overall.accuracy)}%` : ''}</span></div>`
        );
      })
      .join('');
    sections.push({ id: 'runs', title: 'Runs', body: `<div class="cards">${cards}</div>` });
    sections.push({ id: 'curves', title: 'Training curves and collapse', body: curvesSection(rs) });
    sections.push({ id: 'dependency', title: 'Visual dependency S_t', body: dependencySection(rs) });
    sections.push({ id: 'variance', title: 'Policy-gradient variance', body: varianceSection(rs) });
    sections.push({ id: 'heatmaps', title: 'Example rollouts, token by token', body: heatmapSection(rs, input.examplesPerRun ?? 4, input.heatmapRuns ?? 6) });
  }
  const sources = [...input.compares.map((c) => c.path), ...input.runs.filter((r) => !input.compares.some((c) => c.runs.includes(r))).map((r) => r.path)];
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; style-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>pgpo report</title><style>${CSS}</style></head>
<body><header><h1>pgpo report</h1><p>${esc(input.runs.length)} run(s) from ${sources.map((s) => `<code>${esc(s)}</code>`).join(', ') || 'no input'}${input.generated ? ` · generated ${esc(input.generated)}` : ''}</p></header>
<nav>${sections.map((s) => `<a href="#${s.id}">${esc(s.title)}</a>`).join('')}</nav>
<main>${sections.map((s) => `<section id="${s.id}"><h2>${esc(s.title)}</h2>${s.body}</section>`).join('\n')}</main>
<footer>Perception-Grounded Policy Optimization · made by <code>pgpo report</code> · self-contained: no scripts, no network</footer>
</body></html>
`;
}
