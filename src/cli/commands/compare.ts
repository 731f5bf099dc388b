/**
 * `pgpo compare --algos base,grpo,dapo,papo,vppo,pgpo --seeds 3 [--budget STEPS] [--ablation] --out DIR`
 * Every arm trains from the same base checkpoint, on the same data, for the same number of
 * steps, once per seed (trainer.seed = 0..seeds-1), and is evaluated avg@k on the test split.
 * Each run is an ordinary run directory under DIR/runs/<arm>-seed<k>, resumed if cut short and
 * skipped if complete, so an interrupted comparison re-run loses nothing. Writes
 * DIR/compare.json (read by `pgpo report`) and DIR/compare.md.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ensureDir, writeFileAtomic } from '../../data/atomic-write.ts';
import {
  ablationArms,
  algoArms,
  armDifferences,
  compareTable,
  DEFAULT_ARMS,
  formatCompareTable,
  formatDifferences,
  formatFamilySplitTable,
  formatSplitTable,
  poolReports,
  type Arm,
} from '../../eval/compare.ts';
import { EvalReportError, readEvalReport, type EvalReport } from '../../eval/evaluate.ts';
import { ALGORITHMS, type TrainConfig } from '../../train/config.ts';
import { formatDuration } from '../../train/progress.ts';
import { RunDir } from '../../train/run-dir.ts';
import { loadProblems } from '../../train/sources.ts';
import { rlSettingsMismatch, shippedBase, staleEval } from '../../train/stages.ts';
import { boolFlag, CliError, numberFlag, stringFlag, type FlagSpec, type ParsedArgs } from '../args.ts';
import { parseCommand, type Command } from '../command.ts';
import { CONFIG_FLAGS, configArgs, configFrom, runChild, withInterrupt } from '../session.ts';

/** RL steps per run: 5 algorithms x 3 seeds x 25 steps fit in an hour on 2 cores with one evaluation per run (eval.seeds=1; docs/results.md). */
const DEFAULT_BUDGET = 25;

const flags: Record<string, FlagSpec> = {
  algos: { type: 'string', description: `comma-separated: base and any of ${ALGORITHMS.join(', ')} (default ${DEFAULT_ARMS.join(',')}); with --ablation, the ablation arms to run (default all)` },
  ablation: { type: 'boolean', description: 'PGPO ablations instead: no-norm, suppress-only, boost-only, uniform, tau x beta grid' },
  seeds: { type: 'string', description: 'seeds per arm (default 3; 2 with --ablation)' },
  budget: { type: 'string', description: `RL steps per run (default ${DEFAULT_BUDGET})` },
  base: { type: 'string', description: 'base checkpoint or run directory (default runs/pipeline/base, else the shipped models/small-base)' },
  'base-temperature': { type: 'string', description: 'also evaluate the base at these sampling temperatures (comma-separated; rows base@T): gains over a sharpened base' },
  out: { type: 'string', description: 'output directory' },
  ...CONFIG_FLAGS,
  help: { type: 'boolean', description: 'show this help' },
};
const USAGE = 'pgpo compare --out DIR [--algos base,grpo,dapo,papo,vppo,pgpo] [--seeds 3] [--budget STEPS] [--ablation] [--base CKPT] [--base-temperature 0.7] [key.path=value ...]';

export const command: Command = {
  async run(argv) {
    const args = parseCommand(argv, { name: 'compare', usage: USAGE, flags, positionals: 'any' });
    if (!args) return 0;
    const out = stringFlag(args, 'out');
    if (!out) throw new CliError(`pgpo compare: --out DIR is required\n${USAGE}`);
    // default budgets, with eval.seeds=1: 5 algorithms x 3 seeds fit in an hour here, 9 ablation arms x 2 seeds in 45 minutes (measured before the uniform arm, a DAPO run, joined them) (docs/results.md)
    const seeds = numberFlag(args, 'seeds', boolFlag(args, 'ablation') ? 2 : 3, { integer: true, min: 1 });
    const base = stringFlag(args, 'base') ?? (existsSync('runs/pipeline/base') || !existsSync(shippedBase('small')) ? 'runs/pipeline/base' : shippedBase('small'));
    if (!existsSync(base) || !new RunDir(base).latest())
      throw new CliError(`pgpo compare: no base checkpoint at ${base} (run \`npm run start:classic\` or \`pgpo sft --out ${base}\` first, or pass --base)`);
    let arms: Arm[];
    const ablation = boolFlag(args, 'ablation');
    const names = (stringFlag(args, 'algos') ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    if (ablation) {
      const all = ablationArms();
      const pick = (n: string) => all.find((a) => a.name === n) ?? fail(`--algos with --ablation: unknown ablation arm "${n}" (have: ${all.map((a) => a.name).join(', ')})`);
      arms = names.length ? names.map(pick) : all;
    } else {
      if (!names.length) names.push(...DEFAULT_ARMS);
      for (const n of names) if (n !== 'base' && !(ALGORITHMS as readonly string[]).includes(n)) throw new CliError(`--algos: unknown algorithm "${n}" (have: base, ${ALGORITHMS.join(', ')})`);
      arms = algoArms(names);
    }
    for (const raw of (stringFlag(args, 'base-temperature') ?? '').split(',').filter((x) => x.trim())) {
      const t = Number(raw);
      if (!(t > 0) || !Number.isFinite(t)) throw new CliError(`--base-temperature: a temperature must be a number > 0, got "${raw.trim()}"`);
      arms.unshift({ name: `base@${t}`, algo: 'base', overrides: [['eval.temperature', String(t)]] });
    }
    // each arm's seeds and budget are compare's to set: one trainer.seed for all would make the seeds one run
    for (const key of ['trainer.seed', 'trainer.total_steps'])
      if (args.overrides.some(([k]) => k === key)) throw new CliError(`pgpo compare: ${key} is set per run by compare (--seeds, --budget); leave it out of the overrides`);
    const probe = configFrom(args);
    const budget = numberFlag(args, 'budget', DEFAULT_BUDGET, { integer: true, min: 1 });
    const t0 = performance.now();
    const log = (s: string) => process.stderr.write(`[compare ${formatDuration((performance.now() - t0) / 1000)}] ${s}\n`);
    ensureDir(join(out, 'runs'));
    // the folder is this comparison's: a second compare on it at once, or a training run's folder, is refused
    const folder = new RunDir(out);
    const lock = folder.claim('compare');
    if (lock.note) log(`note: ${lock.note}`);
    folder.recordKind('compare');
    try {
      return await compareIn(out, { args, arms, seeds, base, probe, budget, log, t0, ablation });
    } finally {
      lock.release();
    }
  },
};

function fail(message: string): never {
  throw new CliError(message);
}

/** The comparison itself, in a folder this process holds. */
async function compareIn(
  out: string,
  o: { args: ParsedArgs; arms: Arm[]; seeds: number; base: string; probe: TrainConfig; budget: number; log: (s: string) => void; t0: number; ablation: boolean },
): Promise<number> {
  const { args, arms, seeds, base, probe, budget, log, t0, ablation } = o;
  const test = (await loadProblems(probe, 'test')).slice(0, probe.eval.n);

  return withInterrupt(async (signal) => {
    const results: Array<{ arm: string; reports: EvalReport[] }> = [];
    for (const arm of arms) {
      const reports: EvalReport[] = [];
      for (let seed = 0; seed < seeds; seed++) {
        if (signal.aborted) return 130;
        const dir = join(out, 'runs', `${arm.name}-seed${seed}`);
        const overrides: Array<[string, string]> = [
          ['worker.actor.init_checkpoint', base],
          ['trainer.seed', String(seed)],
          ['trainer.total_steps', String(budget)],
          ...args.overrides,
          // last: an arm is what its overrides say (base@T's temperature, an ablation's variant)
          ...(arm.overrides as Array<[string, string]>),
        ];
        const config = configFrom({ ...args, overrides }, arm.algo === 'base' ? undefined : arm.algo);
        // each run and each evaluation in its own process: a fresh wasm heap (session.ts runChild)
        const childArgs = configArgs({ ...args, overrides: [] }, overrides);
        let ckpt: string;
        if (arm.algo === 'base') {
          ensureDir(dir);
          ckpt = base;
        } else {
          const rd = new RunDir(dir);
          // a run left by an earlier compare is reused or continued only if it was made with these settings
          const why = existsSync(join(dir, 'config.yaml')) ? rlSettingsMismatch(dir, config) : null;
          if (why) throw new CliError(`pgpo compare: ${join(dir, 'config.yaml')}: ${why}; give another --out (or delete ${dir}) to run with these settings`);
          const at = rd.latest()?.step ?? 0;
          if (at > budget) throw new CliError(`pgpo compare: ${dir} holds a checkpoint at step ${at}, past --budget ${budget}; give another --out (or delete ${dir}) to run with this budget`);
          if (at !== budget) {
            log(`${arm.name} seed ${seed}: training ${budget} steps -> ${dir}`);
            const code = await runChild(['train', ...(rd.holdsRun() ? ['--resume', dir] : ['--out', dir, '--algo', arm.algo]), ...childArgs], { quietStdout: true });
            if (code === 130) return 130;
            if (code !== 0) throw new CliError(`pgpo compare: training ${dir} exited with ${code}; re-run the same command to continue`, code);
          }
          ckpt = dir;
        }
        // eval.seeds evaluations under sampling seeds seed, seed + 1000, ...: pooled, one replicate of the arm
        const evals: EvalReport[] = [];
        // (greedy decoding draws nothing: one evaluation)
        const evalSeeds = config.eval.greedy ? 1 : config.eval.seeds;
        for (let e = 0; e < evalSeeds; e++) {
          const sampling = seed + 1000 * e;
          const evalPath = join(dir, e === 0 ? 'eval.json' : `eval-seed${sampling}.json`);
          // an evaluation left by an earlier compare stands only for the same ask of the same checkpoint
          const stale = existsSync(evalPath) ? staleEval(evalPath, arm.algo === 'base' ? base : dir, config, sampling) : null;
          if (stale) log(`${arm.name} seed ${seed}: ${evalPath}: ${stale}; evaluating again`);
          if (!existsSync(evalPath) || stale) {
            log(`${arm.name} seed ${seed}: evaluating avg@${config.eval.k} on ${test.length} test problems${evalSeeds > 1 ? ` (sampling seed ${sampling})` : ''}`);
            const seeded = configArgs({ ...args, overrides: [] }, [...overrides, ['trainer.seed', String(sampling)]]);
            const code = await runChild(['eval', '--ckpt', ckpt, '--out', evalPath, ...seeded], { quietStdout: true });
            if (code === 130) return 130;
            if (code !== 0) throw new CliError(`pgpo compare: evaluating ${ckpt} exited with ${code}; re-run the same command to continue`, code);
          }
          try {
            evals.push(readEvalReport(evalPath));
          } catch (err) {
            if (err instanceof EvalReportError) throw new CliError(`pgpo compare: ${err.message}; delete it and re-run to evaluate again`);
            throw err;
          }
        }
        reports.push(poolReports(evals));
      }
      results.push({ arm: arm.name, reports });
    }
    const table = compareTable(results, seeds);
    const differences = armDifferences(results, { ablation, measure: (r) => r.overall.accuracy });
    // ladder world: does an arm answer a misleading language prior more or less often (the failure PGPO targets)
    const priorDifferences = results.every((r) => r.reports.every((x) => x.prior && x.prior.n > 0)) ? armDifferences(results, { ablation, measure: (r) => r.prior!.rate }) : [];
    const doc = {
      ...table,
      eval_seeds: probe.eval.seeds,
      differences,
      ...(priorDifferences.length ? { prior_differences: priorDifferences } : {}),
      budget: { steps: budget, rollout_batch_size: probe.data.rollout_batch_size, n: probe.worker.rollout.n },
      base,
      date: new Date().toISOString(),
      wall_seconds: (performance.now() - t0) / 1000,
    };
    writeFileAtomic(join(out, 'compare.json'), JSON.stringify(doc, null, 2) + '\n');
    const pooled = probe.eval.seeds > 1 ? `, each run evaluated under ${probe.eval.seeds} sampling seeds and pooled` : '';
    const md =
      [
        `avg@${probe.eval.k} accuracy (%) on ${test.length} test problems, mean ± 95% t-interval over ${seeds} seed(s)${pooled}, ${budget} RL steps per run:`,
        formatCompareTable(table),
        ...(differences.length ? ['Differences (Welch interval over the runs; the test problems are shared and held fixed):', formatDifferences(differences)] : []),
        'Where the samples go (all evaluations of an arm pooled; %):',
        formatSplitTable(results),
        'The same per family:',
        formatFamilySplitTable(results),
        ...(priorDifferences.length
          ? ['Answered the misleading prior (% of the samples whose problem has a wrong prior answer; Welch interval over the runs):', formatDifferences(priorDifferences, 'higher')]
          : []),
      ].join('\n\n') + '\n';
    writeFileAtomic(join(out, 'compare.md'), md);
    process.stdout.write(md);
    log(`wrote ${join(out, 'compare.json')}; see it with: npx pgpo report ${out} --out ${join(out, 'report.html')}`);
    return 0;
  });
}
