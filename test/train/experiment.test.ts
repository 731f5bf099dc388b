/**
 * The seam where experiment.* acts on a step: nothing on the defaults, and on a switch exactly
 * what the step did before the section existed (a placebo run resumed across the move draws the
 * same shuffles: the step's stream forked by 'placebo').
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { shuffleWithinGroups } from '../../src/algo/placebo.ts';
import { Rng } from '../../src/engine/rng.ts';
import { resolveConfig } from '../../src/train/config.ts';
import { algorithmSettings, measuresPgVar, optimizerChoice, trainingRewards } from '../../src/train/experiment.ts';

test('on the defaults: the real rewards, AdamW with nothing frozen, the paper gate, no pg_var', () => {
  const c = resolveConfig();
  const rewards = [1, 0, 0, 1, 1, 0];
  assert.equal(trainingRewards(c, rewards, [0, 0, 0, 1, 1, 1], Rng.seeded(1)), rewards);
  assert.deepEqual(optimizerChoice(c), { optimizer: 'adamw', momentum: 0.9, frozen: [] });
  assert.deepEqual(algorithmSettings(c).pgpo, { ...c.algorithm.pgpo, quantile: 0.5, floor: 0.1 });
  assert.equal(
    [1, 2, 3, 40].some((s) => measuresPgVar(c, s)),
    false,
  );
});

test('placebo: rewards shuffled within groups from the step stream forked by "placebo"', () => {
  const c = resolveConfig({ overrides: [['experiment.placebo', 'true']] });
  const rewards = [1, 0, 0, 0, 1, 1, 0, 0.5];
  const groups = [0, 0, 0, 0, 1, 1, 1, 1];
  const fork = Rng.seeded(7).fork('placebo');
  const expected = shuffleWithinGroups(rewards, groups, (n) => fork.int(n));
  const got = trainingRewards(c, rewards, groups, Rng.seeded(7));
  assert.deepEqual(got, expected);
  // each group keeps its values
  for (const g of [0, 1]) assert.deepEqual(got.filter((_, i) => groups[i] === g).sort(), rewards.filter((_, i) => groups[i] === g).sort());
});

test('the other switches: optimizer, momentum and frozen prefixes per update; pg_var at step 1 and every N; an unofficial variant for the algorithms', () => {
  const c = resolveConfig({
    overrides: [
      ['experiment.optimizer', 'sgd'],
      ['experiment.sgd_momentum', '0.5'],
      ['experiment.freeze', '[vision]'],
      ['experiment.pg_var_freq', '5'],
      ['experiment.pgpo_variant', 'pgpo-quantile'],
      ['experiment.pgpo_quantile', '0.3'],
    ],
  });
  assert.deepEqual(optimizerChoice(c), { optimizer: 'sgd', momentum: 0.5, frozen: ['vision'] });
  assert.deepEqual(
    [1, 2, 4, 5, 6, 10, 11].filter((s) => measuresPgVar(c, s)),
    [1, 5, 10],
  );
  assert.deepEqual(algorithmSettings(c).pgpo, { ...c.algorithm.pgpo, variant: 'pgpo-quantile', quantile: 0.3, floor: 0.1 });
  // the rest of algorithm.* reaches the algorithms as it is
  const { pgpo: _a, ...rest } = algorithmSettings(c) as unknown as Record<string, unknown>;
  const { pgpo: _b, ...own } = c.algorithm;
  assert.deepEqual(rest, own);
});
