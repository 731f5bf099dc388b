/**
 * `pgpo eval --ckpt PATH [--split test] [--k 8] [--temperature 1.0] [--greedy] [--n N] [--out FILE]
 *   [--against EVAL_JSON] [--seed N] [--preset tiny|small|medium] [--config FILE] [key.path=value ...]`
 * With --against, also prints the gain over an earlier evaluation (e.g. the base model's), paired
 * row by row, with its 95% interval over problems (pairedGain in src/eval/compare.ts).
 */
import { join } from 'node:path';
import { existsSync, readFileSync } from 'node:fs';
import { writeFileAtomic } from '../../data/atomic-write.ts';
import { formatByShare, formatGain } from '../../eval/compare.ts';
import { evaluate, EvalReportError, formatEvalTable, readEvalReport } from '../../eval/evaluate.ts';
import { loadProblems, policyFactory, reward } from '../../train/sources.ts';
import { ProblemStream } from '../../train/problems.ts';
import type { Problem } from '../../core/problem.ts';
import { loadCheckpointPolicy, resolveLatest, runDirOf } from '../../train/trainer.ts';
import { Progress } from '../../train/progress.ts';
import { getPath, loadYaml } from '../../train/config-merge.ts';
import { readRunConfig, type TrainConfig } from '../../train/config.ts';
import { boolFlag, CliError, numberFlag, stringFlag, type FlagSpec, type ParsedArgs } from '../args.ts';
import { parseCommand, type Command } from '../command.ts';
import { CONFIG_FLAGS, configFrom, EVAL_SUITE_KEYS, RL_SUITE_KEYS, suiteNote } from '../session.ts';

const flags: Record<string, FlagSpec> = {
  ckpt: { type: 'string', description: 'checkpoint directory, or a run directory (its latest checkpoint)' },
  split: { type: 'string', description: 'test|train (default test)' },
  use: {
    type: 'string',
    description: 'with --split train: sft|rl, the first --n problems that stage visited, in its order (as the run that made the checkpoint drew them); default every training problem',
  },
  k: { type: 'string', description: 'samples per problem: avg@k (default eval.k = 8)' },
  temperature: { type: 'string', description: 'sampling temperature (default eval.temperature = 1.0)' },
  greedy: { type: 'boolean', description: 'greedy decoding (k = 1)' },
  n: { type: 'string', description: 'problems to evaluate (default eval.n)' },
  out: { type: 'string', description: "where to write the report (default: eval.json beside the checkpoint's run; eval-seedN.json with --seed N)" },
  against: { type: 'string', description: "an earlier eval.json (e.g. the base model's): also print the paired gain over it" },
  seed: { type: 'string', description: 'the sampling seed (default trainer.seed): re-evaluate base and trained with other seeds before trusting a gain' },
  ...CONFIG_FLAGS,
  help: { type: 'boolean', description: 'show this help' },
};
const USAGE =
  'pgpo eval --ckpt PATH [--split test|train [--use sft|rl]] [--k 8] [--temperature 1.0] [--greedy] [--n N] [--out FILE] [--against EVAL_JSON] [--seed N] [--preset tiny|small|medium] [--config FILE] [key.path=value ...]';

const LENGTH_KEY = 'worker.rollout.max_new_tokens';

/**
 * The response cap to evaluate with: the checkpoint's run's, unless this command sets the key
 * (an override or the --config file). A tiny run evaluated with the default preset's 48 tokens,
 * or a small one cut at tiny's 12, would score what it was never trained to do; `note` says
 * when the run's value replaces the one this command's config resolved to.
 */
function decodingLength(runDir: string, config: TrainConfig, args: ParsedArgs): { maxNewTokens: number; note: string | null } {
  const ours = config.worker.rollout.max_new_tokens;
  const file = stringFlag(args, 'config');
  const explicit = args.overrides.some(([k]) => k === LENGTH_KEY) || (file !== undefined && getPath(loadYaml(readFileSync(file, 'utf8'), file).value, LENGTH_KEY.split('.')) !== undefined);
  const path = join(runDir, 'config.yaml');
  const theirs = getPath(readRunConfig(path), LENGTH_KEY.split('.'));
  if (explicit || typeof theirs !== 'number' || !Number.isInteger(theirs) || theirs < 1 || theirs === ours) return { maxNewTokens: ours, note: null };
  return { maxNewTokens: theirs, note: `decoding up to ${theirs} new tokens, the run's ${LENGTH_KEY} (${path}), not ${ours}; pass ${LENGTH_KEY}=N to choose` };
}

/**
 * `--use sft|rl`: the first n problems that stage visited, in its order — the stream a run of that
 * stage draws from (its own stream in the ladder world, its share of a key split), permuted as the
 * trainer permutes it (`ProblemStream`, seeded `sft:<trainer.seed>` for SFT and `<trainer.seed>` for
 * RL, the seed of the run that made the checkpoint). So with n up to what the run visited, every
 * row is a problem it trained on.
 */
function visitedProblems(problems: readonly Problem[], use: 'sft' | 'rl', runDir: string, n: number): Problem[] {
  const path = join(runDir, 'config.yaml');
  const seed = getPath(readRunConfig(path), ['trainer', 'seed']);
  if (typeof seed !== 'number') throw new CliError(`--use ${use}: ${path} gives no trainer.seed, so the order in which the run visited its problems is unknown`);
  const stream = new ProblemStream(problems, use === 'sft' ? `sft:${seed}` : seed);
  return Array.from({ length: Math.min(n, problems.length) }, (_, c) => stream.at(c));
}

export const command: Command = {
  async run(argv) {
    const args = parseCommand(argv, { name: 'eval', usage: USAGE, flags, positionals: 'any' });
    if (!args) return 0;
    const ckpt = stringFlag(args, 'ckpt');
    if (!ckpt) throw new CliError(`pgpo eval: --ckpt is required\n${USAGE}`);
    if (!existsSync(ckpt)) throw new CliError(`pgpo eval: --ckpt ${ckpt} does not exist`);
    const split = stringFlag(args, 'split', 'test');
    if (split !== 'test' && split !== 'train') throw new CliError(`--split must be test or train, got "${split}"`);
    const use = stringFlag(args, 'use');
    if (use !== undefined && use !== 'sft' && use !== 'rl') throw new CliError(`--use must be sft or rl, got "${use}"`);
    if (use !== undefined && split !== 'train') throw new CliError('--use picks training problems: give it with --split train');
    // --seed is trainer.seed for this command: the seed the samples are drawn from, recorded in eval.json
    const seed = args.flags.seed === undefined ? undefined : numberFlag(args, 'seed', 0, { integer: true, min: 0, max: Number.MAX_SAFE_INTEGER });
    if (seed !== undefined && args.overrides.some(([key]) => key === 'trainer.seed')) throw new CliError('pgpo eval: --seed and trainer.seed=... both set the sampling seed; give one');
    const config = configFrom(seed === undefined ? args : { ...args, overrides: [...args.overrides, ['trainer.seed', String(seed)]] });
    if (use !== undefined && config.data.train_files !== null) throw new CliError('--use: data.train_files is set, and a dataset is not divided between SFT and RL; leave --use out');
    if (use !== undefined && config.data.suite.world !== 'ladder' && config.experiment.rl_fraction === 0)
      throw new CliError('--use: SFT and RL share every training problem here (experiment.rl_fraction is 0); it picks a stage only in the ladder world or with a key split');
    const e = config.eval;
    const k = numberFlag(args, 'k', e.k, { integer: true, min: 1 });
    const temperature = numberFlag(args, 'temperature', e.temperature);
    if (!(temperature > 0)) throw new CliError(`--temperature must be > 0 (use --greedy for greedy decoding), got ${temperature}`);
    const n = numberFlag(args, 'n', e.n, { integer: true, min: 1 });
    const greedy = boolFlag(args, 'greedy') || e.greedy;
    const againstPath = stringFlag(args, 'against');
    let against = null;
    try {
      // checked before any model work
      if (againstPath !== undefined) against = readEvalReport(againstPath);
    } catch (err) {
      if (err instanceof EvalReportError) throw new CliError(`pgpo eval: --against ${err.message}`);
      throw err;
    }
    const dir = resolveLatest(ckpt);
    // the training split's rows and their key split depend on n_train and rl_fraction too
    const runDir = runDirOf(ckpt);
    const note = suiteNote(runDir, config, split === 'train' ? RL_SUITE_KEYS : EVAL_SUITE_KEYS);
    if (note) process.stderr.write(`pgpo eval: ${note}\n`);
    const decoding = decodingLength(runDir, config, args);
    if (decoding.note) process.stderr.write(`pgpo eval: ${decoding.note}\n`);
    const policy = await loadCheckpointPolicy(policyFactory(config), dir);
    const problems = use ? visitedProblems(await loadProblems(config, split, use), use, runDir, n) : (await loadProblems(config, split)).slice(0, n);
    const progress = new Progress({ total: problems.length, label: 'eval' });
    const report = await evaluate(policy, problems, reward(), {
      k,
      temperature,
      greedy,
      maxNewTokens: decoding.maxNewTokens,
      seed: config.trainer.seed,
      onProgress: (done) => progress.update(done),
    });
    progress.finish();
    policy.dispose();
    // --seed N gets its own file (eval.json is what the pipeline and --against compare with); trainer.seed=N does not
    const defaultName = seed === undefined ? 'eval.json' : `eval-seed${seed}.json`;
    const out = stringFlag(args, 'out') ?? join(runDir, defaultName);
    // what was asked, beside what came out: the pipeline reuses an evaluation only for the same ask
    writeFileAtomic(
      out,
      JSON.stringify({ ckpt: dir, split, ...(use ? { use } : {}), n, max_new_tokens: decoding.maxNewTokens, seed: config.trainer.seed, val_files: config.data.val_files, ...report }, null, 2) + '\n',
    );
    process.stdout.write(formatEvalTable([[split, report]]) + '\n');
    if (against) process.stdout.write(`${formatGain(against, report)} (against ${againstPath})\n`);
    // on the training split of a suite with a key split: what SFT saw and what RL saw, apart
    const frac = config.experiment.rl_fraction;
    const byShare = split === 'train' && config.data.train_files === null && frac > 0 ? formatByShare(report, frac, against ?? undefined) : null;
    if (byShare) process.stdout.write(byShare + '\n');
    process.stderr.write(`wrote ${out}\n`);
    return 0;
  },
};
