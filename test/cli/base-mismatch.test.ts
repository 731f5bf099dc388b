/**
 * When the pipeline adopts a finished warm start (the shipped base) instead of training one: only
 * settings SFT reads count, so a different test-split size or suite folder still adopts it.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { baseMismatch } from '../../src/train/stages.ts';
import { configToYaml, resolveConfig } from '../../src/train/config.ts';

test('baseMismatch ignores data.suite.dir and n_test, and names other suite or SFT differences', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pgpo-base-'));
  writeFileSync(join(dir, 'config.yaml'), configToYaml(resolveConfig()));
  const with_ = (...o: Array<[string, string]>) => baseMismatch(dir, resolveConfig({ overrides: o }));
  // settings match: what is missing is the checkpoint (none was written here)
  assert.match(with_() ?? '', /holds no checkpoint at step 2000/);
  assert.match(with_(['data.suite.n_test', '512'], ['data.suite.dir', 'elsewhere']) ?? '', /holds no checkpoint/);
  assert.equal(with_(['data.suite.difficulty', '2']), 'it was trained with data.suite.difficulty = 1, not 2');
  assert.equal(with_(['data.suite.rl_fraction', '0.5']), 'it was trained with data.suite.rl_fraction = 0, not 0.5');
  // a run written before data.suite.difficulty and rl_fraction existed was difficulty 1 without a split
  const legacy = { ...resolveConfig() } as unknown as { data: { suite: Record<string, unknown> } };
  const { difficulty: _d, rl_fraction: _r, ...old } = legacy.data.suite;
  writeFileSync(join(dir, 'config.yaml'), configToYaml({ ...legacy, data: { ...legacy.data, suite: old } } as never));
  assert.match(with_() ?? '', /holds no checkpoint/);
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

test('readRunConfig gives a run written before algorithm.placebo existed the value it ran with (false)', async () => {
  const { readRunConfig } = await import('../../src/train/config.ts');
  const dir = mkdtempSync(join(tmpdir(), 'pgpo-legacy-'));
  const current = resolveConfig() as unknown as { algorithm: Record<string, unknown> };
  const { placebo: _p, ...old } = current.algorithm;
  writeFileSync(join(dir, 'config.yaml'), configToYaml({ ...current, algorithm: old } as never));
  const read = readRunConfig(join(dir, 'config.yaml')) as { algorithm: Record<string, unknown> };
  assert.equal(read.algorithm.placebo, false);
  // a value the run wrote is kept
  writeFileSync(join(dir, 'config.yaml'), configToYaml({ ...current, algorithm: { ...old, placebo: true } } as never));
  assert.equal((readRunConfig(join(dir, 'config.yaml')) as { algorithm: Record<string, unknown> }).algorithm.placebo, true);
});

test('readRunConfig gives a run written before worker.actor.optim.name and freeze existed what it ran with (adamw, nothing frozen)', async () => {
  const { readRunConfig } = await import('../../src/train/config.ts');
  const dir = mkdtempSync(join(tmpdir(), 'pgpo-legacy-'));
  const current = resolveConfig({ overrides: [['worker.actor.optim.momentum', '0.5']] }) as unknown as { worker: { actor: { freeze: unknown; optim: Record<string, unknown> } } };
  const { name: _n, momentum: _m, ...old } = current.worker.actor.optim;
  const { freeze: _f, ...actor } = current.worker.actor;
  const written = { ...current, worker: { ...current.worker, actor: { ...actor, optim: old } } };
  writeFileSync(join(dir, 'config.yaml'), configToYaml(written as never));
  const read = readRunConfig(join(dir, 'config.yaml')) as typeof current;
  assert.equal(read.worker.actor.optim.name, 'adamw');
  assert.equal(read.worker.actor.optim.momentum, 0.9);
  assert.deepEqual(read.worker.actor.freeze, []);
  // and it resumes: the saved config resolves (resume's path) with the value it ran with
  assert.equal(resolveConfig({ base: written as never }).worker.actor.optim.name, 'adamw');
});
