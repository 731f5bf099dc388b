/**
 * When the pipeline adopts a finished warm start (the shipped base) instead of training one: only
 * settings SFT reads count, so a different test-split size or suite folder still adopts it.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { baseMismatch } from '../../src/train/stages.ts';
import { configToYaml, readRunConfig, resolveConfig } from '../../src/train/config.ts';
import { loadYaml, type Plain } from '../../src/train/config-merge.ts';

/** A run's config.yaml as the code before the experiment section wrote it. */
const OLD_RUN = join(import.meta.dirname, '../train/fixtures/rl-config-before-experiment.yaml');
const oldRun = () => loadYaml(readFileSync(OLD_RUN, 'utf8'), OLD_RUN).value as { data: { suite: Plain }; algorithm: Plain; worker: { actor: Plain & { optim: Plain } } };

test('baseMismatch ignores data.suite.dir and n_test, and names other suite or SFT differences', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pgpo-base-'));
  writeFileSync(join(dir, 'config.yaml'), configToYaml(resolveConfig()));
  const with_ = (...o: Array<[string, string]>) => baseMismatch(dir, resolveConfig({ overrides: o }));
  // settings match: what is missing is the checkpoint (none was written here)
  assert.match(with_() ?? '', /holds no checkpoint at step 2000/);
  assert.match(with_(['data.suite.n_test', '512'], ['data.suite.dir', 'elsewhere']) ?? '', /holds no checkpoint/);
  assert.equal(with_(['data.suite.difficulty', '2']), 'it was trained with data.suite.difficulty = 1, not 2');
  assert.equal(with_(['experiment.rl_fraction', '0.5']), 'it was trained with experiment.rl_fraction = 0, not 0.5');
  // RL's own switches are not the warm start's
  assert.match(with_(['experiment.placebo', 'true'], ['experiment.optimizer', 'sgd']) ?? '', /holds no checkpoint/);
  // a run written before data.suite.difficulty and rl_fraction existed was difficulty 1 without a split
  const legacy = oldRun();
  delete legacy.data.suite.difficulty;
  delete legacy.data.suite.rl_fraction;
  writeFileSync(join(dir, 'config.yaml'), configToYaml(legacy as never));
  assert.match(with_() ?? '', /holds no checkpoint/);
  assert.equal(with_(['experiment.rl_fraction', '0.5']), 'it was trained with experiment.rl_fraction = 0, not 0.5');
  assert.equal(with_(['data.suite.difficulty', '2']), 'it was trained with data.suite.difficulty = 1, not 2');
  assert.equal(with_(['sft.lr', '0.001']), 'it was trained with sft.lr = 0.003, not 0.001');
  // SFT also reads the training files and the optimizer's betas and eps, but not RL's learning rate
  assert.equal(with_(['worker.actor.optim.betas', '[0.9, 0.99]']), 'it was trained with worker.actor.optim.betas = [0.9,0.999], not [0.9,0.99]');
  assert.equal(with_(['data.train_files', 'mine.parquet']), 'it was trained with data.train_files = null, not "mine.parquet"');
  assert.match(with_(['worker.actor.optim.lr', '0.001']) ?? '', /holds no checkpoint/);
  // a section the run's config lacks is named by its first key; an unreadable config says so
  writeFileSync(join(dir, 'config.yaml'), 'data:\n  suite:\n    seed: 1234\n');
  assert.equal(with_(), 'it was trained with sft.arithmetic_drills = (unset), not 0.15');
  writeFileSync(join(dir, 'config.yaml'), 'not: [a mapping');
  assert.equal(with_(), 'its config.yaml is missing or not a valid config');
});

const experimentOf = (dir: string) => (readRunConfig(join(dir, 'config.yaml')) as { experiment: Plain }).experiment;

test('readRunConfig gives a run written before algorithm.placebo existed the value it ran with (false), now under experiment', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pgpo-legacy-'));
  const run = oldRun();
  delete run.algorithm.placebo;
  writeFileSync(join(dir, 'config.yaml'), configToYaml(run as never));
  assert.equal(experimentOf(dir).placebo, false);
  // a value the run wrote is kept
  writeFileSync(join(dir, 'config.yaml'), configToYaml({ ...run, algorithm: { ...run.algorithm, placebo: true } } as never));
  assert.equal(experimentOf(dir).placebo, true);
});

test('readRunConfig gives a run written before worker.actor.optim.name and freeze existed what it ran with (adamw, nothing frozen), now under experiment', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pgpo-legacy-'));
  const run = oldRun();
  delete run.worker.actor.optim.name;
  delete run.worker.actor.optim.momentum;
  delete run.worker.actor.freeze;
  writeFileSync(join(dir, 'config.yaml'), configToYaml(run as never));
  const e = experimentOf(dir);
  assert.equal(e.optimizer, 'adamw');
  assert.equal(e.sgd_momentum, 0.9);
  assert.deepEqual(e.freeze, []);
  // and it resumes: the saved config resolves (resume's path) with the value it ran with
  assert.equal(resolveConfig({ base: run as never }).experiment.optimizer, 'adamw');
});
