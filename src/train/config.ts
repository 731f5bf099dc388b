/**
 * The one training configuration: a zod schema with EasyR1-like names (data.*, algorithm.*,
 * worker.actor.*, worker.rollout.*, trainer.*, and experiment.* for the switches that exist for
 * recorded experiments only), the one table of defaults, and the layering
 *   defaults <- preset (--preset tiny|small|medium) <- recipe of the algorithm (--algo) <- YAML file
 *   <- dotted command-line overrides (algorithm.pgpo.tau=0.3).
 * Unknown keys, keys that moved (config-migrate.ts) and bad values are errors naming the key and
 * where it was set.
 */
import { existsSync, readFileSync } from 'node:fs';
import { stringify } from 'yaml';
import { z } from 'zod';
import { ADVANTAGE_ESTIMATORS } from '../algo/advantage.ts';
import { LOSS_AGGREGATIONS } from '../algo/aggregation.ts';
import { DEPENDENCY_ESTIMATORS } from '../algo/dependency.ts';
import { KL_ESTIMATORS } from '../algo/kl.ts';
import { POLICY_LOSSES } from '../algo/policy-loss.ts';
import { PAPER_VARIANTS, UNOFFICIAL_VARIANTS } from '../algo/reshape.ts';
import { BACKENDS } from '../model/config.ts';
import { FAMILY_NAMES, RUNGS, VARIANT_NAMES, WORLDS } from '../tasks/index.ts';
import { ConfigError, deepMerge, getPath, isPlainObject, loadYaml, parseOverrideValue, setPath, type Plain } from './config-merge.ts';
import { migrateRunConfig, movedKeyIn } from './config-migrate.ts';

export const ALGORITHMS = ['grpo', 'dapo', 'pgpo', 'vppo', 'papo'] as const;
export type AlgorithmName = (typeof ALGORITHMS)[number];
export const RECIPES = ['grpo', 'dapo'] as const;
export const PRESETS = ['tiny', 'small', 'medium'] as const;
export type PresetName = (typeof PRESETS)[number];

const int = (min: number) => z.number().int().min(min);
const prob = z.number().min(0).max(1);
const positive = z.number().positive();
const nonNegative = z.number().min(0);
const rungList = z.array(z.number().int().min(1, 'rungs are 1..5').max(RUNGS.length, 'rungs are 1..5')).min(1, 'needs at least one rung');

/**
 * The config.yaml of a run directory in today's layout (migrateRunConfig: what it was written
 * with, old keys in their new places; unvalidated: for comparing settings); null when there is
 * none or it is not a YAML mapping.
 */
export function readRunConfig(path: string): Plain | null {
  if (!existsSync(path)) return null;
  try {
    return migrateRunConfig(loadYaml(readFileSync(path, 'utf8'), path).value);
  } catch (err) {
    if (err instanceof ConfigError) return null;
    throw err;
  }
}

export const configSchema = z.strictObject({
  data: z.strictObject({
    /** EasyR1-format dataset (parquet or JSONL) for training; null: the generated suite. */
    train_files: z.string().nullable(),
    /** EasyR1-format dataset for evaluation; null: the generated suite's test split. */
    val_files: z.string().nullable(),
    /**
     * The folder a dataset's image paths must resolve inside; null: the dataset file's own
     * folder. Set it (e.g. to `/`) to allow images elsewhere, explicitly.
     */
    image_root: z.string().min(1).nullable(),
    prompt_key: z.string().min(1),
    answer_key: z.string().min(1),
    image_key: z.string().min(1),
    suite: z.strictObject({
      /** Where the generated suite is written (and reused when present). */
      dir: z.string().min(1),
      n_train: int(1),
      n_test: int(1),
      families: z.array(z.enum(FAMILY_NAMES)).min(1),
      variants: z.array(z.enum(VARIANT_NAMES)).min(1),
      seed: int(0),
      /** Task difficulty 1-3 (src/tasks: value ranges, operations); also the SFT arithmetic drills'. */
      difficulty: z.union([z.literal(1), z.literal(2), z.literal(3)], { error: 'must be 1, 2 or 3' }),
      /**
       * Which task world: `classic` (the recorded suite, data.suite.difficulty) or `ladder`
       * (src/tasks/ladder.ts: rungs 1-5, over a million problems per family and rung, misleading
       * language priors; training problems drawn on the fly, data.suite.n_train of them per stream).
       */
      world: z.enum(WORLDS, { error: `must be one of ${WORLDS.join(', ')}` }),
      /** Ladder world: the rungs the warm start (pgpo sft) trains on. */
      sft_rungs: rungList,
      /** Ladder world: the rungs RL (pgpo train) trains on. */
      rl_rungs: rungList,
      /** Ladder world: the rungs of the test split (pgpo eval). */
      test_rungs: rungList,
    }),
    /** Prompts per RL step (each sampled worker.rollout.n times). */
    rollout_batch_size: int(1),
  }),
  algorithm: z.strictObject({
    name: z.enum(ALGORITHMS),
    /** The base recipe: grpo (KL loss, seq-mean) or dapo (dynamic sampling, clip-higher, token-mean). */
    recipe: z.enum(RECIPES),
    adv_estimator: z.enum(ADVANTAGE_ESTIMATORS),
    adv_eps: positive,
    /** DAPO dynamic sampling: drop groups whose filter_key is equal for every response, refill. */
    online_filtering: z.boolean(),
    filter_key: z.enum(['accuracy', 'reward']),
    /** Extra sampling rounds allowed to refill the batch after filtering (the cap). */
    max_filter_rounds: int(0),
    use_kl_loss: z.boolean(),
    kl_penalty: z.enum(KL_ESTIMATORS),
    kl_coef: nonNegative,
    kl_clamp: positive,
    pgpo: z.strictObject({
      /** The paper's gate (`pgpo`) or one of its ablations; the unofficial variants are experiment.pgpo_variant. */
      variant: z.enum(PAPER_VARIANTS, { error: `must be one of ${PAPER_VARIANTS.join(', ')} (the unofficial ones are experiment.pgpo_variant)` }),
      tau: prob,
      beta: nonNegative,
      eps: positive,
      /** k3 (the paper's), k1, k2, or exact (full-vocabulary KL from the logit rows). */
      estimator: z.enum(DEPENDENCY_ESTIMATORS),
    }),
    vppo: z.strictObject({
      /** Probability of blackening each model patch of the perturbed image. */
      mask_prob: prob,
      scale_min: prob,
      top_fraction: prob,
      clamp_max: positive,
      /** coef * mean(-logp) added to the loss. */
      entropy_penalty: nonNegative,
    }),
    papo: z.strictObject({
      mask_prob: prob,
      perception_coef: nonNegative,
      entropy_coef_original: nonNegative,
      entropy_coef_masked: nonNegative,
    }),
  }),
  worker: z.strictObject({
    actor: z.strictObject({
      /** Model preset for a fresh model (tiny|small|medium); ignored when init_checkpoint is set. */
      model: z.enum(PRESETS),
      /** Checkpoint to start RL from (the warm-started base, `pgpo train --init`); null: a fresh `model` policy (seeded by trainer.seed). */
      init_checkpoint: z.string().nullable(),
      /** The policy's engine: native (CBLAS sgemm, src/model/native) or jax (jax-js on wasm). Same checkpoints, same initial weights. */
      backend: z.enum(BACKENDS),
      optim: z.strictObject({
        lr: positive,
        /** The learned logit scale's own learning rate (decoder.scale: one number, an inverse temperature of the output); 0 keeps it where it is. */
        logit_scale_lr: nonNegative,
        weight_decay: nonNegative,
        betas: z.tuple([z.number().min(0).lt(1), z.number().min(0).lt(1)]),
        eps: positive,
        schedule: z.enum(['constant', 'cosine']),
        warmup_steps: int(0),
        min_lr_ratio: prob,
      }),
      /** Global-norm gradient clipping; null disables. */
      max_grad_norm: positive.nullable(),
      ppo_epochs: int(1),
      /** Prompts per policy update (mini-batch); the rollout batch is split into mini-batches of this size. */
      global_batch_size: int(1),
      /** The policy loss by name (src/algo/policy-loss.ts): ppo-clip (clip-higher, dual clip) or vanilla (-A r, no clipping). */
      policy_loss: z.enum(POLICY_LOSSES),
      clip_ratio_low: z.number().min(0).lt(1),
      clip_ratio_high: nonNegative,
      clip_ratio_dual: z.number().gt(1).nullable(),
      loss_agg_mode: z.enum(LOSS_AGGREGATIONS),
      /** Entropy bonus: loss -= entropy_coef * H (verl's entropy_coeff). */
      entropy_coef: nonNegative,
    }),
    rollout: z.strictObject({
      n: int(2),
      temperature: positive,
      top_p: z.number().gt(0).max(1),
      max_new_tokens: int(1),
    }),
  }),
  trainer: z.strictObject({
    total_steps: int(1),
    /** Checkpoint every N steps (and at the end, and on Ctrl-C). */
    save_freq: int(1),
    /** Keep the last K checkpoints. */
    save_limit: int(1),
    seed: int(0),
    /** Stop after this many consecutive steps whose loss or gradients were NaN/Inf. */
    max_nonfinite_in_row: int(1),
    /** Write example rollouts (rollouts/) and per-token dependencies (tokens/) every N steps (and at step 1); 0: never. */
    log_rollouts_freq: int(0),
    /** Example rollouts kept per logged step. */
    log_examples: int(0),
  }),
  /** Supervised warm start (`pgpo sft`) on the gold solutions of the generated suite. */
  sft: z.strictObject({
    total_steps: int(1),
    /** Examples per step (problems and drills). */
    batch_size: int(1),
    /** Share of each batch that is reading drills: random numbers at random places, read in order (src/tasks/drills.ts). */
    reading_drills: z.number().min(0).lt(1),
    /** Most numbers a reading drill holds. 6: each of the six cells holds one with probability 1/2 (the recorded bases); fewer: 1..N numbers in random cells, the simpler reading a curriculum starts with. */
    reading_drill_numbers: z.number().int().min(1).max(6),
    /** Share of each batch that is arithmetic drills: a task's computation without figure or question (scored text-only). */
    arithmetic_drills: z.number().min(0).lt(1),
    /** Weight of the vision encoder's reading loss (per patch) on the batch's images, added to the token NLL; 0: off. */
    reading_loss_coef: nonNegative,
    /** The first N steps train the reading loss alone, so the image tokens carry what is written before the decoder trains. */
    reading_warmup_steps: int(0),
    lr: positive,
    warmup_steps: int(0),
    min_lr_ratio: prob,
    weight_decay: nonNegative,
    max_grad_norm: positive.nullable(),
    save_freq: int(1),
  }),
  eval: z.strictObject({
    /** Test problems evaluated (the first n of the test split). */
    n: int(1),
    /** Samples per problem: avg@k. */
    k: int(1),
    /** Sampling temperature, > 0: sampling divides by it (greedy decoding is `greedy`, not 0). */
    temperature: z.number().gt(0, 'must be > 0 (for greedy decoding set eval.greedy=true)'),
    /** Greedy decoding instead of sampling (then k is forced to 1). */
    greedy: z.boolean(),
    /**
     * `pgpo pipeline` evaluates each policy this many times, under sampling seeds trainer.seed,
     * trainer.seed + 1, ..., and pools them (avg@k x seeds per row): one avg@8 evaluation cannot
     * tell a gain of a point or two from sampling noise. `pgpo eval` makes one (`--seed`).
     */
    seeds: int(1),
  }),
  /**
   * Switches for controls, ablations and measurements outside the method (docs/results.md records
   * what each showed). The defaults are the main path: no control, nothing frozen, AdamW, nothing
   * measured, no key split, the paper's gate. src/train/experiment.ts is where they act on a step.
   */
  experiment: z.strictObject({
    /** The no-signal control: each group's rewards shuffled among its responses before the advantages (src/algo/placebo.ts). */
    placebo: z.boolean(),
    /** Parameter paths (or prefixes: 'vision', 'decoder.head', 'decoder.layers.0') the RL update leaves unchanged. */
    freeze: z.array(z.string().min(1)),
    /** RL's optimizer: adamw, or sgd (SGD with heavy-ball momentum: steps in proportion to the gradient). */
    optimizer: z.enum(['adamw', 'sgd']),
    /** SGD's momentum (optimizer sgd only; AdamW's is worker.actor.optim.betas[0]). */
    sgd_momentum: z.number().min(0).lt(1),
    /** Measure the policy-gradient variance (pg_var) at step 1 and every N steps; 0: never (it costs extra backward passes). */
    pg_var_freq: int(0),
    /** Chunks M of the pg_var estimator. */
    pg_var_chunks: int(2),
    /**
     * Share of the training split's problems (by problem key) reserved for RL: `pgpo sft` never
     * trains on them (its arithmetic drills draw computations from any problem) and `pgpo train`
     * uses only them. 0: both use every training problem.
     */
    rl_fraction: z.number().min(0).lt(1),
    /** An unofficial reshaping variant in place of algorithm.pgpo.variant (src/algo/reshape.ts); null: the paper's. */
    pgpo_variant: z.enum(UNOFFICIAL_VARIANTS).nullable(),
    /** `pgpo-quantile`: tau is this quantile of the response's own importances. */
    pgpo_quantile: prob,
    /** `pgpo-floor`: gated weights below this are raised to it (before normalisation). */
    pgpo_floor: nonNegative,
  }),
});

export type TrainConfig = z.infer<typeof configSchema>;

/** Every default, in one place. */
export const DEFAULTS: TrainConfig = {
  data: {
    train_files: null,
    val_files: null,
    image_root: null,
    prompt_key: 'problem',
    answer_key: 'answer',
    image_key: 'images',
    suite: {
      dir: 'data/suite',
      n_train: 4000,
      n_test: 256,
      families: [...FAMILY_NAMES],
      variants: [...VARIANT_NAMES],
      seed: 1234,
      difficulty: 1,
      world: 'classic',
      sft_rungs: [1, 2],
      rl_rungs: [3],
      test_rungs: [3],
    },
    rollout_batch_size: 8,
  },
  algorithm: {
    name: 'pgpo',
    recipe: 'dapo',
    adv_estimator: 'grpo',
    adv_eps: 1e-6,
    online_filtering: true,
    filter_key: 'accuracy',
    max_filter_rounds: 2,
    use_kl_loss: false,
    kl_penalty: 'k3',
    kl_coef: 0.01,
    kl_clamp: 10,
    pgpo: { variant: 'pgpo', tau: 0.4, beta: 2.0, eps: 1e-8, estimator: 'k3' },
    vppo: { mask_prob: 0.5, scale_min: 0.9, top_fraction: 0.4, clamp_max: 10, entropy_penalty: 0.06 },
    papo: { mask_prob: 0.6, perception_coef: 0.01, entropy_coef_original: 0.03, entropy_coef_masked: 0.03 },
  },
  worker: {
    actor: {
      model: 'small',
      init_checkpoint: null,
      backend: 'native',
      optim: { lr: 3e-5, logit_scale_lr: 3e-2, weight_decay: 0.01, betas: [0.9, 0.999], eps: 1e-8, schedule: 'constant', warmup_steps: 0, min_lr_ratio: 0.1 },
      max_grad_norm: 1.0,
      ppo_epochs: 1,
      global_batch_size: 8,
      policy_loss: 'ppo-clip',
      clip_ratio_low: 0.2,
      clip_ratio_high: 0.28,
      clip_ratio_dual: 3.0,
      loss_agg_mode: 'token-mean',
      entropy_coef: 0,
    },
    rollout: { n: 8, temperature: 1.0, top_p: 1.0, max_new_tokens: 48 },
  },
  trainer: { total_steps: 40, save_freq: 10, save_limit: 2, seed: 1, max_nonfinite_in_row: 3, log_rollouts_freq: 5, log_examples: 8 },
  sft: {
    total_steps: 2000,
    batch_size: 32,
    reading_drills: 0.25,
    reading_drill_numbers: 6,
    arithmetic_drills: 0.15,
    reading_loss_coef: 1,
    reading_warmup_steps: 50,
    lr: 3e-3,
    warmup_steps: 50,
    min_lr_ratio: 0.05,
    weight_decay: 0.01,
    max_grad_norm: 1.0,
    save_freq: 125,
  },
  eval: { n: 256, k: 8, temperature: 1.0, greedy: false, seeds: 3 },
  experiment: {
    placebo: false,
    freeze: [],
    optimizer: 'adamw',
    sgd_momentum: 0.9,
    pg_var_freq: 0,
    pg_var_chunks: 4,
    rl_fraction: 0,
    pgpo_variant: null,
    pgpo_quantile: 0.5,
    pgpo_floor: 0.1,
  },
};

type DeepPartial<T> = { [K in keyof T]?: T[K] extends readonly unknown[] ? T[K] : T[K] extends object ? DeepPartial<T[K]> : T[K] };

/** Size presets: `tiny` for tests (seconds), `small` the default, `medium` the larger model the native engine pays for. */
export const PRESET_OVERLAYS: Record<PresetName, DeepPartial<TrainConfig>> = {
  tiny: {
    data: { suite: { dir: 'data/suite-tiny', n_train: 64, n_test: 16 }, rollout_batch_size: 2 },
    worker: { actor: { model: 'tiny', global_batch_size: 2 }, rollout: { n: 4, max_new_tokens: 12 } },
    trainer: { total_steps: 2, save_freq: 1 },
    sft: { total_steps: 4, batch_size: 4, save_freq: 2, warmup_steps: 1, reading_warmup_steps: 1 },
    eval: { n: 8, k: 2, seeds: 1 },
  },
  small: {},
  // sft.lr: small's 3e-3 held medium's warm start back (docs/results.md, "Does the base read?")
  medium: { worker: { actor: { model: 'medium' } }, sft: { lr: 1e-3 } },
};

/** What each base recipe sets (GRPO as EasyR1's defaults; DAPO as its paper; PGPO.md §5). */
export const RECIPE_OVERLAYS: Record<(typeof RECIPES)[number], DeepPartial<TrainConfig>> = {
  grpo: {
    algorithm: { online_filtering: false, use_kl_loss: true },
    worker: { actor: { clip_ratio_high: 0.2, loss_agg_mode: 'seq-mean-token-mean' } },
  },
  dapo: {
    algorithm: { online_filtering: true, use_kl_loss: false },
    worker: { actor: { clip_ratio_high: 0.28, loss_agg_mode: 'token-mean' } },
  },
};

/** The recipe an algorithm runs on unless algorithm.recipe says otherwise. */
export const DEFAULT_RECIPE: Record<AlgorithmName, (typeof RECIPES)[number]> = {
  grpo: 'grpo',
  dapo: 'dapo',
  pgpo: 'dapo',
  vppo: 'dapo',
  papo: 'dapo',
};

export interface ConfigSources {
  /** --preset */
  readonly preset?: string;
  /** --algo */
  readonly algo?: string;
  /** --config FILE */
  readonly file?: string;
  /** dotted overrides in command-line order */
  readonly overrides?: ReadonlyArray<readonly [string, string]>;
  /** A config saved in a run directory (resume): used as the base instead of the layers. */
  readonly base?: Plain;
}

function oneOf<T extends string>(value: string, allowed: readonly T[], what: string): T {
  if (!(allowed as readonly string[]).includes(value)) throw new ConfigError(`${what} must be one of ${allowed.join(', ')}, got "${value}"`);
  return value as T;
}

/** Builds, validates and returns the resolved config; errors name the key and its source. */
export function resolveConfig(sources: ConfigSources = {}): TrainConfig {
  let fileValue: Plain = {};
  let lineOf: (p: readonly PropertyKey[]) => number | undefined = () => undefined;
  if (sources.file) {
    let text: string;
    try {
      text = readFileSync(sources.file, 'utf8');
    } catch (err) {
      throw new ConfigError(`cannot read config ${sources.file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    const loaded = loadYaml(text, sources.file);
    fileValue = loaded.value;
    lineOf = loaded.lineOf;
  }
  let overrides: Plain = {};
  const overrideKeys = new Set<string>();
  for (const [key, raw] of sources.overrides ?? []) {
    overrides = setPath(overrides, key, parseOverrideValue(raw));
    overrideKeys.add(key);
  }
  if (sources.algo) overrides = setPath(overrides, 'algorithm.name', oneOf(sources.algo, ALGORITHMS, '--algo'));
  // a key that moved is named with its new place (a saved run's config is migrated instead)
  const movedInFile = movedKeyIn(fileValue);
  if (movedInFile) {
    const line = lineOf(movedInFile.path);
    throw new ConfigError(`${movedInFile.message} (${sources.file}${line ? `:${line}` : ''})`);
  }
  const movedInOverrides = movedKeyIn(overrides);
  if (movedInOverrides) throw new ConfigError(`${movedInOverrides.message} (set on the command line)`);

  let layered: Plain;
  if (sources.base) {
    layered = deepMerge(migrateRunConfig(sources.base), fileValue);
  } else {
    const preset = oneOf(sources.preset ?? 'small', PRESETS, '--preset');
    const user = deepMerge(fileValue, overrides);
    const name = (getPath(user, ['algorithm', 'name']) ?? DEFAULTS.algorithm.name) as AlgorithmName;
    const recipe = (getPath(user, ['algorithm', 'recipe']) ?? DEFAULT_RECIPE[name as AlgorithmName] ?? 'dapo') as (typeof RECIPES)[number];
    layered = deepMerge(DEFAULTS as unknown as Plain, PRESET_OVERLAYS[preset] as Plain);
    if ((RECIPES as readonly string[]).includes(recipe)) {
      layered = deepMerge(layered, RECIPE_OVERLAYS[recipe] as Plain);
      layered = setPath(layered, 'algorithm.recipe', recipe);
    }
    layered = deepMerge(layered, fileValue);
  }
  const merged = deepMerge(layered, overrides);

  const parsed = configSchema
    .superRefine((c, ctx) => {
      if (c.sft.reading_drills + c.sft.arithmetic_drills >= 1)
        ctx.addIssue({
          code: 'custom',
          path: ['sft', 'arithmetic_drills'],
          message: `sft.reading_drills + sft.arithmetic_drills must be below 1 (the rest of each batch is task problems), got ${c.sft.reading_drills} + ${c.sft.arithmetic_drills}`,
        });
      // the key split divides the generated suite's problems; a dataset file would silently train on all of its rows
      if (c.data.train_files !== null && c.experiment.rl_fraction > 0)
        ctx.addIssue({
          code: 'custom',
          path: ['experiment', 'rl_fraction'],
          message: `the key split applies to the generated suite only, and data.train_files (${c.data.train_files}) is set: set experiment.rl_fraction=0, or drop data.train_files`,
        });
      // one variant at a time: the unofficial one replaces the paper's gate, not one of its ablations
      if (c.experiment.pgpo_variant !== null && c.algorithm.pgpo.variant !== 'pgpo')
        ctx.addIssue({
          code: 'custom',
          path: ['experiment', 'pgpo_variant'],
          message: `replaces algorithm.pgpo.variant, which must then be pgpo, not "${c.algorithm.pgpo.variant}"`,
        });
    })
    .safeParse(merged);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const keyPath = issue.code === 'unrecognized_keys' ? [...issue.path, issue.keys[0]] : issue.path;
    const key = keyPath.map(String).join('.');
    const fromOverride = [...overrideKeys].some((k) => k === key || key.startsWith(k + '.') || k.startsWith(key + '.'));
    const line = lineOf(keyPath);
    const where = fromOverride
      ? ' (set on the command line)'
      : sources.file && line
        ? ` (${sources.file}:${line})`
        : sources.file && getPath(fileValue, keyPath) !== undefined
          ? ` (${sources.file})`
          : '';
    if (issue.code === 'unrecognized_keys') {
      const parent = getPath(DEFAULTS, issue.path);
      const known = isPlainObject(parent) ? Object.keys(parent).join(', ') : '';
      throw new ConfigError(`unknown config key "${key}"${where}${known ? `; known keys under ${issue.path.length ? issue.path.join('.') : 'the top level'}: ${known}` : ''}`);
    }
    const got = getPath(merged, keyPath);
    throw new ConfigError(`config key "${key}"${where}: ${issue.message}${got === undefined ? '' : `, got ${JSON.stringify(got)}`}`);
  }
  return parsed.data;
}

export function configToYaml(config: TrainConfig): string {
  return stringify(config, { lineWidth: 0 });
}
