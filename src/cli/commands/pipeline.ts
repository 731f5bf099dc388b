/**
 * `pgpo pipeline` (what `npm start` runs): the whole story on the built-in defaults —
 *   1. the generated suite (written under data.suite.dir if absent),
 *   2. the base checkpoint: reused if present; else the shipped base model (models/<preset>-base,
 *      made by `npm run exp:base`) when it was trained with this config's warm-start settings;
 *      else a supervised warm start of a fresh policy here,
 *   3. avg@k of the base policy on the test split, under eval.seeds sampling seeds (eval.json,
 *      eval-seedN.json), pooled,
 *   4. RL from the base (PGPO on the DAPO recipe by default),
 *   5. the same for the trained policy, and a table base vs trained per family and variant.
 * Every stage resumes where it stopped, so an interrupted pipeline re-run loses nothing.
 */
import { cpSync, existsSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeFileAtomic } from '../../data/atomic-write.ts';
import { formatGain, poolReports } from '../../eval/compare.ts';
import { EvalReportError, formatEvalTable, readEvalReport, type EvalReport } from '../../eval/evaluate.ts';
import { readRunConfig, type TrainConfig } from '../../train/config.ts';
import { formatDuration } from '../../train/progress.ts';
import { RunDir } from '../../train/run-dir.ts';
import { ensureSuite } from '../../train/sources.ts';
import { boolFlag, CliError, helpText, parseArgs, stringFlag, type FlagSpec } from '../args.ts';
import type { Command } from '../command.ts';
import { CONFIG_FLAGS, configArgs, configFrom, runChild, withInterrupt } from '../session.ts';

class StageFailed extends Error {
  constructor(
    readonly stage: string,
    readonly code: number,
  ) {
    super(`${stage} exited with ${code}`);
  }
}

const flags: Record<string, FlagSpec> = {
  out: { type: 'string', description: 'pipeline directory (default runs/pipeline)' },
  algo: { type: 'string', description: 'RL algorithm (default pgpo)' },
  'fresh-base': { type: 'boolean', description: 'train the warm start here even when a shipped base model fits' },
  'base-from': { type: 'string', description: 'a finished SFT run to adopt as the base (default: the shipped models/<preset>-base)' },
  ...CONFIG_FLAGS,
  help: { type: 'boolean', description: 'show this help' },
};
const USAGE = 'pgpo pipeline [--out runs/pipeline] [--preset tiny|small|medium] [--algo pgpo] [--fresh-base] [--base-from RUN] [key.path=value ...]';

function stageDone(dir: string, steps: number): boolean {
  return new RunDir(dir).latest()?.step === steps;
}

/**
 * A run folder with a config but no checkpoint yet (stopped before its first save) holds
 * nothing to resume; `--out` refuses a folder that holds a run, so it goes. Returns `dir`.
 */
function clearUnsaved(dir: string): string {
  if (existsSync(dir) && new RunDir(dir).latest() === null) rmSync(dir, { recursive: true, force: true });
  return dir;
}

/** Where `npm run exp:base` puts the base model the repository ships for a preset. */
export function shippedBase(preset: string): string {
  return join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'models', `${preset}-base`);
}

/** JSON with object keys sorted: equal settings compare equal whatever order a file wrote them in. */
const canonical = (v: unknown): string => JSON.stringify(v, (_k, x) => (x && typeof x === 'object' && !Array.isArray(x) ? Object.fromEntries(Object.entries(x).sort(([a], [b]) => a.localeCompare(b))) : x));

/**
 * What decides a warm start's result: two configs equal on these train the same base. The suite
 * counts but for where it is written and how many test rows it has, which SFT never reads.
 */
const WARM_START_KEYS = [
  ['sft'],
  ['data', 'suite'],
  ['data', 'train_files'],
  ['worker', 'actor', 'model'],
  ['worker', 'actor', 'optim', 'betas'],
  ['worker', 'actor', 'optim', 'eps'],
  ['trainer', 'seed'],
] as const;
/** What decides an RL run's result besides its length (the pipeline continues a shorter one). */
const RL_KEYS = [['data'], ['algorithm'], ['worker'], ['trainer', 'seed']] as const;
/**
 * Keys no training reads: where the suite is written, its test size, the test files, and the
 * base a run starts from (the pipeline's own base folder, checked on its own).
 */
const NOT_TRAINED_ON = new Set(['dir', 'n_test', 'val_files', 'init_checkpoint']);

/** `v` without the keys of NOT_TRAINED_ON, at any depth. */
function trainedOn(v: unknown): unknown {
  if (!v || typeof v !== 'object' || Array.isArray(v)) return v;
  return Object.fromEntries(Object.entries(v).filter(([k]) => !NOT_TRAINED_ON.has(k)).map(([k, x]) => [k, trainedOn(x)]));
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
 * Where the run in `dir` was made with other settings than `config` on any of `paths` (but for
 * the keys no training reads): `it was trained with KEY = THEIRS, not OURS`; else null.
 */
function settingsMismatch(dir: string, config: TrainConfig, paths: readonly (readonly string[])[]): string | null {
  const theirs = readRunConfig(join(dir, 'config.yaml'));
  if (theirs === null) return 'its config.yaml is missing or not a valid config';
  const at = (c: unknown, path: readonly string[]) => path.reduce<unknown>((v, k) => (v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined), c);
  const show = (v: unknown) => (v === undefined ? '(unset)' : JSON.stringify(v));
  for (const path of paths) {
    const d = firstDifference(trainedOn(at(theirs, path)), trainedOn(at(config, path)), [...path]);
    if (d) return `it was trained with ${d[0]} = ${show(d[1])}, not ${show(d[2])}`;
  }
  return null;
}

/** Why the RL run in `dir` was not made with `config`'s training settings (RL_KEYS), or null. */
export function rlSettingsMismatch(dir: string, config: TrainConfig): string | null {
  return settingsMismatch(dir, config, RL_KEYS);
}

/**
 * Whether the finished SFT run in `dir` is the warm start `config` would train: null if so, else
 * why not (the first warm-start setting that differs, or what is missing).
 */
export function baseMismatch(dir: string, config: TrainConfig): string | null {
  if (!existsSync(join(dir, 'config.yaml'))) return `${dir} holds no config.yaml`;
  const why = settingsMismatch(dir, config, WARM_START_KEYS);
  if (why) return why;
  if (!stageDone(dir, config.sft.total_steps)) return `${dir} holds no checkpoint at step ${config.sft.total_steps}`;
  return null;
}

/**
 * The pipeline reuses (or continues) the base and RL runs already in its folder; made on another
 * suite or model, or the RL run with other RL settings, they would be reported as this config's
 * result. Null if they fit, else why not.
 */
export function staleStage(baseDir: string, rlDir: string, config: TrainConfig): string | null {
  const checks: Array<[string, readonly (readonly string[])[]]> = [
    [baseDir, WARM_START_KEYS],
    [rlDir, RL_KEYS],
  ];
  const fix = (dir: string) => `give another --out (or delete ${dir}) to run with these settings`;
  for (const [dir, paths] of checks) {
    if (!existsSync(join(dir, 'config.yaml'))) continue;
    const why = settingsMismatch(dir, config, paths);
    if (why) return `${join(dir, 'config.yaml')}: ${why}; ${fix(dir)}`;
  }
  // a longer run than asked would be reported as this config's result (train --resume stops at once)
  const steps = [
    [baseDir, config.sft.total_steps, 'sft.total_steps'],
    [rlDir, config.trainer.total_steps, 'trainer.total_steps'],
  ] as const;
  for (const [dir, want, key] of steps) {
    const at = new RunDir(dir).latest()?.step ?? 0;
    if (at > want) return `${dir}: it holds a checkpoint at step ${at}, past ${key} = ${want}; ${fix(dir)}`;
  }
  return null;
}

/**
 * Why the evaluation `file` of the run in `runDir` no longer stands for it: asked otherwise than
 * this config asks (eval.json records its split, n, k, temperature, greedy, max_new_tokens, seed
 * and val_files; a file from before one was recorded passes on it), over another number of suite
 * test rows, or of another checkpoint than the run's latest (a run continued for more steps).
 * Null when it stands, or when it cannot be read (the pipeline's reader names it).
 */
export function staleEval(file: string, runDir: string, config: TrainConfig, seed: number = config.trainer.seed): string | null {
  let r: Record<string, unknown> & EvalReport;
  try {
    r = readEvalReport(file) as Record<string, unknown> & EvalReport;
  } catch {
    return null;
  }
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
  const latest = new RunDir(runDir).latest();
  if (latest && typeof r.ckpt === 'string' && basename(r.ckpt) !== basename(latest.dir)) return `it evaluated ${basename(r.ckpt)}, the run's latest checkpoint is ${basename(latest.dir)}`;
  return null;
}

/**
 * The RL run's learned logit scale at its last step, said as the temperature it amounts to
 * (model.md, the logit scale): part of what the table measures. Null when not logged.
 */
export function learnedScaleLine(rlDir: string): string | null {
  const last = new RunDir(rlDir).readMetrics().at(-1);
  const s = last?.logit_scale;
  if (typeof s !== 'number' || !Number.isFinite(s)) return null;
  const head = `logit scale (the policy's learned inverse temperature, 1 in the base): ${s.toFixed(3)} after step ${last!.step}`;
  // nothing bounds it: a run whose reward pushes it down long enough flattens, then inverts, the policy
  if (s <= 0) return `${head}: at or below 0, the trained policy's output is flat or inverted`;
  return `${head}, so at temperature 1 the trained policy samples as its weights would at ${(1 / s).toFixed(3)}`;
}

export const command: Command = {
  async run(argv) {
    const args = parseArgs(argv, flags, 'pipeline');
    if (boolFlag(args, 'help')) {
      process.stdout.write(helpText(USAGE, flags) + '\n');
      return 0;
    }
    if (args.positionals.length) throw new CliError(`pgpo pipeline: unexpected argument "${args.positionals[0]}"\n${USAGE}`);
    const out = stringFlag(args, 'out', 'runs/pipeline');
    const t0 = performance.now();
    const log = (s: string) => process.stderr.write(`[pipeline ${formatDuration((performance.now() - t0) / 1000)}] ${s}\n`);
    const baseDir = join(out, 'base');
    const config = configFrom(
      { ...args, overrides: [['worker.actor.init_checkpoint', baseDir], ...args.overrides] },
      stringFlag(args, 'algo'),
    );
    const rlDir = join(out, config.algorithm.name);

    // every stage but the first runs in its own process: a fresh wasm heap each (runChild)
    const cfgArgs = configArgs(args);
    // (`last` goes after the user's overrides, so it wins over them)
    const stage = async (argv: string[], last: string[] = []) => {
      const code = await runChild([...argv, ...cfgArgs, ...last], { quietStdout: true });
      if (code !== 0) throw new StageFailed(argv[0], code);
    };
    // each policy is evaluated under eval.seeds sampling seeds (one when greedy: nothing to re-draw), then pooled
    const seeds = Array.from({ length: config.eval.greedy ? 1 : config.eval.seeds }, (_, i) => config.trainer.seed + i);
    const evalFile = (dir: string, seed: number) => join(dir, seed === config.trainer.seed ? 'eval.json' : `eval-seed${seed}.json`);
    const evaluateAll = async (dir: string, n: number, what: 'base' | 'trained', signal: AbortSignal) => {
      for (const seed of seeds) {
        const file = evalFile(dir, seed);
        const stale = staleEval(file, dir, config, seed);
        if (existsSync(file) && !stale) {
          log(`${n}/5 eval ${what}: reusing ${file}`);
          continue;
        }
        if (stale) log(`${n}/5 eval ${what}: not reusing ${file} (${stale})`);
        const bySeed = seeds.length > 1 ? `, sampling seed ${seed}` : '';
        log(`${n}/5 evaluating the ${what} policy (${config.eval.greedy ? 'greedy' : `avg@${config.eval.k}`}, ${config.eval.n} test problems${bySeed})`);
        await stage(['eval', '--ckpt', dir, '--out', file], [`trainer.seed=${seed}`]);
        if (signal.aborted) return;
      }
    };
    const stale = staleStage(baseDir, rlDir, config);
    if (stale) throw new CliError(`pgpo pipeline: ${stale}`);
    return withInterrupt(async (signal) => {
      try {
        log(`1/5 data: ${await ensureSuite(config)}`);

        const asked = stringFlag(args, 'base-from');
        const adopt = asked ?? shippedBase(stringFlag(args, 'preset') ?? 'small');
        const why = boolFlag(args, 'fresh-base') ? '--fresh-base' : !existsSync(adopt) ? null : baseMismatch(adopt, config);
        // a base named on the command line is adopted or nothing: training another in its place would be a surprise
        if (asked !== undefined && (!existsSync(adopt) || why !== null)) throw new CliError(`pgpo pipeline: --base-from ${asked}: ${why ?? 'no such folder'}; drop --base-from to train the warm start here`);
        // (a base already in the folder has this config's warm-start settings: staleStage checked it)
        if (stageDone(baseDir, config.sft.total_steps)) log(`2/5 warm start: reusing ${baseDir}`);
        else if (why === null && existsSync(adopt)) {
          // the same settings train the same base: an unfinished one here is replaced by the finished one
          const partial = new RunDir(baseDir).latest();
          if (partial) log(`2/5 warm start: replacing the unfinished warm start in ${baseDir} (step ${partial.step}) by the finished one it would become`);
          rmSync(baseDir, { recursive: true, force: true });
          cpSync(adopt, baseDir, { recursive: true });
          const secs = new RunDir(baseDir).secondsOfSteps();
          log(`2/5 warm start: adopting the base model ${adopt} (${config.sft.total_steps} SFT steps, ${formatDuration(secs)} when it was trained; --fresh-base to train it here) -> ${baseDir}`);
        } else {
          if (existsSync(adopt) && why) log(`2/5 warm start: not adopting ${adopt} (${why})`);
          log(`2/5 warm start: ${config.sft.total_steps} SFT steps of ${config.sft.batch_size} gold solutions -> ${baseDir}`);
          await stage(['sft', ...(new RunDir(baseDir).latest() ? ['--resume', baseDir] : ['--out', clearUnsaved(baseDir)])]);
        }
        if (signal.aborted) return 130;

        await evaluateAll(baseDir, 3, 'base', signal);
        if (signal.aborted) return 130;

        const steps = config.trainer.total_steps;
        if (stageDone(rlDir, steps)) log(`4/5 RL: reusing ${rlDir}`);
        else {
          log(`4/5 RL: ${config.algorithm.name} for ${steps} steps of ${config.data.rollout_batch_size} prompts x ${config.worker.rollout.n} rollouts -> ${rlDir}`);
          const resume = new RunDir(rlDir).latest() !== null;
          await stage(['train', ...(resume ? ['--resume', rlDir] : ['--out', clearUnsaved(rlDir), '--algo', config.algorithm.name, '--init', baseDir])]);
        }
        if (signal.aborted) return 130;

        await evaluateAll(rlDir, 5, 'trained', signal);
        if (signal.aborted) return 130;
      } catch (err) {
        if (err instanceof StageFailed) {
          if (err.code === 130) return 130;
          log(`stopped: the ${err.stage} stage exited with ${err.code}; re-run to continue from the last checkpoint`);
          return err.code;
        }
        throw err;
      }
      let base: EvalReport, trained: EvalReport;
      try {
        const pooled = (dir: string) => {
          const reports = seeds.map((s) => readEvalReport(evalFile(dir, s)));
          return reports.length === 1 ? reports[0] : poolReports(reports);
        };
        base = pooled(baseDir);
        trained = pooled(rlDir);
      } catch (err) {
        if (err instanceof EvalReportError) throw new CliError(`pgpo pipeline: ${err.message}; delete it and re-run to evaluate again`);
        throw err;
      }

      const name = config.algorithm.name;
      const lines = [
        '',
        seeds.length > 1
          ? `avg@${base.k} accuracy (avg@${config.eval.k} under sampling seeds ${seeds.join(', ')}, pooled) on ${base.overall.n} test problems (temperature ${base.temperature}):`
          : `avg@${base.k} accuracy on ${base.overall.n} test problems (temperature ${base.temperature}):`,
        formatEvalTable([
          ['base', base],
          [name, trained],
        ]),
        '',
        formatGain(base, trained),
        learnedScaleLine(rlDir),
        `measured in ${formatDuration((performance.now() - t0) / 1000)}`,
      ].filter((l) => l !== null);
      process.stdout.write(lines.join('\n') + '\n');
      writeFileAtomic(join(out, 'summary.txt'), lines.join('\n') + '\n');
      return 0;
    });
  },
};
