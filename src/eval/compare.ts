/**
 * The comparison in the paper's shape: one row per algorithm (or ablation arm), one column per
 * task family and variant group, each cell the mean avg@k over seeds with a 95% interval
 * (Student t over the per-seed values). Pure: it takes eval reports, returns the table.
 */
import { useOf } from '../tasks/index.ts';
import { ERROR_CLASSES, type ErrorClass } from './errors.ts';
import { summarizeRows, type EvalReport, type ProblemResult } from './evaluate.ts';

export interface Arm {
  /** Row name, e.g. `pgpo` or `tau0.2-beta1`. */
  readonly name: string;
  /** `base`: evaluate the base checkpoint only; else the algorithm to train. */
  readonly algo: string;
  readonly overrides: ReadonlyArray<readonly [string, string]>;
}

export const DEFAULT_ARMS = ['base', 'grpo', 'dapo', 'papo', 'vppo', 'pgpo'];

export function algoArms(names: readonly string[]): Arm[] {
  return names.map((name) => ({ name, algo: name, overrides: [] }));
}

/**
 * The paper's Tables 2 and 3: components (with `uniform`, every token weighted 1), then the tau x
 * beta grid. `uniform` is trained as DAPO: PGPO's update with all weights 1 is DAPO's update
 * (test/algo/pgpo.test.ts, variant none), so the run is DAPO's and reuses a DAPO run's folder.
 */
export function ablationArms(): Arm[] {
  const v = (name: string, variant: string): Arm => ({ name, algo: 'pgpo', overrides: [['algorithm.pgpo.variant', variant]] });
  const arms: Arm[] = [v('pgpo', 'pgpo'), v('no-norm', 'pgpo-no-norm'), v('suppress-only', 'suppress-only'), v('boost-only', 'boost-only'), { name: 'uniform', algo: 'dapo', overrides: [] }];
  for (const tau of [0.2, 0.4, 0.6]) {
    for (const beta of [1.0, 2.0]) {
      if (tau === 0.4 && beta === 2.0) continue; // the default: the `pgpo` row
      arms.push({
        name: `tau${tau}-beta${beta}`,
        algo: 'pgpo',
        overrides: [
          ['algorithm.pgpo.tau', String(tau)],
          ['algorithm.pgpo.beta', String(beta)],
        ],
      });
    }
  }
  return arms;
}

/** Two-sided 97.5% Student t quantiles for 1..30 degrees of freedom. */
const T975_TABLE = [
  12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131, 2.12, 2.11, 2.101, 2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048, 2.045,
  2.042,
];

/**
 * The 97.5% quantile of Student's t with `df` degrees of freedom: the table up to 30, then the
 * Cornish-Fisher expansion around the normal quantile (within 2e-4 of the exact value from 31 on).
 */
export function t975(df: number): number {
  if (!(df >= 1)) throw new RangeError(`t975: degrees of freedom must be >= 1, got ${df}`);
  if (df <= T975_TABLE.length) return T975_TABLE[Math.floor(df) - 1];
  const z = 1.959963984540054;
  return z + (z ** 3 + z) / (4 * df) + (5 * z ** 5 + 16 * z ** 3 + 3 * z) / (96 * df * df);
}

export interface Cell {
  readonly mean: number | null;
  readonly lo: number | null;
  readonly hi: number | null;
  readonly n: number;
}

/** Mean and 95% t interval of per-seed values (a single seed: no interval). */
export function meanInterval(values: readonly number[]): Cell {
  const n = values.length;
  if (n === 0) return { mean: null, lo: null, hi: null, n: 0 };
  const mean = values.reduce((a, b) => a + b, 0) / n;
  if (n === 1) return { mean, lo: null, hi: null, n };
  const sd = Math.sqrt(values.reduce((a, x) => a + (x - mean) ** 2, 0) / (n - 1));
  const half = (t975(n - 1) * sd) / Math.sqrt(n);
  return { mean, lo: mean - half, hi: mean + half, n };
}

/** Columns: each family, then each variant, then each rung (ladder world, when there are several), then overall. */
export function columnsOf(reports: readonly EvalReport[]): string[] {
  const fam = [...new Set(reports.flatMap((r) => Object.keys(r.by_family)))].sort();
  const order = ['text-dominant', 'text-lite', 'vision-intensive', 'vision-dominant', 'vision-only'];
  const vars = [...new Set(reports.flatMap((r) => Object.keys(r.by_variant)))].sort((a, b) => order.indexOf(a) - order.indexOf(b));
  const rungs = [...new Set(reports.flatMap((r) => Object.keys(r.by_rung ?? {})))].sort();
  return [...fam, ...vars, ...(rungs.length > 1 ? rungs : []), 'overall'];
}

function valueOf(r: EvalReport, column: string): number | undefined {
  if (column === 'overall') return r.overall.accuracy;
  return r.by_family[column]?.accuracy ?? r.by_variant[column]?.accuracy ?? r.by_rung?.[column]?.accuracy;
}

export interface CompareTable {
  readonly algos: string[];
  readonly seeds: number;
  readonly columns: string[];
  readonly rows: Array<{ algo: string; cells: Cell[] }>;
}

export function compareTable(results: ReadonlyArray<{ arm: string; reports: readonly EvalReport[] }>, seeds: number): CompareTable {
  const columns = columnsOf(results.flatMap((r) => r.reports));
  return {
    algos: results.map((r) => r.arm),
    seeds,
    columns,
    rows: results.map((r) => ({
      algo: r.arm,
      cells: columns.map((c) => meanInterval(r.reports.map((x) => valueOf(x, c)).filter((v): v is number => v !== undefined))),
    })),
  };
}

/** Markdown: `mean ± half-width` in percent. */
export function formatCompareTable(t: CompareTable): string {
  const cell = (c: Cell) => (c.mean === null ? '–' : c.lo === null ? (100 * c.mean).toFixed(1) : `${(100 * c.mean).toFixed(1)} ± ${((100 * (c.hi! - c.lo)) / 2).toFixed(1)}`);
  const lines = [`| algorithm | ${t.columns.join(' | ')} |`, `|---|${t.columns.map(() => '---:').join('|')}|`];
  for (const r of t.rows) lines.push(`| ${r.algo} | ${r.cells.map(cell).join(' | ')} |`);
  return lines.join('\n');
}

export interface PairedGain {
  /** Mean over the rows both reports evaluated of d_i = trained_i - base_i (per-row accuracy): the overall gain. */
  readonly gain: number;
  /** 95% interval of the gain (cluster-robust, Student t over the clusters), null below 2 clusters. */
  readonly lo: number | null;
  readonly hi: number | null;
  /** Rows present in both reports. */
  readonly n: number;
  /** Independent units the interval rests on: distinct problem keys (a row without a key is its own). */
  readonly clusters: number;
}

/**
 * The gain of `trained` over `base` paired by row: d_i = c_i/k - b_i/k' on each test row both
 * evaluated, gain = mean d_i. Pairing removes the variance between problems (easy vs hard) that
 * two unpaired accuracies carry. The rows are not independent, though: the variants of one
 * problem (one `problem_key`) share its figure and values, so their differences move together.
 * The interval therefore treats each problem as the unit (the cluster-robust CR1 estimator):
 *   e_c = sum over the rows of problem c of (d_i - gain),  C problems, N rows,
 *   se^2 = C / (C - 1) * sum_c e_c^2 / N^2,   gain ± t975(C - 1) se.
 * With one row per problem it is the ordinary paired t-interval.
 */
export function pairedGain(base: EvalReport, trained: EvalReport): PairedGain {
  const before = new Map(base.problems.map((p) => [p.id, p.correct / p.k]));
  const rows: Array<{ d: number; cluster: string }> = [];
  for (const p of trained.problems) {
    const b = before.get(p.id);
    if (b !== undefined) rows.push({ d: p.correct / p.k - b, cluster: p.problem_key === undefined ? `id:${p.id}` : `key:${p.problem_key}` });
  }
  const n = rows.length;
  if (n === 0) return { gain: trained.overall.accuracy - base.overall.accuracy, lo: null, hi: null, n: 0, clusters: 0 };
  const gain = rows.reduce((a, r) => a + r.d, 0) / n;
  const sums = new Map<string, number>();
  for (const r of rows) sums.set(r.cluster, (sums.get(r.cluster) ?? 0) + (r.d - gain));
  const C = sums.size;
  if (C < 2) return { gain, lo: null, hi: null, n, clusters: C };
  const se = Math.sqrt((C / (C - 1)) * [...sums.values()].reduce((a, e) => a + e * e, 0)) / n;
  const half = t975(C - 1) * se;
  return { gain, lo: gain - half, hi: gain + half, n, clusters: C };
}

/**
 * Several evaluations of one policy on the same rows (other sampling seeds) as one: each row's
 * correct, k and error counts summed, so avg@8 under seeds 1, 2, 3 becomes avg@24 of the row. A
 * gain paired over pooled reports re-draws both sides; one evaluation of a base shared by many
 * runs does not. Only the rows every report evaluated are kept; `format` is the reports' mean.
 */
export function poolReports(reports: readonly EvalReport[]): EvalReport {
  if (reports.length === 0) throw new RangeError('poolReports: no report to pool');
  const [first, ...rest] = reports;
  const others = rest.map((r) => new Map(r.problems.map((p) => [p.id, p])));
  const problems = first.problems.flatMap((p): ProblemResult[] => {
    const all = [p, ...others.map((m) => m.get(p.id))];
    if (all.some((q) => q === undefined)) return [];
    const rows = all as ProblemResult[];
    const sum = (f: (q: ProblemResult) => number) => rows.reduce((a, q) => a + f(q), 0);
    const errors = rows.every((q) => q.errors) ? (Object.fromEntries(ERROR_CLASSES.map((c) => [c, sum((q) => q.errors![c])])) as Record<ErrorClass, number>) : undefined;
    const prior = rows.every((q) => q.answered_prior !== undefined) ? { answered_prior: sum((q) => q.answered_prior!) } : {};
    return [{ ...p, correct: sum((q) => q.correct), k: sum((q) => q.k), ...(errors ? { errors } : {}), ...prior }];
  });
  const format = reports.reduce((a, r) => a + r.format, 0) / reports.length;
  return { ...first, k: reports.reduce((a, r) => a + r.k, 0), format, ...summarizeRows(problems), problems };
}

/** Points with a sign: +1.2, -0.4. */
const pts = (x: number) => `${x >= 0 ? '+' : ''}${(100 * x).toFixed(1)}`;

/** One line: the gain in points, the interval, and whether the evaluation can tell it from noise. */
export function formatGain(base: EvalReport, trained: EvalReport): string {
  const g = pairedGain(base, trained);
  const pct = (r: EvalReport) => `${(100 * r.overall.accuracy).toFixed(1)}%`;
  if (g.n === 0) return `gain: none measured: the two evaluations share no row (other suite settings?); overall ${pct(base)} -> ${pct(trained)}, not comparable`;
  const rows = Math.max(base.problems.length, trained.problems.length);
  // the overall accuracies below are over all each report evaluated: say when that is not the paired rows
  const partial = g.n < rows ? ` (only ${g.n} of ${rows} rows in common: other suite settings?)` : '';
  const over = g.clusters === g.n ? `${g.n} problems` : `${g.clusters} problems (${g.n} rows)`;
  const interval = g.lo === null ? '' : `; 95% interval ${pts(g.lo)} to ${pts(g.hi!)}, paired over ${over}`;
  // a gain whose interval includes 0 is not one the evaluation can tell from sampling noise
  const verdict = g.lo === null ? '' : g.lo > 0 ? ' — a measured gain' : g.hi! < 0 ? ' — a measured loss' : ' — within the evaluation noise';
  return `gain: ${pts(g.gain)} points overall (${pct(base)} -> ${pct(trained)}${interval})${verdict}${partial}`;
}

/**
 * A training-split evaluation divided by the key split (experiment.rl_fraction): the rows whose
 * problem the warm start trained on, and those reserved for RL — with each share's accuracy and,
 * given the base's evaluation of the same rows, its paired gain. What RL learned shows on its own
 * problems; whether it carries over shows on the others (and on the test split). Null when a row
 * has no problem key (a dataset without a problem_key column).
 */
export function formatByShare(report: EvalReport, rlFraction: number, base?: EvalReport): string | null {
  if (!report.problems.every((p) => p.problem_key !== undefined)) return null;
  const share = (r: EvalReport, use: 'sft' | 'rl'): EvalReport => ({ ...r, problems: r.problems.filter((p) => p.problem_key !== undefined && useOf(p.problem_key, rlFraction) === use) });
  const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
  const lines = [`by the key split (experiment.rl_fraction ${rlFraction}):`];
  for (const [use, name] of [
    ['sft', "SFT's problems"],
    ['rl', "RL's problems "],
  ] as const) {
    const mine = share(report, use);
    const n = mine.problems.length;
    let line = `  ${name}  ${String(n).padStart(5)} rows  ${n ? pct(summarizeRows(mine.problems).overall.accuracy).padStart(6) : '     –'}`;
    if (base && n) {
      const g = pairedGain(share(base, use), mine);
      if (g.n) line += `  gain ${pts(g.gain)} points${g.lo === null ? '' : ` (95% interval ${pts(g.lo)} to ${pts(g.hi!)}, ${g.clusters} problems)`}`;
    }
    lines.push(line);
  }
  return lines.join('\n');
}

export interface ArmDifference {
  /** The two rows compared: `a - b`. */
  readonly a: string;
  readonly b: string;
  /** mean(a's replicates) - mean(b's), in accuracy units. */
  readonly diff: number;
  /** 95% Welch interval; null unless both sides have two replicates and some spread. */
  readonly lo: number | null;
  readonly hi: number | null;
  /** Welch-Satterthwaite degrees of freedom (null without an interval). */
  readonly df: number | null;
}

/**
 * The difference of two arms' mean accuracy over their replicates (a trained arm: one value per
 * RL seed, each pooled over its sampling seeds; the base: one per evaluation of the one
 * checkpoint), with a 95% Welch t-interval:
 *   se^2 = s_a^2 / n_a + s_b^2 / n_b,  df = se^4 / ((s_a^2/n_a)^2/(n_a-1) + (s_b^2/n_b)^2/(n_b-1)).
 * The replicates' spread holds both the RL seed's effect and the sampling noise of the evaluation;
 * the test problems are the same for every arm and are held fixed. Without two replicates a side,
 * or with no spread at all, there is no interval.
 */
export function armDifference(a: string, av: readonly number[], b: string, bv: readonly number[]): ArmDifference {
  if (av.length === 0 || bv.length === 0) throw new RangeError(`armDifference: ${av.length ? b : a} has no replicate`);
  const mean = (v: readonly number[]) => v.reduce((s, x) => s + x, 0) / v.length;
  const term = (v: readonly number[]) => {
    if (v.length < 2) return null;
    const m = mean(v);
    return { w: v.reduce((s, x) => s + (x - m) ** 2, 0) / (v.length - 1) / v.length, df: v.length - 1 };
  };
  const diff = mean(av) - mean(bv);
  const ta = term(av);
  const tb = term(bv);
  // a side with one replicate has a spread nobody measured, and a zero spread is no evidence of none: no interval
  if (ta === null || tb === null || ta.w + tb.w === 0) return { a, b, diff, lo: null, hi: null, df: null };
  const terms = [ta, tb];
  const v = ta.w + tb.w;
  const df = v ** 2 / terms.reduce((s, t) => s + t.w ** 2 / t.df, 0);
  const half = t975(Math.max(1, df)) * Math.sqrt(v);
  return { a, b, diff, lo: diff - half, hi: diff + half, df };
}

/**
 * The differences a reader needs, each over the arms' replicates (one per run; `armDifference`):
 * every trained arm against DAPO (PGPO's own base recipe) and against each base row (base,
 * base@T). In an ablation, the reference is full PGPO (the paper's claim: full ahead of every
 * ablated arm), or `uniform` (DAPO's update) when full PGPO is not among the arms. `measure` reads
 * the number compared off each replicate (accuracy, or the share answering a misleading prior).
 */
export function armDifferences(results: ReadonlyArray<{ arm: string; reports: readonly EvalReport[] }>, o: { ablation: boolean; measure: (r: EvalReport) => number }): ArmDifference[] {
  const values = (r: { reports: readonly EvalReport[] }) => r.reports.map(o.measure);
  const bases = results.filter((r) => r.arm === 'base' || r.arm.startsWith('base@'));
  const trained = results.filter((r) => !bases.includes(r));
  const ref = o.ablation ? (results.find((r) => r.arm === 'pgpo') ?? results.find((r) => r.arm === 'uniform')) : undefined;
  const out: ArmDifference[] = [];
  if (ref) {
    for (const r of trained) if (r !== ref) out.push(armDifference(ref.arm, values(ref), r.arm, values(r)));
    for (const b of bases) out.push(armDifference(ref.arm, values(ref), b.arm, values(b)));
    return out;
  }
  const dapo = results.find((r) => r.arm === 'dapo');
  for (const r of trained) {
    if (dapo && r !== dapo) out.push(armDifference(r.arm, values(r), dapo.arm, values(dapo)));
    for (const b of bases) out.push(armDifference(r.arm, values(r), b.arm, values(b)));
  }
  return out;
}

/**
 * Markdown: one line per difference, in points with its interval and what it says. `above`
 * words a resolved difference: `ahead` for accuracy, `higher` for a rate that is not a score
 * (the share answering a misleading prior).
 */
export function formatDifferences(ds: readonly ArmDifference[], above: 'ahead' | 'higher' = 'ahead'): string {
  const lines = ['| difference | points | 95% interval | reading |', '|---|---:|---:|---|'];
  for (const d of ds) {
    const interval = d.lo === null ? '–' : `${pts(d.lo)} to ${pts(d.hi!)}`;
    const reading = d.lo === null ? 'no interval (one replicate a side, or no spread)' : d.lo > 0 ? `${d.a} ${above}` : d.hi! < 0 ? `${d.b} ${above}` : 'not told apart';
    lines.push(`| ${d.a} − ${d.b} | ${pts(d.diff)} | ${interval} | ${reading} |`);
  }
  return lines.join('\n');
}

/**
 * Where each arm's samples go (all its evaluations pooled): accuracy, the share of samples that
 * answered a misleading language prior (ladder world; of the samples whose prior is wrong), and
 * the error classes of src/eval/errors.ts (misread, computed wrong, unformatted; of all samples).
 */
export function formatSplitTable(results: ReadonlyArray<{ arm: string; reports: readonly EvalReport[] }>): string {
  const pctOf = (x: number | undefined) => (x === undefined || !Number.isFinite(x) ? '–' : (100 * x).toFixed(1));
  const lines = ['| arm | accuracy | answered the prior | misread | computed wrong | unformatted |', '|---|---:|---:|---:|---:|---:|'];
  for (const { arm, reports } of results) {
    if (!reports.length) continue;
    const r = poolReports(reports);
    const e = r.errors?.overall;
    lines.push(`| ${arm} | ${pctOf(r.overall.accuracy)} | ${pctOf(r.prior?.rate)} | ${pctOf(e?.misread)} | ${pctOf(e?.computation)} | ${pctOf(e?.unformatted)} |`);
  }
  return lines.join('\n');
}

/**
 * The same split per family, one row per (family, arm), families grouped: where an arm's errors
 * sit (a family that misreads against one that reads and computes wrong) and which families'
 * priors it answers. "–" where a family has no gold solution or no misleading prior.
 */
export function formatFamilySplitTable(results: ReadonlyArray<{ arm: string; reports: readonly EvalReport[] }>): string {
  const pctOf = (x: number | undefined) => (x === undefined || !Number.isFinite(x) ? '–' : (100 * x).toFixed(1));
  const pooled = results.filter((x) => x.reports.length).map(({ arm, reports }) => ({ arm, r: poolReports(reports) }));
  const families = [...new Set(pooled.flatMap(({ r }) => Object.keys(r.by_family)))].sort();
  const lines = ['| family | arm | accuracy | answered the prior | misread | computed wrong | unformatted |', '|---|---|---:|---:|---:|---:|---:|'];
  for (const f of families)
    for (const { arm, r } of pooled) {
      const e = r.errors?.by_family?.[f];
      lines.push(`| ${f} | ${arm} | ${pctOf(r.by_family[f]?.accuracy)} | ${pctOf(r.prior_by_family?.[f]?.rate)} | ${pctOf(e?.misread)} | ${pctOf(e?.computation)} | ${pctOf(e?.unformatted)} |`);
    }
  return lines.join('\n');
}
