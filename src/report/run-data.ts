/**
 * Reads what `pgpo train` and `pgpo compare` leave on disk, for the report: a run directory
 * (config.yaml, metrics.jsonl, rollouts/, tokens/, eval.json) or a compare directory
 * (compare.json + runs/<algo>-seed<k>/). Validates as it reads; every error names the file and
 * line. Nothing here computes: the analyses live in analyses.ts.
 */
import { readJsonFile } from '../data/read-json.ts';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

export class RunDataError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RunDataError';
  }
}

const num = z.number().nullable().optional();

/** One line of metrics.jsonl; every field but `step` may be missing or null. Extra keys kept. */
const MetricRowSchema = z.looseObject({
  step: z.number().int().nonnegative(),
  reward: num,
  accuracy: num,
  format: num,
  entropy: num,
  response_length: num,
  dep_mean: num,
  dep_top10_share: num,
  dep_gini: num,
  log1p_dep_mean: num,
  weight_mean: num,
  weight_std: num,
  weight_max: num,
  frac_amplified: num,
  grad_norm: num,
  clip_frac: num,
  approx_kl: num,
  dropped_groups: num,
  time_sample: num,
  time_score: num,
  time_update: num,
  time_step: num,
  pg_var: num,
  pg_var_uniform: num,
  lr: num,
  logit_scale: num,
});
export type MetricRow = z.infer<typeof MetricRowSchema>;

/** Per-token data of one response: tokens/step-NNNNNN.jsonl lines (and a subset of rollouts). */
const TokenRecordSchema = z.looseObject({
  family: z.string(),
  variant: z.string(),
  pieces: z.array(z.string()),
  /** null for algorithms that measure no dependency (GRPO, DAPO, PAPO): read as []. */
  dep: z
    .array(z.number())
    .nullable()
    .transform((v) => v ?? []),
  /** PGPO's per-token advantage multipliers; null or absent for algorithms that reshape nothing: read as []. */
  weights: z
    .array(z.number())
    .nullable()
    .default([])
    .transform((v) => v ?? []),
  image_values: z.array(z.union([z.string(), z.number()]).transform(String)).default([]),
  text_values: z.array(z.union([z.string(), z.number()]).transform(String)).default([]),
});
export type TokenRecord = z.infer<typeof TokenRecordSchema>;

/** An example rollout: rollouts/step-NNNNNN.jsonl lines. */
const RolloutSchema = z.looseObject({
  ...TokenRecordSchema.shape,
  step: z.number().int().nonnegative(),
  problem: z.string(),
  answer: z.union([z.string(), z.number()]).transform(String),
  image_png: z.string().default(''),
  advantage: z.number(),
  reward: z.number(),
  accuracy: z.union([z.literal(0), z.literal(1), z.boolean().transform((b) => (b ? 1 : 0))]),
});
export type Rollout = z.infer<typeof RolloutSchema>;

const Acc = z.object({ accuracy: z.number(), n: z.number() });
/** Ladder world: of the samples of problems whose language prior misleads (n), the share that answered the prior. */
const PriorShare = z.object({ n: z.number(), rate: z.number() });
const EvalSchema = z.looseObject({
  ckpt: z.union([z.string(), z.number()]).optional(),
  k: z.number().optional(),
  temperature: z.number().optional(),
  greedy: z.boolean().optional(),
  overall: Acc,
  by_family: z.record(z.string(), Acc).default({}),
  by_variant: z.record(z.string(), Acc).default({}),
  by_family_variant: z.record(z.string(), Acc).default({}),
  // ladder world only (src/eval/evaluate.ts): a classic evaluation has none of them
  by_rung: z.record(z.string(), Acc).optional(),
  prior: PriorShare.optional(),
  prior_by_rung: z.record(z.string(), PriorShare).optional(),
});
export type EvalResult = z.infer<typeof EvalSchema>;

const Cell = z.object({ mean: z.number().nullable(), lo: z.number().nullable(), hi: z.number().nullable(), n: z.number() });
/** `a - b` of two arms' overall accuracy with its 95% Welch interval (src/eval/compare.ts armDifference); nulls without an interval. */
const Difference = z.object({ a: z.string(), b: z.string(), diff: z.number().nullable(), lo: z.number().nullable(), hi: z.number().nullable(), df: z.number().nullable().optional() });
const CompareSchema = z.looseObject({
  algos: z.array(z.string()),
  seeds: z.number(),
  columns: z.array(z.string()),
  rows: z.array(z.object({ algo: z.string(), cells: z.array(Cell) })),
  budget: z.unknown().optional(),
  date: z.string().optional(),
  /** Evaluations pooled into each run's replicate (sampling seeds); older files have none: 1. */
  eval_seeds: z.number().int().positive().optional(),
  /** Older files have none. */
  differences: z.array(Difference).default([]),
});
export type CompareTable = z.infer<typeof CompareSchema>;
export type ArmDifference = CompareTable['differences'][number];

export interface RunData {
  readonly path: string;
  /** Directory name, e.g. `pgpo-seed0`. */
  readonly name: string;
  /** config.yaml's algorithm.name, else the name's part before `-seed`. */
  readonly algo: string;
  readonly seed: number | null;
  readonly config: Record<string, unknown>;
  readonly metrics: MetricRow[];
  /** Example rollouts from every rollouts/ file, by step. */
  readonly rollouts: Rollout[];
  /** Bulk token records of the LAST tokens/ file (the latest policy); the last rollouts/ file's when there is none. */
  readonly tokens: TokenRecord[];
  /** The step the token records come from, or null when there are none. */
  readonly tokensStep: number | null;
  readonly eval: EvalResult | null;
}

/** One evaluation of a comparison's arm: runs/<arm>-seed<k>/eval.json or eval-seed<s>.json. */
export interface ArmEval {
  readonly arm: string;
  readonly seed: number | null;
  readonly file: string;
  readonly eval: EvalResult;
}

export interface CompareData {
  readonly path: string;
  readonly table: CompareTable;
  readonly runs: RunData[];
  /** Every evaluation compare pooled, by run folder: the base arms' folders (eval.json only, no run) included. */
  readonly evals: ArmEval[];
}

function issueText(err: z.ZodError): string {
  return err.issues.map((i) => `${i.path.length ? i.path.join('.') : '(line)'}: ${i.message}`).join('; ');
}

/** Parses a JSONL file with a schema. A cut-off LAST line (a crash mid-write) is dropped; any other bad line is an error. */
function readJsonl<T>(file: string, schema: z.ZodType<T>, check?: (v: T) => string | null): T[] {
  const lines = readFileSync(file, 'utf8').split('\n');
  while (lines.length && lines[lines.length - 1].trim() === '') lines.pop();
  const out: T[] = [];
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    let raw: unknown;
    try {
      raw = JSON.parse(line);
    } catch {
      if (i === lines.length - 1) return; // truncated by a crash mid-write
      throw new RunDataError(`${file}:${i + 1}: not valid JSON`);
    }
    const r = schema.safeParse(raw);
    if (!r.success) throw new RunDataError(`${file}:${i + 1}: ${issueText(r.error)}`);
    const problem = check?.(r.data);
    if (problem) throw new RunDataError(`${file}:${i + 1}: ${problem}`);
    out.push(r.data);
  });
  return out;
}

function checkTokens(r: { pieces: string[]; dep: number[]; weights: number[] }): string | null {
  if (r.dep.length && r.dep.length !== r.pieces.length) return `dep has ${r.dep.length} values but pieces has ${r.pieces.length}`;
  if (r.weights.length && r.weights.length !== r.pieces.length) return `weights has ${r.weights.length} values but pieces has ${r.pieces.length}`;
  const bad = r.dep.findIndex((x) => !Number.isFinite(x) || x < -1e-9);
  if (bad >= 0) return `dep[${bad}] = ${r.dep[bad]}: S_t must be finite and non-negative`;
  return null;
}

function readJson<T>(file: string, schema: z.ZodType<T>): T {
  return readJsonFile(file, schema, (detail) => new RunDataError(`${file}: ${detail}`), issueText);
}

/** A run's tokens/step-*.jsonl files, by step ([] when it has none). */
export function tokenFiles(runPath: string): Array<{ step: number; file: string }> {
  return stepFiles(join(runPath, 'tokens'));
}

/** The token records of one tokens/step-*.jsonl file, validated like loadRun's. */
export function readTokenFile(file: string): TokenRecord[] {
  return readJsonl(file, TokenRecordSchema, checkTokens);
}

/** step-000120.jsonl files of a folder, by step. */
function stepFiles(dir: string): Array<{ step: number; file: string }> {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .map((n) => /^step-(\d+)\.jsonl$/.exec(n))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ step: Number(m[1]), file: join(dir, m[0]) }))
    .sort((a, b) => a.step - b.step);
}

export function isRunDir(path: string): boolean {
  return existsSync(join(path, 'metrics.jsonl')) || existsSync(join(path, 'config.yaml'));
}

export function isCompareDir(path: string): boolean {
  return existsSync(join(path, 'compare.json'));
}

export function loadRun(path: string): RunData {
  if (!existsSync(path) || !statSync(path).isDirectory()) throw new RunDataError(`${path}: not a directory`);
  if (!isRunDir(path)) {
    // a comparison writes compare.json when it ends; until then its runs are reportable one by one
    const runs = existsSync(join(path, 'runs'))
      ? readdirSync(join(path, 'runs'))
          .sort()
          .map((n) => join(path, 'runs', n))
          .filter(isRunDir)
      : [];
    const unfinished = existsSync(join(path, 'runs'))
      ? `; it looks like an unfinished comparison (no compare.json yet): run the same pgpo compare again to finish it${runs.length ? `, or report the runs it has: pgpo report ${runs.join(' ')}` : ''}`
      : '';
    throw new RunDataError(`${path}: not a run directory (no metrics.jsonl or config.yaml)${unfinished}`);
  }
  const name = basename(path.replace(/\/+$/, ''));
  let config: Record<string, unknown> = {};
  const configPath = join(path, 'config.yaml');
  if (existsSync(configPath)) {
    try {
      const parsed: unknown = parseYaml(readFileSync(configPath, 'utf8'));
      if (parsed && typeof parsed === 'object') config = parsed as Record<string, unknown>;
    } catch (err) {
      throw new RunDataError(`${configPath}: not valid YAML (${(err as Error).message})`);
    }
  }
  const algoFromConfig = (config.algorithm as { name?: unknown } | undefined)?.name;
  const nameMatch = /^(.*?)-seed(\d+)$/.exec(name);
  const algo = typeof algoFromConfig === 'string' ? algoFromConfig : (nameMatch?.[1] ?? name);
  const seedFromConfig = (config.seed ?? (config.trainer as { seed?: unknown } | undefined)?.seed) as unknown;
  const seed = nameMatch ? Number(nameMatch[2]) : typeof seedFromConfig === 'number' ? seedFromConfig : null;

  const metricsPath = join(path, 'metrics.jsonl');
  const metrics = existsSync(metricsPath) ? readJsonl(metricsPath, MetricRowSchema).sort((a, b) => a.step - b.step) : [];
  const rollouts = stepFiles(join(path, 'rollouts')).flatMap(({ file }) => readJsonl(file, RolloutSchema, checkTokens));
  const files = tokenFiles(path);
  let tokens: TokenRecord[] = [];
  let tokensStep: number | null = null;
  if (files.length) {
    const last = files[files.length - 1];
    tokens = readTokenFile(last.file);
    tokensStep = last.step;
  } else if (rollouts.length) {
    tokensStep = rollouts[rollouts.length - 1].step;
    tokens = rollouts.filter((r) => r.step === tokensStep);
  }
  const evalPath = join(path, 'eval.json');
  const evalResult = existsSync(evalPath) ? readJson(evalPath, EvalSchema) : null;
  return { path, name, algo, seed, config, metrics, rollouts, tokens, tokensStep, eval: evalResult };
}

export function loadCompare(path: string): CompareData {
  const table = readJson(join(path, 'compare.json'), CompareSchema);
  table.rows.forEach((row, i) => {
    if (row.cells.length !== table.columns.length) {
      throw new RunDataError(`${join(path, 'compare.json')}: rows[${i}] (${row.algo}) has ${row.cells.length} cells for ${table.columns.length} columns`);
    }
  });
  const runsDir = join(path, 'runs');
  const folders = existsSync(runsDir)
    ? readdirSync(runsDir)
        .sort()
        .map((n) => join(runsDir, n))
        .filter((p) => statSync(p).isDirectory())
    : [];
  const runs = folders.filter(isRunDir).map(loadRun);
  const evals = folders.flatMap((dir) => armEvals(dir, table.eval_seeds ?? 1));
  return { path, table, runs, evals };
}

/**
 * The evaluations compare pooled into one run's replicate: eval.json, then eval-seed<seed + 1000 e>.json
 * for e < eval_seeds (src/cli/commands/compare.ts). Files of other sampling seeds, left by an earlier
 * compare with more eval.seeds, were not pooled and are not read.
 */
function armEvals(dir: string, evalSeeds: number): ArmEval[] {
  const m = /^(.*?)-seed(\d+)$/.exec(basename(dir));
  const arm = m?.[1] ?? basename(dir);
  const seed = m ? Number(m[2]) : null;
  const names = ['eval.json', ...(seed === null ? [] : Array.from({ length: evalSeeds - 1 }, (_, e) => `eval-seed${seed + 1000 * (e + 1)}.json`))];
  return names
    .map((n) => join(dir, n))
    .filter((file) => existsSync(file))
    .map((file) => ({ arm, seed, file, eval: readJson(file, EvalSchema) }));
}

/** Each path as a compare directory (compare.json) or a run directory. */
export function loadInputs(paths: readonly string[]): { compares: CompareData[]; runs: RunData[] } {
  const compares: CompareData[] = [];
  const runs: RunData[] = [];
  for (const p of paths) {
    if (!existsSync(p)) throw new RunDataError(`${p}: no such directory`);
    if (isCompareDir(p)) {
      const c = loadCompare(p);
      compares.push(c);
      runs.push(...c.runs);
    } else runs.push(loadRun(p));
  }
  return { compares, runs };
}
