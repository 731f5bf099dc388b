/**
 * `pgpo pipeline` (what `npm start` runs): the whole story on the built-in defaults —
 *   1. the generated suite (written under data.suite.dir if absent),
 *   2. supervised warm start of a fresh policy -> the base checkpoint (skipped if present),
 *   3. avg@k of the base policy on the test split,
 *   4. RL from the base (PGPO on the DAPO recipe by default),
 *   5. avg@k of the trained policy, and a table base vs trained per family and variant.
 * Every stage resumes where it stopped, so an interrupted pipeline re-run loses nothing.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../../data/atomic-write.ts';
import { evaluate, formatEvalTable, type EvalReport } from '../../eval/evaluate.ts';
import type { TrainConfig } from '../../train/config.ts';
import { formatDuration, Progress } from '../../train/progress.ts';
import { RunDir } from '../../train/run-dir.ts';
import { sft } from '../../train/sft.ts';
import { ensureSuite, loadProblems, policyFactory, reward } from '../../train/sources.ts';
import { loadCheckpointPolicy, train } from '../../train/trainer.ts';
import { boolFlag, CliError, helpText, parseArgs, stringFlag, type FlagSpec } from '../args.ts';
import type { Command } from '../main.ts';
import { CONFIG_FLAGS, configFrom, withInterrupt } from '../session.ts';

const flags: Record<string, FlagSpec> = {
  out: { type: 'string', description: 'pipeline directory (default runs/pipeline)' },
  algo: { type: 'string', description: 'RL algorithm (default pgpo)' },
  ...CONFIG_FLAGS,
  help: { type: 'boolean', description: 'show this help' },
};
const USAGE = 'pgpo pipeline [--out runs/pipeline] [--preset tiny|small] [--algo pgpo] [key.path=value ...]';

function stageDone(dir: string, steps: number): boolean {
  return new RunDir(dir).latest()?.step === steps;
}

async function evalStage(config: TrainConfig, ckptRun: string, label: string, log: (s: string) => void): Promise<EvalReport> {
  const path = join(ckptRun, 'eval.json');
  if (existsSync(path)) {
    log(`${label}: reusing ${path}`);
    return JSON.parse(readFileSync(path, 'utf8')) as EvalReport;
  }
  const latest = new RunDir(ckptRun).latest();
  if (!latest) throw new CliError(`no checkpoint in ${ckptRun}`);
  const policy = await loadCheckpointPolicy(policyFactory, latest.dir);
  const problems = (await loadProblems(config, 'test')).slice(0, config.eval.n);
  const progress = new Progress({ total: problems.length, label });
  const e = config.eval;
  const report = await evaluate(policy, problems, reward(), {
    k: e.k,
    temperature: e.temperature,
    greedy: e.greedy,
    maxNewTokens: config.worker.rollout.max_new_tokens,
    seed: config.trainer.seed,
    onProgress: (d) => progress.update(d),
  });
  progress.finish();
  policy.dispose();
  writeFileAtomic(path, JSON.stringify({ ckpt: latest.dir, split: 'test', ...report }, null, 2) + '\n');
  return report;
}

export const command: Command = {
  summary: 'the main job: data, warm start, base eval, RL, trained eval, table',
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
    const rlDir = join(out, stringFlag(args, 'algo') ?? 'pgpo');
    const config = configFrom(
      { ...args, overrides: [['worker.actor.init_checkpoint', baseDir], ...args.overrides] },
      stringFlag(args, 'algo'),
    );

    return withInterrupt(async (signal) => {
      log(`1/5 data: ${await ensureSuite(config)}`);
      const trainSet = await loadProblems(config, 'train');

      if (stageDone(baseDir, config.sft.total_steps)) log(`2/5 warm start: reusing ${baseDir}`);
      else {
        log(`2/5 warm start: ${config.sft.total_steps} SFT steps of ${config.sft.batch_size} gold solutions -> ${baseDir}`);
        const r = await sft({ config, out: baseDir, factory: policyFactory, problems: trainSet, resume: new RunDir(baseDir).latest() !== null, signal, log });
        if (r.stopped === 'interrupted') return 130;
      }
      if (signal.aborted) return 130;

      log('3/5 evaluating the base policy');
      const base = await evalStage(config, baseDir, 'eval base', log);
      if (signal.aborted) return 130;

      const steps = config.trainer.total_steps;
      if (stageDone(rlDir, steps)) log(`4/5 RL: reusing ${rlDir}`);
      else {
        log(`4/5 RL: ${config.algorithm.name} for ${steps} steps of ${config.data.rollout_batch_size} prompts x ${config.worker.rollout.n} rollouts -> ${rlDir}`);
        const r = await train({ config, out: rlDir, factory: policyFactory, problems: trainSet, reward: reward(), resume: new RunDir(rlDir).latest() !== null, signal, log });
        if (r.stopped === 'interrupted') return 130;
        if (r.stopped === 'nonfinite') return 1;
      }
      if (signal.aborted) return 130;

      log('5/5 evaluating the trained policy');
      const trained = await evalStage(config, rlDir, 'eval trained', log);

      const name = config.algorithm.name;
      const gain = trained.overall.accuracy - base.overall.accuracy;
      const lines = [
        '',
        `avg@${base.k} accuracy on ${base.overall.n} test problems (temperature ${base.temperature}):`,
        formatEvalTable([
          ['base', base],
          [name, trained],
        ]),
        '',
        `gain: ${gain >= 0 ? '+' : ''}${(100 * gain).toFixed(1)} points overall (${(100 * base.overall.accuracy).toFixed(1)}% -> ${(100 * trained.overall.accuracy).toFixed(1)}%), measured in ${formatDuration((performance.now() - t0) / 1000)}`,
      ];
      process.stdout.write(lines.join('\n') + '\n');
      writeFileAtomic(join(out, 'summary.txt'), lines.join('\n') + '\n');
      return 0;
    });
  },
};
