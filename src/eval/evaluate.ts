/**
 * avg@k evaluation (the paper's protocol: k = 8 samples per problem at temperature 1.0; greedy
 * as an option): the share of correct samples, overall, per family, per variant and per
 * (family, variant) cell; and, where gold solutions are known, what share of samples misread a
 * given value and what share read every value right but computed wrong (errors.ts).
 * Deterministic for a seed.
 */
import { existsSync } from 'node:fs';
import { readJsonFile } from '../data/read-json.ts';
import { z } from 'zod';
import { priorCounts } from './prior.ts';
import type { Policy } from '../core/policy.ts';
import type { Problem, RewardFn } from '../core/problem.ts';
import { Rng } from '../engine/rng.ts';
import { classifyError, ERROR_CLASSES, type ErrorClass } from './errors.ts';

export interface EvalOptions {
  readonly k: number;
  readonly temperature: number;
  readonly greedy: boolean;
  readonly maxNewTokens: number;
  readonly seed: number;
  /** Prompts per sampling call. */
  readonly batchPrompts?: number;
  readonly onProgress?: (done: number, total: number) => void;
}

export interface Cell {
  /** Mean accuracy over problems x samples. */
  readonly accuracy: number;
  /** Problems. */
  readonly n: number;
}

export interface ProblemResult {
  readonly id: string;
  readonly family: string;
  readonly variant: string;
  /** The problem behind the row, when known: rows sharing it are variants of one problem. */
  readonly problem_key?: string;
  readonly correct: number;
  readonly k: number;
  /** The first sample's text, for a look at what the policy writes. */
  readonly sample: string;
  /** Samples per error class (errors.ts); absent without a gold solution. */
  readonly errors?: Record<ErrorClass, number>;
  /** Ladder world: the problem's rung. */
  readonly rung?: number;
  /** Ladder world, kinds with a language prior that misleads here: samples that answered the prior (of k). */
  readonly answered_prior?: number;
}

/** How often the samples of problems whose language prior misleads answered the prior (src/eval/prior.ts). */
export interface PriorShare {
  /** Samples of problems whose prior is wrong. */
  readonly n: number;
  /** Share of them that answered the prior. */
  readonly rate: number;
}

/** Shares of samples per error class, over the problems that have a gold solution. */
export type ErrorShares = Record<ErrorClass, number>;

export interface EvalReport {
  readonly k: number;
  readonly temperature: number;
  readonly greedy: boolean;
  readonly overall: Cell;
  readonly format: number;
  readonly by_family: Record<string, Cell>;
  readonly by_variant: Record<string, Cell>;
  readonly by_family_variant: Record<string, Cell>;
  /** Error classes overall, per variant and per family (families with a gold solution); absent when no problem has one. */
  readonly errors?: { readonly overall: ErrorShares; readonly by_variant: Record<string, ErrorShares>; readonly by_family?: Record<string, ErrorShares> };
  /** Ladder world: accuracy per rung ('rung 3'), and the share of prior answers overall and per rung. */
  readonly by_rung?: Record<string, Cell>;
  readonly prior?: PriorShare;
  readonly prior_by_rung?: Record<string, PriorShare>;
  /** Ladder world: the share of prior answers per family whose prior misleads somewhere in the rows. */
  readonly prior_by_family?: Record<string, PriorShare>;
  readonly problems: ProblemResult[];
}

export class EvalReportError extends Error {
  override name = 'EvalReportError';
}

const CellSchema = z.looseObject({ accuracy: z.number(), n: z.number() });
/** What the readers of an eval.json use (tables, pairedGain); extra fields pass through. */
const EvalReportSchema = z.looseObject({
  k: z.number(),
  temperature: z.number(),
  overall: CellSchema,
  format: z.number(),
  by_family: z.record(z.string(), CellSchema),
  by_variant: z.record(z.string(), CellSchema),
  problems: z.array(z.looseObject({ id: z.string(), problem_key: z.string().optional(), correct: z.number(), k: z.number() })),
});

/** An eval.json written by `pgpo eval`, validated: a bad file is an error naming it and the field. */
export function readEvalReport(file: string): EvalReport {
  if (!existsSync(file)) throw new EvalReportError(`${file} does not exist`);
  const describe = (e: z.ZodError) => `not an eval.json written by pgpo eval (${e.issues[0].path.join('.') || 'top level'}: ${e.issues[0].message})`;
  return readJsonFile(file, EvalReportSchema, (detail) => new EvalReportError(`${file}: ${detail}`), describe) as unknown as EvalReport;
}

function errorShares(results: readonly ProblemResult[]): ErrorShares | null {
  const withGold = results.filter((r) => r.errors);
  const n = withGold.reduce((a, r) => a + r.k, 0);
  if (n === 0) return null;
  return Object.fromEntries(ERROR_CLASSES.map((c) => [c, withGold.reduce((a, r) => a + r.errors![c], 0) / n])) as ErrorShares;
}

function cells(results: readonly ProblemResult[], key: (r: ProblemResult) => string): Record<string, Cell> {
  const acc = new Map<string, { s: number; n: number }>();
  for (const r of results) {
    const c = acc.get(key(r)) ?? { s: 0, n: 0 };
    c.s += r.correct / r.k;
    c.n++;
    acc.set(key(r), c);
  }
  return Object.fromEntries([...acc].sort(([a], [b]) => a.localeCompare(b)).map(([name, c]) => [name, { accuracy: c.s / c.n, n: c.n }]));
}

export async function evaluate(policy: Policy, problems: readonly Problem[], reward: RewardFn, o: EvalOptions): Promise<EvalReport> {
  const k = o.greedy ? 1 : o.k;
  const per = o.batchPrompts ?? 16;
  const rng = Rng.seeded(o.seed).fork('eval');
  const results: ProblemResult[] = [];
  let formatSum = 0;
  for (let start = 0; start < problems.length; start += per) {
    const chunk = problems.slice(start, start + per);
    const rollouts = await policy.sample(
      chunk.map((p) => ({ image: p.image, prompt: policy.encodePrompt(p.problem) })),
      { n: k, temperature: o.temperature, topP: 1, maxNewTokens: o.maxNewTokens, greedy: o.greedy, seed: rng.fork(`chunk:${start}`).u32() },
    );
    chunk.forEach((p, i) => {
      const texts = rollouts.slice(i * k, (i + 1) * k).map((r) => policy.decode(r.tokens));
      const scores = texts.map((t) => reward(t, p.answer));
      formatSum += scores.reduce((a, s) => a + s.format, 0);
      const solution = p.solution;
      const errors = solution === undefined ? undefined : (Object.fromEntries(ERROR_CLASSES.map((c) => [c, 0])) as Record<ErrorClass, number>);
      if (errors && solution !== undefined) texts.forEach((t, j) => errors[classifyError(t, solution, scores[j].accuracy === 1)]++);
      const prior = p.priorAnswer === undefined ? null : priorCounts(texts.map((response) => ({ answer: p.answer, priorAnswer: p.priorAnswer, response })));
      results.push({
        id: p.id,
        family: p.family,
        variant: p.variant,
        ...(p.problemKey && { problem_key: p.problemKey }),
        correct: scores.reduce((a, s) => a + s.accuracy, 0),
        k,
        sample: texts[0],
        ...(errors ? { errors } : {}),
        ...(p.rung !== undefined ? { rung: p.rung } : {}),
        ...(prior && prior.misleading > 0 ? { answered_prior: prior.answeredPrior } : {}),
      });
    });
    o.onProgress?.(Math.min(problems.length, start + per), problems.length);
  }
  return { k, temperature: o.temperature, greedy: o.greedy, format: formatSum / Math.max(1, results.length * k), ...summarizeRows(results), problems: results };
}

/**
 * What a report says about its rows: avg@k overall (the mean over rows of correct / k), per family,
 * variant and both, and the error classes. Shared by `evaluate` and by what re-cuts or pools
 * reports (src/eval/compare.ts), so every accuracy is computed one way.
 */
/** The share of prior answers over rows whose prior misleads (null when there is none). */
function priorShare(results: readonly ProblemResult[]): PriorShare | null {
  const rows = results.filter((r) => r.answered_prior !== undefined);
  const n = rows.reduce((a, r) => a + r.k, 0);
  return n === 0 ? null : { n, rate: rows.reduce((a, r) => a + r.answered_prior!, 0) / n };
}

export function summarizeRows(
  results: readonly ProblemResult[],
): Pick<EvalReport, 'overall' | 'by_family' | 'by_variant' | 'by_family_variant' | 'errors' | 'by_rung' | 'prior' | 'prior_by_rung' | 'prior_by_family'> {
  const errOverall = errorShares(results);
  const sharesBy = (key: (r: ProblemResult) => string) =>
    Object.fromEntries(
      [...new Set(results.map(key))]
        .sort()
        .map((v) => [v, errorShares(results.filter((r) => key(r) === v))] as const)
        .filter((e): e is readonly [string, ErrorShares] => e[1] !== null),
    );
  const errors = errOverall && { overall: errOverall, by_variant: sharesBy((r) => r.variant), by_family: sharesBy((r) => r.family) };
  return {
    overall: cells(results, () => 'all').all ?? { accuracy: NaN, n: 0 },
    by_family: cells(results, (r) => r.family),
    by_variant: cells(results, (r) => r.variant),
    by_family_variant: cells(results, (r) => `${r.family}/${r.variant}`),
    ...(errors ? { errors } : {}),
    ...ladderSummary(results),
  };
}

/** Per-rung accuracy and prior answers, for reports on the ladder world (nothing otherwise). */
function ladderSummary(results: readonly ProblemResult[]): Pick<EvalReport, 'by_rung' | 'prior' | 'prior_by_rung' | 'prior_by_family'> {
  const laddered = results.filter((r) => r.rung !== undefined);
  if (laddered.length === 0) return {};
  const rungs = [...new Set(laddered.map((r) => r.rung!))].sort((a, b) => a - b);
  const prior = priorShare(laddered);
  const byRung: Record<string, PriorShare> = {};
  for (const g of rungs) {
    const share = priorShare(laddered.filter((r) => r.rung === g));
    if (share) byRung[`rung ${g}`] = share;
  }
  const byFamily: Record<string, PriorShare> = {};
  for (const f of [...new Set(laddered.map((r) => r.family))].sort()) {
    const share = priorShare(laddered.filter((r) => r.family === f));
    if (share) byFamily[f] = share;
  }
  return { by_rung: cells(laddered, (r) => `rung ${r.rung}`), ...(prior ? { prior, prior_by_rung: byRung, prior_by_family: byFamily } : {}) };
}

const pct = (x: number | undefined) => (x === undefined || !Number.isFinite(x) ? '   -  ' : `${(100 * x).toFixed(1).padStart(5)}%`);

/** A plain-text table: rows are families (and the overall), one column per report. */
export function formatEvalTable(reports: ReadonlyArray<readonly [string, EvalReport]>): string {
  const families = [...new Set(reports.flatMap(([, r]) => Object.keys(r.by_family)))];
  const variants = [...new Set(reports.flatMap(([, r]) => Object.keys(r.by_variant)))];
  const w = Math.max(18, ...families.map((f) => f.length + 2), ...variants.map((v) => v.length + 2));
  const head = ''.padEnd(w) + reports.map(([name]) => name.padStart(12)).join('');
  const row = (label: string, get: (r: EvalReport) => number | undefined) => label.padEnd(w) + reports.map(([, r]) => pct(get(r)).padStart(12)).join('');
  const lines = [head];
  for (const f of families) lines.push(row(f, (r) => r.by_family[f]?.accuracy));
  lines.push(''.padEnd(w + 12 * reports.length, '-'));
  for (const v of variants) lines.push(row(v, (r) => r.by_variant[v]?.accuracy));
  lines.push(''.padEnd(w + 12 * reports.length, '-'));
  lines.push(row(`overall (avg@${reports[0]?.[1].k ?? '?'})`, (r) => r.overall.accuracy));
  lines.push(row('format', (r) => r.format));
  if (reports.every(([, r]) => r.errors)) {
    lines.push(row('misread a value', (r) => r.errors!.overall.misread));
    lines.push(row('computed wrong', (r) => r.errors!.overall.computation));
  }
  const rungs = [...new Set(reports.flatMap(([, r]) => Object.keys(r.by_rung ?? {})))].sort();
  if (rungs.length) {
    lines.push(''.padEnd(w + 12 * reports.length, '-'));
    for (const g of rungs) lines.push(row(g, (r) => r.by_rung?.[g]?.accuracy));
  }
  if (reports.some(([, r]) => r.prior)) {
    lines.push(row('answered the prior', (r) => r.prior?.rate));
    for (const g of rungs) if (reports.some(([, r]) => r.prior_by_rung?.[g])) lines.push(row(`  ${g}`, (r) => r.prior_by_rung?.[g]?.rate));
  }
  return lines.join('\n');
}
