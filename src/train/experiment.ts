/**
 * Where the experiment.* switches act on an RL step, in one place: the step (rl-step.ts), the
 * trainer and the algorithms read them only through these functions, which on the defaults change
 * nothing. The key split (experiment.rl_fraction) acts on the data instead (sources.ts).
 */
import { shuffleWithinGroups } from '../algo/placebo.ts';
import type { AlgorithmSettings } from '../algo/algorithms/types.ts';
import type { OptimStep } from '../core/policy.ts';
import type { Rng } from '../engine/rng.ts';
import type { TrainConfig } from './config.ts';

/** algorithm.* as the algorithms read it: experiment.pgpo_variant, when set, in place of the paper's gate. */
export function algorithmSettings(config: TrainConfig): AlgorithmSettings {
  const e = config.experiment;
  const pgpo = config.algorithm.pgpo;
  return { ...config.algorithm, pgpo: { ...pgpo, variant: e.pgpo_variant ?? pgpo.variant, quantile: e.pgpo_quantile, floor: e.pgpo_floor } };
}

/**
 * The rewards the advantages are computed from: the real ones, or under the placebo control those
 * shuffled within each group (from the step's stream forked by 'placebo'). What is logged stays real.
 */
export function trainingRewards(config: TrainConfig, rewards: readonly number[], groups: readonly number[], rng: Rng): readonly number[] {
  if (!config.experiment.placebo) return rewards;
  const placebo = rng.fork('placebo');
  return shuffleWithinGroups(rewards, groups, (n) => placebo.int(n));
}

/** The optimizer, its momentum and the frozen parameters of every update. */
export function optimizerChoice(config: TrainConfig): Pick<OptimStep, 'optimizer' | 'momentum' | 'frozen'> {
  const e = config.experiment;
  return { optimizer: e.optimizer, momentum: e.sgd_momentum, frozen: e.freeze };
}

/** Whether step `step` measures the policy-gradient variance: step 1 and every experiment.pg_var_freq steps. */
export function measuresPgVar(config: TrainConfig, step: number): boolean {
  const every = config.experiment.pg_var_freq;
  return every > 0 && (step % every === 0 || step === 1);
}
