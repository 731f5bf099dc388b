import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { configToYaml, DEFAULTS, resolveConfig } from '../../src/train/config.ts';
import { ConfigError, loadYaml, type Plain } from '../../src/train/config-merge.ts';

const dir = mkdtempSync(join(tmpdir(), 'pgpo-config-'));
const file = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};
/** A run's config.yaml as the code before the experiment section wrote it (config-migrate.test.ts reads it whole). */
const OLD_RUN = join(import.meta.dirname, 'fixtures', 'rl-config-before-experiment.yaml');
const oldRun = () => loadYaml(readFileSync(OLD_RUN, 'utf8'), OLD_RUN).value as { data: { suite: Plain }; eval: Plain; worker: { actor: Plain & { optim: Plain } } };

describe('training config', () => {
  it('a run config written before data.suite.difficulty and rl_fraction existed resumes as difficulty 1 without a split', () => {
    const old = oldRun();
    delete old.data.suite.difficulty;
    delete old.data.suite.rl_fraction;
    const c = resolveConfig({ base: old, overrides: [['trainer.total_steps', '80']] });
    assert.equal(c.data.suite.difficulty, 1);
    assert.equal(c.experiment.rl_fraction, 0);
    assert.equal(c.trainer.total_steps, 80);
    assert.throws(() => resolveConfig({ overrides: [['data.suite.difficulty', '4']] }), /data\.suite\.difficulty.*must be 1, 2 or 3/);
  });
  it('a run config written before eval.seeds existed reads as one evaluation; the default is three (one on tiny)', () => {
    const old = oldRun();
    delete old.eval.seeds;
    assert.equal(resolveConfig({ base: old }).eval.seeds, 1);
    assert.equal(resolveConfig().eval.seeds, 3);
    assert.equal(resolveConfig({ preset: 'tiny' }).eval.seeds, 1);
    assert.throws(() => resolveConfig({ overrides: [['eval.seeds', '0']] }), /config key "eval\.seeds" \(set on the command line\)/);
  });
  it('a run config written before the logit scale existed reads with logit_scale_lr 0 (the scale stayed at 1); the default is 3e-2', () => {
    const old = oldRun();
    delete old.worker.actor.optim.logit_scale_lr;
    assert.equal(resolveConfig({ base: old }).worker.actor.optim.logit_scale_lr, 0);
    assert.equal(resolveConfig().worker.actor.optim.logit_scale_lr, 3e-2);
    assert.throws(() => resolveConfig({ overrides: [['worker.actor.optim.logit_scale_lr', '-1']] }), /config key "worker\.actor\.optim\.logit_scale_lr" \(set on the command line\)/);
  });
  it('worker.actor.policy_loss picks the loss by name (ppo-clip by default; runs from before the key read as ppo-clip)', () => {
    assert.equal(resolveConfig().worker.actor.policy_loss, 'ppo-clip');
    assert.equal(resolveConfig({ overrides: [['worker.actor.policy_loss', 'vanilla']] }).worker.actor.policy_loss, 'vanilla');
    assert.throws(() => resolveConfig({ overrides: [['worker.actor.policy_loss', 'nope']] }), /config key "worker\.actor\.policy_loss" \(set on the command line\).*ppo-clip.*vanilla/);
    const old = oldRun();
    delete old.worker.actor.policy_loss;
    assert.equal(resolveConfig({ base: old }).worker.actor.policy_loss, 'ppo-clip');
  });
  it('medium warm-starts at sft.lr 1e-3 (3e-3 held it back), the other presets at 3e-3; configs/ladder.yaml keeps what models/ladder-base was trained at', () => {
    assert.equal(resolveConfig({ preset: 'medium' }).sft.lr, 1e-3);
    assert.equal(resolveConfig({ preset: 'small' }).sft.lr, 3e-3);
    assert.equal(resolveConfig({ preset: 'medium', file: join(import.meta.dirname, '../../configs/ladder.yaml') }).sft.lr, 3e-3);
    assert.equal(resolveConfig({ preset: 'medium', file: join(import.meta.dirname, '../../configs/ladder-reader.yaml') }).sft.lr, 1e-3);
  });
  it('defaults are valid and PGPO on the DAPO recipe', () => {
    const c = resolveConfig();
    assert.equal(c.algorithm.name, 'pgpo');
    assert.equal(c.algorithm.recipe, 'dapo');
    assert.equal(c.algorithm.online_filtering, true);
    assert.equal(c.worker.actor.clip_ratio_high, 0.28);
    assert.equal(c.worker.actor.loss_agg_mode, 'token-mean');
    assert.equal(c.algorithm.pgpo.tau, 0.4);
    assert.equal(c.algorithm.pgpo.beta, 2.0);
    assert.deepEqual(resolveConfig({ base: DEFAULTS as never }), DEFAULTS);
  });
  it('--algo grpo switches to the GRPO recipe; pgpo on GRPO by config', () => {
    const g = resolveConfig({ algo: 'grpo' });
    assert.equal(g.algorithm.recipe, 'grpo');
    assert.equal(g.algorithm.online_filtering, false);
    assert.equal(g.algorithm.use_kl_loss, true);
    assert.equal(g.worker.actor.loss_agg_mode, 'seq-mean-token-mean');
    const pg = resolveConfig({ algo: 'pgpo', overrides: [['algorithm.recipe', 'grpo']] });
    assert.equal(pg.algorithm.name, 'pgpo');
    assert.equal(pg.algorithm.online_filtering, false);
    assert.equal(pg.worker.actor.clip_ratio_high, 0.2);
  });
  it('layers: preset < recipe < file < overrides', () => {
    const f = file('a.yaml', 'worker:\n  actor:\n    clip_ratio_high: 0.3\ntrainer:\n  total_steps: 7\n');
    const c = resolveConfig({
      preset: 'tiny',
      file: f,
      overrides: [
        ['trainer.total_steps', '9'],
        ['algorithm.pgpo.variant', 'boost-only'],
      ],
    });
    assert.equal(c.worker.actor.clip_ratio_high, 0.3);
    assert.equal(c.trainer.total_steps, 9);
    assert.equal(c.worker.actor.model, 'tiny');
    assert.equal(c.algorithm.pgpo.variant, 'boost-only');
  });
  it('override values are read as YAML scalars', () => {
    const c = resolveConfig({
      overrides: [
        ['worker.actor.max_grad_norm', 'null'],
        ['data.suite.families', '[geometry, chart]'],
        ['eval.greedy', 'true'],
      ],
    });
    assert.equal(c.worker.actor.max_grad_norm, null);
    assert.deepEqual(c.data.suite.families, ['geometry', 'chart']);
    assert.equal(c.eval.greedy, true);
  });
  it('unknown keys are errors naming the key, the source and the known keys', () => {
    assert.throws(
      () => resolveConfig({ overrides: [['algorithm.pgpo.taux', '0.3']] }),
      (e: unknown) => e instanceof ConfigError && /unknown config key "algorithm.pgpo.taux" \(set on the command line\); known keys under algorithm.pgpo: variant, tau, beta/.test(e.message),
    );
    const f = file('b.yaml', 'trainer:\n  total_steps: 3\n  bogus: 1\n');
    assert.throws(() => resolveConfig({ file: f }), new RegExp(`unknown config key "trainer.bogus" \\(${f.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:3\\)`));
  });
  it('bad values are errors naming the key and the value', () => {
    assert.throws(() => resolveConfig({ overrides: [['algorithm.pgpo.tau', '1.5']] }), /config key "algorithm.pgpo.tau" \(set on the command line\): Too big.*got 1.5/);
    const f = file('c.yaml', 'worker:\n  rollout:\n    n: one\n');
    assert.throws(() => resolveConfig({ file: f }), /config key "worker.rollout.n" \(.*c.yaml:3\): .*got "one"/);
    assert.throws(() => resolveConfig({ algo: 'ppo' }), /--algo must be one of grpo, dapo, pgpo, vppo, papo/);
    assert.throws(() => resolveConfig({ preset: 'huge' }), /--preset must be one of tiny, small/);
  });
  it('suite families and variants must be names of the task suite; the error names the key', () => {
    assert.throws(
      () => resolveConfig({ overrides: [['data.suite.families', '[geometry, poetry]']] }),
      (e: unknown) => e instanceof ConfigError && /config key "data.suite.families.1" \(set on the command line\): .*"chart".*got "poetry"/.test(e.message),
    );
    const f = file('e.yaml', 'data:\n  suite:\n    variants: [vision-only, smell-only]\n');
    assert.throws(
      () => resolveConfig({ file: f }),
      (e: unknown) => e instanceof ConfigError && /config key "data.suite.variants.1" \(.*e.yaml(:\d+)?\): .*"vision-only".*got "smell-only"/.test(e.message),
    );
    assert.deepEqual(resolveConfig({ overrides: [['data.suite.variants', '[vision-only]']] }).data.suite.variants, ['vision-only']);
  });
  it('a sampling temperature of 0 is an error naming the key (greedy decoding is eval.greedy)', () => {
    assert.throws(
      () => resolveConfig({ overrides: [['eval.temperature', '0']] }),
      (e: unknown) => e instanceof ConfigError && /config key "eval.temperature" \(set on the command line\): .*eval.greedy=true.*got 0/.test(e.message),
    );
    assert.throws(
      () => resolveConfig({ overrides: [['worker.rollout.temperature', '0']] }),
      (e: unknown) => e instanceof ConfigError && /config key "worker.rollout.temperature" \(set on the command line\): .*got 0/.test(e.message),
    );
    assert.equal(resolveConfig({ overrides: [['eval.temperature', '0.5']] }).eval.temperature, 0.5);
  });
  it('the key split with a dataset file is an error naming rl_fraction (the file would be trained on whole)', () => {
    const both: [string, string][] = [
      ['data.train_files', 'mine.parquet'],
      ['experiment.rl_fraction', '0.5'],
    ];
    assert.throws(
      () => resolveConfig({ overrides: both }),
      (e: unknown) =>
        e instanceof ConfigError &&
        /config key "experiment.rl_fraction" \(set on the command line\): the key split applies to the generated suite only, and data.train_files \(mine.parquet\) is set: set experiment.rl_fraction=0.*got 0.5/.test(
          e.message,
        ),
    );
    assert.equal(resolveConfig({ overrides: [both[0]] }).data.train_files, 'mine.parquet');
    assert.equal(resolveConfig({ overrides: [both[1]] }).experiment.rl_fraction, 0.5);
  });
  it('invalid YAML names the file and line', () => {
    const f = file('d.yaml', 'trainer:\n  total_steps: [1,\n');
    assert.throws(() => resolveConfig({ file: f }), /d.yaml(:\d+)?: invalid YAML/);
  });
  it('the saved YAML reloads to the same config', () => {
    const c = resolveConfig({ algo: 'vppo', preset: 'tiny' });
    const again = resolveConfig({ base: parse(configToYaml(c)) });
    assert.deepEqual(again, c);
  });

  it('no key can name __proto__, constructor or prototype: on the command line or in a file, naming where', () => {
    for (const key of ['__proto__.x', 'data.constructor.prototype.x', 'trainer.prototype']) {
      assert.throws(
        () => resolveConfig({ overrides: [[key, '1']] }),
        (e: unknown) => e instanceof ConfigError && e.message.includes(`override "${key}"`) && /cannot be a config key/.test(e.message),
      );
    }
    const f = file('proto.yaml', 'trainer:\n  seed: 2\n__proto__:\n  polluted: 1\n');
    assert.throws(() => resolveConfig({ file: f }), new RegExp(`${f}:3: "__proto__" cannot be a config key`));
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    assert.equal(({} as Record<string, unknown>).x, undefined);
  });
});
