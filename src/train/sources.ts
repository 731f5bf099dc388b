/**
 * Where the training commands get their three ingredients: the policy (src/model), the reward
 * (src/reward) and the problems — the generated suite (src/tasks), or EasyR1-format datasets
 * given by data.train_files / data.val_files (src/data).
 */
import { existsSync, readFileSync } from 'node:fs';
import { ensureDir, writeFileAtomic } from '../data/atomic-write.ts';
import { join } from 'node:path';
import { loadDataset, writeDataset } from '../data/index.ts';
import { instanceRow } from '../data/generated.ts';
import { policyFactoryFor } from '../model/backends.ts';
import { computeReward } from '../reward/index.ts';
import { DEFAULT_IMAGE_SIZE, generateSuite, glyphPlacements, useOf, type TaskInstance } from '../tasks/index.ts';
import type { TrainConfig } from './config.ts';
import type { PolicyFactory } from '../core/policy.ts';
import type { Problem, RewardFn } from '../core/problem.ts';

/** The policy factory of the run's `worker.actor.backend`. */
export function policyFactory(config: TrainConfig): PolicyFactory {
  return policyFactoryFor(config.worker.actor.backend);
}

export function reward(): RewardFn {
  return (text, answer) => computeReward(text, answer);
}

type Split = 'train' | 'test';

function suiteConfig(config: TrainConfig, split: Split) {
  const s = config.data.suite;
  return {
    n: split === 'train' ? s.n_train : s.n_test,
    families: s.families,
    variants: s.variants,
    split,
    seed: s.seed,
    difficulty: s.difficulty,
    imageSize: DEFAULT_IMAGE_SIZE,
  };
}

const cache = new Map<string, TaskInstance[]>();

/** The generated suite's instances for a split (deterministic; cached in-process). */
export function suiteInstances(config: TrainConfig, split: Split): TaskInstance[] {
  const cfg = suiteConfig(config, split);
  const key = JSON.stringify(cfg);
  let got = cache.get(key);
  if (!got) cache.set(key, (got = generateSuite(cfg)));
  return got;
}

function fromInstance(t: TaskInstance): Problem {
  return {
    id: t.id,
    problem: t.problem,
    answer: t.answer,
    image: t.image,
    family: t.family,
    variant: t.variant,
    problemKey: t.problemKey,
    solution: t.solution,
    imageValues: t.imageValues,
    textValues: t.textValues,
    glyphs: glyphPlacements(t.scene, t.image.width),
  };
}

/**
 * The problems of a split. For the training split of the generated suite, `use` picks the share
 * the key split gives it (data.suite.rl_fraction): `sft` for the warm start, `rl` for RL; without
 * `use` (or with rl_fraction 0), every training problem.
 */
export async function loadProblems(config: TrainConfig, split: Split, use?: 'sft' | 'rl'): Promise<Problem[]> {
  const file = split === 'train' ? config.data.train_files : config.data.val_files;
  if (file) {
    const d = config.data;
    const rows = await loadDataset(file, { promptKey: d.prompt_key, answerKey: d.answer_key, imageKey: d.image_key, imageRoot: d.image_root, imageSize: DEFAULT_IMAGE_SIZE });
    return rows.map((r, i) => ({ id: `${file}#${i + 1}`, problem: r.problem, answer: r.answer, image: r.image, family: r.family ?? 'dataset', variant: r.variant ?? 'all', solution: r.solution, ...(r.problemKey && { problemKey: r.problemKey }) }));
  }
  const all = suiteInstances(config, split);
  const frac = config.data.suite.rl_fraction;
  const mine = split === 'train' && use && frac > 0 ? all.filter((t) => useOf(t.problemKey, frac) === use) : all;
  if (mine.length === 0) throw new Error(`data.suite: no training problem left for ${use} (n_train ${config.data.suite.n_train}, rl_fraction ${frac})`);
  return mine.map(fromInstance);
}

/**
 * Writes the generated suite as EasyR1-format parquet under data.suite.dir (train.parquet,
 * test.parquet) unless it is there already, written from the same data.suite settings (recorded
 * in suite.json beside them): the exact problems a run trains and evaluates on, for people and
 * for other trainers. Returns a line saying what it did.
 */
export async function ensureSuite(config: TrainConfig): Promise<string> {
  const s = config.data.suite;
  const dir = s.dir;
  const manifest = join(dir, 'suite.json');
  // what the files hold: not where they are, nor how the trainer divides the training problems
  const settings = JSON.stringify({ ...s, dir: undefined, rl_fraction: undefined }, null, 2) + '\n';
  const current = existsSync(manifest) && readFileSync(manifest, 'utf8') === settings;
  const done: string[] = [];
  for (const split of ['train', 'test'] as const) {
    const file = join(dir, `${split}.parquet`);
    if (current && existsSync(file)) continue;
    ensureDir(dir);
    await writeDataset(file, suiteInstances(config, split).map(instanceRow));
    done.push(file);
  }
  if (!current) writeFileAtomic(manifest, settings);
  const what = `${s.n_train} train / ${s.n_test} test problems, difficulty ${s.difficulty}${s.rl_fraction > 0 ? `; ${Math.round(s.rl_fraction * 100)}% of the training problems reserved for RL` : ''}`;
  return done.length ? `wrote ${done.join(', ')} (${what})` : `reusing ${dir} (${what})`;
}
