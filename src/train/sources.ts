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
import { DEFAULT_IMAGE_SIZE, generateSuite, glyphPlacements, ladderAt, useOf, type SuiteConfig, type TaskInstance } from '../tasks/index.ts';
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

function suiteConfig(config: TrainConfig, split: Split, use?: 'sft' | 'rl'): SuiteConfig {
  const s = config.data.suite;
  const n = split === 'train' ? s.n_train : s.n_test;
  if (s.world === 'ladder') {
    const rungs = split === 'test' ? s.test_rungs : use === 'sft' ? s.sft_rungs : use === 'rl' ? s.rl_rungs : [...new Set([...s.sft_rungs, ...s.rl_rungs])].sort();
    // SFT and RL read their own streams, so rungs they share never give them the same sequence
    const seed = split === 'train' && use ? `${s.seed}:${use}` : s.seed;
    return { n, families: s.families, variants: s.variants, split, seed, world: 'ladder', rungs, imageSize: DEFAULT_IMAGE_SIZE };
  }
  return {
    n,
    families: s.families,
    variants: s.variants,
    split,
    seed: s.seed,
    difficulty: s.difficulty,
    imageSize: DEFAULT_IMAGE_SIZE,
  };
}

const cache = new Map<string, TaskInstance[]>();

/**
 * The generated suite's instances for a split (deterministic; cached in-process). In the ladder
 * world, `use` picks the rungs of the training split (data.suite.sft_rungs / rl_rungs; without
 * it, both).
 */
export function suiteInstances(config: TrainConfig, split: Split, use?: 'sft' | 'rl'): TaskInstance[] {
  const cfg = suiteConfig(config, split, use);
  const key = JSON.stringify(cfg);
  let got = cache.get(key);
  if (!got) cache.set(key, (got = generateSuite(cfg)));
  return got;
}

/**
 * A read-only list of `n` problems made on first access (a bounded cache keeps recent ones): what
 * ProblemStream needs (length, index) without building a million images up front.
 */
export function lazyProblems(n: number, at: (i: number) => Problem): Problem[] {
  const made = new Map<number, Problem>();
  return new Proxy([] as Problem[], {
    get(target, prop, receiver) {
      if (prop === 'length') return n;
      if (typeof prop === 'string' && /^(0|[1-9][0-9]*)$/.test(prop)) {
        const i = Number(prop);
        if (i >= n) return undefined;
        let p = made.get(i);
        if (!p) {
          if (made.size >= 4096) made.clear();
          made.set(i, (p = at(i)));
        }
        return p;
      }
      return Reflect.get(target, prop, receiver);
    },
    // array methods (slice, map) ask whether an index exists before reading it
    has(target, prop) {
      if (typeof prop === 'string' && /^(0|[1-9][0-9]*)$/.test(prop)) return Number(prop) < n;
      return Reflect.has(target, prop);
    },
    set() {
      throw new Error('lazyProblems: the list is read-only');
    },
  });
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
    ...(t.rung !== undefined ? { rung: t.rung } : {}),
    ...(t.priorAnswer !== undefined ? { priorAnswer: t.priorAnswer } : {}),
  };
}

/**
 * The problems of a split. For the training split of the generated suite, `use` picks the share
 * the key split gives it (experiment.rl_fraction): `sft` for the warm start, `rl` for RL; without
 * `use` (or with rl_fraction 0), every training problem.
 */
export async function loadProblems(config: TrainConfig, split: Split, use?: 'sft' | 'rl'): Promise<Problem[]> {
  const file = split === 'train' ? config.data.train_files : config.data.val_files;
  if (file) {
    const d = config.data;
    const rows = await loadDataset(file, { promptKey: d.prompt_key, answerKey: d.answer_key, imageKey: d.image_key, imageRoot: d.image_root, imageSize: DEFAULT_IMAGE_SIZE });
    return rows.map((r, i) => ({
      id: `${file}#${i + 1}`,
      problem: r.problem,
      answer: r.answer,
      image: r.image,
      family: r.family ?? 'dataset',
      variant: r.variant ?? 'all',
      solution: r.solution,
      ...(r.problemKey && { problemKey: r.problemKey }),
    }));
  }
  const frac = config.experiment.rl_fraction;
  if (config.data.suite.world === 'ladder' && split === 'train' && frac === 0) {
    // drawn on the fly: problem i of the stream is made when the trainer first visits it
    const cfg = suiteConfig(config, split, use);
    return lazyProblems(cfg.n, (i) => fromInstance(ladderAt(cfg, i)));
  }
  const all = suiteInstances(config, split, use);
  const mine = split === 'train' && use && frac > 0 ? all.filter((t) => useOf(t.problemKey, frac) === use) : all;
  if (mine.length === 0) throw new Error(`data.suite: no training problem left for ${use} (data.suite.n_train ${config.data.suite.n_train}, experiment.rl_fraction ${frac})`);
  return mine.map(fromInstance);
}

/**
 * Writes the generated suite as EasyR1-format parquet under data.suite.dir (train.parquet,
 * test.parquet; in the ladder world only test.parquet, its training problems being drawn on the fly) unless it is there already, written from the same data.suite settings (recorded
 * in suite.json beside them): the exact problems a run trains and evaluates on, for people and
 * for other trainers. Returns a line saying what it did.
 */
export async function ensureSuite(config: TrainConfig): Promise<string> {
  const s = config.data.suite;
  const frac = config.experiment.rl_fraction;
  const dir = s.dir;
  const manifest = join(dir, 'suite.json');
  // what the files hold: not where they are, nor how the trainer divides the training problems
  // the classic world's record stays as it was before the ladder's keys existed, so its files are reused
  const ladderKeys = s.world === 'ladder' ? {} : { world: undefined, sft_rungs: undefined, rl_rungs: undefined, test_rungs: undefined };
  const settings = JSON.stringify({ ...s, dir: undefined, ...ladderKeys }, null, 2) + '\n';
  const current = existsSync(manifest) && readFileSync(manifest, 'utf8') === settings;
  const done: string[] = [];
  // the ladder world's training problems are made on the fly (a million per stream): writing them would take longer
  // than the run; `pgpo data generate --world ladder` writes any slice of them for other trainers
  const onTheFly = s.world === 'ladder' && frac === 0;
  for (const split of onTheFly ? (['test'] as const) : (['train', 'test'] as const)) {
    const file = join(dir, `${split}.parquet`);
    if (current && existsSync(file)) continue;
    ensureDir(dir);
    await writeDataset(file, suiteInstances(config, split).map(instanceRow));
    done.push(file);
  }
  if (!current) writeFileAtomic(manifest, settings);
  const level = s.world === 'ladder' ? `ladder rungs ${[...new Set([...s.sft_rungs, ...s.rl_rungs])].sort().join(',')} (train), ${s.test_rungs.join(',')} (test)` : `difficulty ${s.difficulty}`;
  const what = `${onTheFly ? `training problems drawn on the fly (${s.n_train} per stream)` : `${s.n_train} train`} / ${s.n_test} test problems, ${level}${frac > 0 ? `; ${Math.round(frac * 100)}% of the training problems reserved for RL` : ''}`;
  return done.length ? `wrote ${done.join(', ')} (${what})` : `reusing ${dir} (${what})`;
}
