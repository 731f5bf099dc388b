/**
 * How the config's layout changed, in one place: a run's config.yaml as any earlier version wrote
 * it, brought to today's layout (migrateRunConfig), and the old keys a user may still type
 * (movedKeyIn: an error naming the new place). Every reader of a run's saved config goes through
 * migrateRunConfig: resume (resolveConfig's base), readRunConfig (the stage cache, compare, the
 * suite notes).
 *
 * The changes, oldest first:
 *   1. keys added after runs were written (ADDED_KEYS): such a run gets the value it ran with;
 *   2. the experiment-only switches moved under experiment.* (MOVED_KEYS, and algorithm.pgpo.variant's
 *      unofficial values to experiment.pgpo_variant).
 * A config that has the experiment section was written after both.
 */
import { UNOFFICIAL_VARIANTS } from '../algo/reshape.ts';
import { getPath, isPlainObject, setPath, type Plain } from './config-merge.ts';

/** Keys added after runs were written (by the section they were added to, in the layout of the time), with the value every run before them had. */
const ADDED_KEYS = {
  data: { image_root: null },
  'data.suite': { difficulty: 1, rl_fraction: 0, world: 'classic', sft_rungs: [1, 2], rl_rungs: [3], test_rungs: [3] },
  algorithm: { placebo: false },
  'worker.actor': { freeze: [], backend: 'jax', policy_loss: 'ppo-clip' },
  'worker.actor.optim': { name: 'adamw', momentum: 0.9, logit_scale_lr: 0 },
  eval: { seeds: 1 },
  sft: { reading_drill_numbers: 6 },
} as const;

/** Where each experiment-only switch was before the experiment section, and where it is now. */
export const MOVED_KEYS: Readonly<Record<string, string>> = {
  'algorithm.placebo': 'experiment.placebo',
  'worker.actor.freeze': 'experiment.freeze',
  'worker.actor.optim.name': 'experiment.optimizer',
  'worker.actor.optim.momentum': 'experiment.sgd_momentum',
  'trainer.pg_var_freq': 'experiment.pg_var_freq',
  'trainer.pg_var_chunks': 'experiment.pg_var_chunks',
  'data.suite.rl_fraction': 'experiment.rl_fraction',
  'algorithm.pgpo.quantile': 'experiment.pgpo_quantile',
  'algorithm.pgpo.floor': 'experiment.pgpo_floor',
};

/** algorithm.pgpo.variant's unofficial values moved to experiment.pgpo_variant; the paper's stayed. */
const VARIANT_FROM = 'algorithm.pgpo.variant';
const VARIANT_TO = 'experiment.pgpo_variant';
const isUnofficial = (v: unknown): v is string => (UNOFFICIAL_VARIANTS as readonly unknown[]).includes(v);

function withAddedKeys(run: Plain): Plain {
  let out = run;
  for (const [section, added] of Object.entries(ADDED_KEYS)) {
    const at = getPath(out, section.split('.'));
    if (isPlainObject(at)) out = setPath(out, section, { ...added, ...at });
  }
  return out;
}

/** A copy of `target` without the dotted key `path` (absent: unchanged). */
function withoutKey(target: Plain, path: string): Plain {
  const keys = path.split('.');
  const parent = getPath(target, keys.slice(0, -1));
  if (!isPlainObject(parent) || !(keys[keys.length - 1] in parent)) return target;
  const { [keys[keys.length - 1]]: _gone, ...rest } = parent;
  return keys.length === 1 ? rest : setPath(target, keys.slice(0, -1).join('.'), rest);
}

function toExperimentSection(run: Plain): Plain {
  let out = run;
  for (const [from, to] of Object.entries(MOVED_KEYS)) {
    const value = getPath(out, from.split('.'));
    if (value === undefined) continue;
    out = setPath(withoutKey(out, from), to, value);
  }
  const variant = getPath(out, VARIANT_FROM.split('.'));
  if (variant !== undefined) {
    out = setPath(out, VARIANT_TO, isUnofficial(variant) ? variant : null);
    // the run reshaped with the unofficial variant in place of the paper's gate
    if (isUnofficial(variant)) out = setPath(out, VARIANT_FROM, 'pgpo');
  }
  return out;
}

/**
 * A run's config as written by any version (unvalidated), in today's layout: the keys it predates
 * set to what it ran with, moved keys in their new places. Today's layout is returned as it is.
 */
export function migrateRunConfig(run: Plain): Plain {
  if (run.experiment !== undefined) return run;
  return toExperimentSection(withAddedKeys(run));
}

/**
 * The first old key in a user's config (a YAML file or the command line's overrides), as the key
 * path and the error that names its new place; null when there is none.
 */
export function movedKeyIn(user: Plain): { path: string[]; message: string } | null {
  for (const [from, to] of Object.entries(MOVED_KEYS)) {
    if (getPath(user, from.split('.')) !== undefined) return { path: from.split('.'), message: `config key "${from}" moved to "${to}"` };
  }
  const variant = getPath(user, VARIANT_FROM.split('.'));
  if (isUnofficial(variant)) return { path: VARIANT_FROM.split('.'), message: `config key "${VARIANT_FROM}" value "${variant}" moved to "${VARIANT_TO}"` };
  return null;
}
