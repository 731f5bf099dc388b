/**
 * The pipeline's stages as data, without a model: which settings must match (the keys no
 * training reads aside), when a stage is done or past its steps, when an evaluation is stale.
 * Run folders are written by hand: a config.yaml and empty checkpoint folders.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import type { EvalReport } from '../../src/eval/evaluate.ts';
import { configToYaml, resolveConfig, type TrainConfig } from '../../src/train/config.ts';
import { evalMismatch, overrun, RL_KEYS, rlStage, settingsMismatch, shippedBase, stageDone, staleStages, WARM_START_KEYS, warmStartStage } from '../../src/train/stages.ts';

const tiny = (...overrides: Array<[string, string]>): TrainConfig => resolveConfig({ preset: 'tiny', overrides });

/** A run folder holding `config` and (empty) checkpoints at `steps`, the last one the latest. */
function runFolder(config: TrainConfig | null, steps: number[] = []): string {
  const dir = mkdtempSync(join(tmpdir(), 'pgpo-stage-'));
  if (config) writeFileSync(join(dir, 'config.yaml'), configToYaml(config));
  for (const s of steps) mkdirSync(join(dir, 'checkpoints', `step-${String(s).padStart(6, '0')}`), { recursive: true });
  return dir;
}

test('a stage is its folder, the keys it depends on and the steps that finish it', () => {
  const c = tiny(['sft.total_steps', '4'], ['trainer.total_steps', '2']);
  assert.deepEqual(warmStartStage('b', c), { dir: 'b', keys: WARM_START_KEYS, stepsKey: 'sft.total_steps', steps: 4 });
  assert.deepEqual(rlStage('r', c), { dir: 'r', keys: RL_KEYS, stepsKey: 'trainer.total_steps', steps: 2 });
  assert.equal(shippedBase('small'), resolve(import.meta.dirname, '..', '..', 'models', 'small-base'));
});

test('settingsMismatch names the first differing leaf, ignores key order and the keys no training reads', () => {
  const keys = [['data'], ['trainer', 'seed']] as const;
  const ours = { data: { suite: { dir: 'a', n_test: 8, seed: 1 }, val_files: null, b: [1, 2] }, trainer: { seed: 0, total_steps: 5 } };
  // other suite folder, test size, test files and step count: the same run
  assert.equal(settingsMismatch({ trainer: { total_steps: 9, seed: 0 }, data: { b: [1, 2], val_files: 'x', suite: { seed: 1, n_test: 64, dir: 'b' } } }, ours, keys), null);
  assert.equal(settingsMismatch({ ...ours, trainer: { seed: 3 } }, ours, keys), 'it was trained with trainer.seed = 3, not 0');
  // arrays are leaves; keys are visited in sorted order
  assert.equal(settingsMismatch({ ...ours, data: { ...ours.data, b: [2, 1], suite: { seed: 2 } } }, ours, keys), 'it was trained with data.b = [2,1], not [1,2]');
  // a section one side lacks is named by its first key; unset values say so
  assert.equal(settingsMismatch({ trainer: { seed: 0 } }, ours, keys), 'it was trained with data.b = (unset), not [1,2]');
  assert.equal(settingsMismatch(null, ours, keys), 'its config.yaml is missing or not a valid config');
});

test('the RL keys cover data, algorithm, worker, the seed and the experiment switches; the warm start ignores RL-only settings', () => {
  const c = tiny();
  assert.equal(settingsMismatch(c, tiny(['experiment.freeze', '[vision]']), RL_KEYS), 'it was trained with experiment.freeze = [], not ["vision"]');
  assert.equal(settingsMismatch(c, tiny(['experiment.freeze', '[vision]']), WARM_START_KEYS), null);
  // the key split takes problems from the warm start; the pg_var measurement changes no update
  assert.equal(settingsMismatch(c, tiny(['experiment.rl_fraction', '0.25']), WARM_START_KEYS), 'it was trained with experiment.rl_fraction = 0, not 0.25');
  assert.equal(settingsMismatch(c, tiny(['experiment.pg_var_freq', '5'], ['experiment.pg_var_chunks', '3']), RL_KEYS), null);
  assert.equal(settingsMismatch(c, tiny(['worker.actor.optim.lr', '0.001']), RL_KEYS), `it was trained with worker.actor.optim.lr = ${c.worker.actor.optim.lr}, not 0.001`);
  assert.equal(settingsMismatch(c, tiny(['worker.actor.optim.lr', '0.001']), WARM_START_KEYS), null);
  assert.equal(settingsMismatch(c, tiny(['worker.actor.init_checkpoint', 'elsewhere']), RL_KEYS), null);
  assert.equal(settingsMismatch(c, tiny(['trainer.total_steps', '99']), RL_KEYS), null);
  assert.equal(settingsMismatch(c, tiny(['sft.lr', '0.5']), WARM_START_KEYS), `it was trained with sft.lr = ${c.sft.lr}, not 0.5`);
});

test('a stage is done at its last step, and past it is an overrun', () => {
  const c = tiny(['trainer.total_steps', '3']);
  assert.equal(stageDone(rlStage(runFolder(c, [1, 3]), c)), true);
  assert.equal(stageDone(rlStage(runFolder(c, [2]), c)), false);
  assert.equal(stageDone(rlStage(runFolder(null), c)), false);
  assert.equal(overrun(rlStage('r', c), 3), null);
  assert.equal(overrun(rlStage('r', c), 4), 'it holds a checkpoint at step 4, past trainer.total_steps = 3');
});

test("staleStages checks every stage's settings before any stage's steps, and skips a folder without a config", () => {
  const c = tiny(['sft.total_steps', '2'], ['trainer.total_steps', '2']);
  const fix = (dir: string) => `give another --out (or delete ${dir}) to run with these settings`;
  const base = runFolder(c, [5]);
  const rl = runFolder(tiny(['trainer.seed', '7']), [1]);
  assert.equal(staleStages([warmStartStage(base, c), rlStage(rl, c)], c), `${join(rl, 'config.yaml')}: it was trained with trainer.seed = 7, not 1; ${fix(rl)}`);
  assert.equal(staleStages([warmStartStage(base, c), rlStage(runFolder(null), c)], c), `${base}: it holds a checkpoint at step 5, past sft.total_steps = 2; ${fix(base)}`);
  assert.equal(staleStages([warmStartStage(runFolder(c, [2]), c), rlStage(runFolder(c, [1]), c)], c), null);
});

test('evalMismatch: asked otherwise, over other rows, or of another checkpoint than the latest', () => {
  const c = tiny(['eval.n', '8'], ['data.suite.n_test', '16']);
  const report = {
    k: c.eval.k,
    temperature: c.eval.temperature,
    greedy: false,
    split: 'test',
    n: 8,
    seed: 1,
    ckpt: '/x/checkpoints/step-000002',
    overall: { accuracy: 0.5, n: 8 },
  } as unknown as EvalReport;
  const seed = c.trainer.seed;
  assert.equal(evalMismatch({ ...report, seed } as EvalReport, c, seed, 'step-000002'), null);
  assert.equal(evalMismatch({ ...report, seed } as EvalReport, c, seed, null), null);
  assert.equal(evalMismatch(report, c, 5, 'step-000002'), 'it was made with seed = 1, this config asks 5');
  assert.equal(evalMismatch({ ...report, seed, temperature: 0.5 } as EvalReport, c, seed, null), `it was made with temperature = 0.5, this config asks ${c.eval.temperature}`);
  // a file from before a field was recorded passes on it
  const { seed: _s, split: _p, ...old } = report as unknown as Record<string, unknown>;
  assert.equal(evalMismatch(old as unknown as EvalReport, c, 123, 'step-000002'), null);
  assert.equal(evalMismatch({ ...report, seed, overall: { accuracy: 0, n: 6 } } as EvalReport, c, seed, null), 'it evaluated 6 test rows, this config 8');
  assert.equal(evalMismatch({ ...report, seed } as EvalReport, c, seed, 'step-000003'), "it evaluated step-000002, the run's latest checkpoint is step-000003");
});
