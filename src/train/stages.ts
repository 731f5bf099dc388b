/**
 * The pipeline's stages as data, and whether what a stage's folder already holds may stand for it.
 * A stage is a run folder, the config keys its result depends on, and the steps that finish it:
 * done when its latest checkpoint is at that step; stale when its config.yaml differs from this
 * config on those keys, or when it holds more steps than asked (either would be reported as this
 * config's result). An evaluation file is stale when it was asked otherwise or of another
 * checkpoint (staleEval). `pgpo pipeline` and `pgpo compare` decide from these what to reuse.
 */
import { existsSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readEvalReport, type EvalReport } from '../eval/evaluate.ts';
import { readRunConfig, type TrainConfig } from './config.ts';
import { RunDir } from './run-dir.ts';

/** A path into a config, e.g. ['worker', 'actor', 'model']. */
export type KeyPath = readonly string[];

export interface Stage {
  /** The run folder. */
  readonly dir: string;
  /** The config sections whose values decide the run's result (the keys of NOT_TRAINED_ON aside). */
  readonly keys: readonly KeyPath[];
  /** The config key that says how many steps finish the run, and its value in this config. */
  readonly stepsKey: string;
  readonly steps: number;
}

/**
 * What decides a warm start's result: two configs equal on these train the same base. The suite
 * counts but for where it is written and how many test rows it has, which SFT never reads; so does
 * the key split, which takes RL's problems away from it.
 */
export const WARM_START_KEYS: readonly KeyPath[] = [
  ['sft'],
  ['data', 'suite'],
  ['experiment', 'rl_fraction'],
  ['data', 'train_files'],
  ['worker', 'actor', 'model'],
  ['worker', 'actor', 'optim', 'betas'],
  ['worker', 'actor', 'optim', 'eps'],
  ['trainer', 'seed'],
];
/** What decides an RL run's result besides its length (a shorter one is continued). */
export const RL_KEYS: readonly KeyPath[] = [['data'], ['algorithm'], ['worker'], ['trainer', 'seed'], ['experiment']];
/**
 * Keys no training reads: where the suite is written, its test size, the test files, the base a
 * run starts from (the pipeline's own base folder, checked on its own), and the pg_var
 * measurement beside the training (it leaves the update as it is).
 */
const NOT_TRAINED_ON = new Set(['dir', 'n_test', 'val_files', 'init_checkpoint', 'pg_var_freq', 'pg_var_chunks']);

/** The supervised warm start in `dir`, finished after sft.total_steps. */
export function warmStartStage(dir: string, config: TrainConfig): Stage {
  return { dir, keys: WARM_START_KEYS, stepsKey: 'sft.total_steps', steps: config.sft.total_steps };
}

/** The RL run in `dir`, finished after trainer.total_steps. */
export function rlStage(dir: string, config: TrainConfig): Stage {
  return { dir, keys: RL_KEYS, stepsKey: 'trainer.total_steps', steps: config.trainer.total_steps };
}

/** Where `npm run exp:base` puts the base model the repository ships for a preset. */
export function shippedBase(preset: string): string {
  return join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'models', `${preset}-base`);
}

/** Whether the stage's latest checkpoint is at its last step. */
export function stageDone(stage: Stage): boolean {
  return new RunDir(stage.dir).latest()?.step === stage.steps;
}

/** JSON with object keys sorted: equal settings compare equal whatever order a file wrote them in. */
const canonical = (v: unknown): string =>
  JSON.stringify(v, (_k, x) => (x && typeof x === 'object' && !Array.isArray(x) ? Object.fromEntries(Object.entries(x).sort(([a], [b]) => a.localeCompare(b))) : x));

/** `v` without the keys of NOT_TRAINED_ON, at any depth. */
function trainedOn(v: unknown): unknown {
  if (!v || typeof v !== 'object' || Array.isArray(v)) return v;
  return Object.fromEntries(
    Object.entries(v)
      .filter(([k]) => !NOT_TRAINED_ON.has(k))
      .map(([k, x]) => [k, trainedOn(x)]),
  );
}

/** The first leaf (path, theirs, ours) where `a` and `b` differ; arrays count as leaves. */
function firstDifference(a: unknown, b: unknown, path: string[]): [string, unknown, unknown] | null {
  const isObj = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);
  // a section one side lacks: name the first key inside it, not the whole section
  if (a === undefined && isObj(b)) a = {};
  if (b === undefined && isObj(a)) b = {};
  if (!isObj(a) || !isObj(b)) return canonical(a) === canonical(b) ? null : [path.join('.'), a, b];
  for (const k of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()) {
    const d = firstDifference(a[k], b[k], [...path, k]);
    if (d) return d;
  }
  return null;
}

/**
 * Where a run's config `theirs` (null: missing or unreadable) differs from `ours` on any of
 * `keys`, the keys no training reads aside: `it was trained with KEY = THEIRS, not OURS`; else null.
 */
export function settingsMismatch(theirs: unknown, ours: unknown, keys: readonly KeyPath[]): string | null {
  if (theirs === null) return 'its config.yaml is missing or not a valid config';
  const at = (c: unknown, path: KeyPath) => path.reduce<unknown>((v, k) => (v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined), c);
  const show = (v: unknown) => (v === undefined ? '(unset)' : JSON.stringify(v));
  for (const path of keys) {
    const d = firstDifference(trainedOn(at(theirs, path)), trainedOn(at(ours, path)), [...path]);
    if (d) return `it was trained with ${d[0]} = ${show(d[1])}, not ${show(d[2])}`;
  }
  return null;
}

/** Why the run in the stage's folder was made with other settings than `config` on the stage's keys, or null. */
export function stageMismatch(stage: Stage, config: TrainConfig): string | null {
  return settingsMismatch(readRunConfig(join(stage.dir, 'config.yaml')), config, stage.keys);
}

/** Why a checkpoint at step `at` is past the stage's last step (a longer run than asked), or null. */
export function overrun(stage: Stage, at: number): string | null {
  return at > stage.steps ? `it holds a checkpoint at step ${at}, past ${stage.stepsKey} = ${stage.steps}` : null;
}

/** Why the RL run in `dir` was not made with `config`'s training settings (RL_KEYS), or null. */
export function rlSettingsMismatch(dir: string, config: TrainConfig): string | null {
  return stageMismatch(rlStage(dir, config), config);
}

/**
 * Whether the finished SFT run in `dir` is the warm start `config` would train: null if so, else
 * why not (the first warm-start setting that differs, or what is missing).
 */
export function baseMismatch(dir: string, config: TrainConfig): string | null {
  if (!existsSync(join(dir, 'config.yaml'))) return `${dir} holds no config.yaml`;
  const stage = warmStartStage(dir, config);
  const why = stageMismatch(stage, config);
  if (why) return why;
  if (!stageDone(stage)) return `${dir} holds no checkpoint at step ${stage.steps}`;
  return null;
}

/**
 * Whether the runs already in the stages' folders may be reused or continued: made with other
 * settings (checked first, stage by stage), or holding more steps than asked, they would be
 * reported as this config's result. Null if every stage fits, else why the first does not.
 */
export function staleStages(stages: readonly Stage[], config: TrainConfig): string | null {
  const fix = (dir: string) => `give another --out (or delete ${dir}) to run with these settings`;
  for (const stage of stages) {
    if (!existsSync(join(stage.dir, 'config.yaml'))) continue;
    const why = stageMismatch(stage, config);
    if (why) return `${join(stage.dir, 'config.yaml')}: ${why}; ${fix(stage.dir)}`;
  }
  for (const stage of stages) {
    const why = overrun(stage, new RunDir(stage.dir).latest()?.step ?? 0);
    if (why) return `${stage.dir}: ${why}; ${fix(stage.dir)}`;
  }
  return null;
}

/**
 * Why the evaluation `report` of a run no longer stands for it: asked otherwise than this config
 * asks (eval.json records its split, n, k, temperature, greedy, max_new_tokens, seed and
 * val_files; a file from before one was recorded passes on it), over another number of suite
 * test rows, or of another checkpoint than `latest`, the name of the run's latest checkpoint
 * folder (null: none). Null when it stands.
 */
export function evalMismatch(report: EvalReport, config: TrainConfig, seed: number, latest: string | null): string | null {
  const r = report as Record<string, unknown> & EvalReport;
  const e = config.eval;
  const asked: Record<string, unknown> = {
    split: 'test',
    n: e.n,
    greedy: e.greedy,
    ...(e.greedy ? {} : { k: e.k, temperature: e.temperature }),
    max_new_tokens: config.worker.rollout.max_new_tokens,
    seed,
    val_files: config.data.val_files,
  };
  for (const [key, want] of Object.entries(asked)) {
    if (r[key] !== undefined && r[key] !== want) return `it was made with ${key} = ${JSON.stringify(r[key])}, this config asks ${JSON.stringify(want)}`;
  }
  const rows = Math.min(e.n, config.data.suite.n_test);
  if (config.data.val_files === null && r.overall.n !== rows) return `it evaluated ${r.overall.n} test rows, this config ${rows}`;
  if (latest !== null && typeof r.ckpt === 'string' && basename(r.ckpt) !== latest) return `it evaluated ${basename(r.ckpt)}, the run's latest checkpoint is ${latest}`;
  return null;
}

/**
 * Why the evaluation `file` of the run in `runDir` no longer stands for it (evalMismatch, with the
 * run's latest checkpoint). Null when it stands, or when it cannot be read (the caller's reader
 * names it).
 */
export function staleEval(file: string, runDir: string, config: TrainConfig, seed: number = config.trainer.seed): string | null {
  let report: EvalReport;
  try {
    report = readEvalReport(file);
  } catch {
    return null;
  }
  const latest = new RunDir(runDir).latest();
  return evalMismatch(report, config, seed, latest ? basename(latest.dir) : null);
}
