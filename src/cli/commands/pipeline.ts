/**
 * `pgpo pipeline` (what `npm run start:classic` runs): the classic world's story on the built-in defaults —
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
import { join } from 'node:path';
import { writeFileAtomic } from '../../data/atomic-write.ts';
import { formatGain, poolReports } from '../../eval/compare.ts';
import { EvalReportError, formatEvalTable, readEvalReport, type EvalReport } from '../../eval/evaluate.ts';
import { formatDuration } from '../../train/progress.ts';
import { RunDir } from '../../train/run-dir.ts';
import { ensureSuite } from '../../train/sources.ts';
import { baseMismatch, rlStage, shippedBase, stageDone, staleEval, staleStages, warmStartStage } from '../../train/stages.ts';
import { boolFlag, CliError, stringFlag, type FlagSpec } from '../args.ts';
import { parseCommand, type Command } from '../command.ts';
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

/**
 * A run folder with a config but no checkpoint yet (stopped before its first save) holds
 * nothing to resume; `--out` refuses a folder that holds a run, so it goes. Returns `dir`.
 */
function clearUnsaved(dir: string): string {
  if (existsSync(dir) && new RunDir(dir).latest() === null) rmSync(dir, { recursive: true, force: true });
  return dir;
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
    const args = parseCommand(argv, { name: 'pipeline', usage: USAGE, flags });
    if (!args) return 0;
    const out = stringFlag(args, 'out', 'runs/pipeline');
    const t0 = performance.now();
    const log = (s: string) => process.stderr.write(`[pipeline ${formatDuration((performance.now() - t0) / 1000)}] ${s}\n`);
    const baseDir = join(out, 'base');
    const config = configFrom({ ...args, overrides: [['worker.actor.init_checkpoint', baseDir], ...args.overrides] }, stringFlag(args, 'algo'));
    const rlDir = join(out, config.algorithm.name);
    const stages = { base: warmStartStage(baseDir, config), rl: rlStage(rlDir, config) };

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
    // the runs already in the folder are reused or continued only if they are this config's
    const stale = staleStages([stages.base, stages.rl], config);
    if (stale) throw new CliError(`pgpo pipeline: ${stale}`);
    return withInterrupt(async (signal) => {
      try {
        log(`1/5 data: ${await ensureSuite(config)}`);

        const asked = stringFlag(args, 'base-from');
        const adopt = asked ?? shippedBase(stringFlag(args, 'preset') ?? 'small');
        const why = boolFlag(args, 'fresh-base') ? '--fresh-base' : !existsSync(adopt) ? null : baseMismatch(adopt, config);
        // a base named on the command line is adopted or nothing: training another in its place would be a surprise
        if (asked !== undefined && (!existsSync(adopt) || why !== null))
          throw new CliError(`pgpo pipeline: --base-from ${asked}: ${why ?? 'no such folder'}; drop --base-from to train the warm start here`);
        // (a base already in the folder has this config's warm-start settings: staleStages checked it)
        if (stageDone(stages.base)) log(`2/5 warm start: reusing ${baseDir}`);
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
        if (stageDone(stages.rl)) log(`4/5 RL: reusing ${rlDir}`);
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
