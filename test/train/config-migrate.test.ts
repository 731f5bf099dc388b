/**
 * Run folders written before the experiment section: their config.yaml (fixtures: as the code
 * before it wrote them, and an older `npm start` folder's) reads in today's layout, resumes with
 * no change and compares as the same settings; the old keys typed by a user are errors naming the
 * new place.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { ConfigError, getPath, loadYaml, type Plain } from '../../src/train/config-merge.ts';
import { migrateRunConfig, MOVED_KEYS } from '../../src/train/config-migrate.ts';
import { configToYaml, readRunConfig, resolveConfig, type TrainConfig } from '../../src/train/config.ts';
import { algorithmSettings } from '../../src/train/experiment.ts';
import { resumeChanges } from '../../src/train/resume.ts';
import { baseMismatch, rlSettingsMismatch, settingsMismatch, shippedBase, WARM_START_KEYS } from '../../src/train/stages.ts';

const FIXTURES = join(import.meta.dirname, 'fixtures');
const fixture = (name: string): Plain => loadYaml(readFileSync(join(FIXTURES, name), 'utf8'), name).value;
const PIPELINE_RL: Array<[string, string]> = [['worker.actor.init_checkpoint', 'runs/pipeline/base']];
/** A run folder holding the fixture as its config.yaml. */
function runWith(name: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'pgpo-migrate-'));
  copyFileSync(join(FIXTURES, name), join(dir, 'config.yaml'));
  return dir;
}

describe('a run config from before the experiment section', () => {
  it("the default RL stage's reads as exactly what today's code writes for the same command", () => {
    const today = resolveConfig({ overrides: PIPELINE_RL });
    assert.deepEqual(migrateRunConfig(fixture('rl-config-before-experiment.yaml')), parse(configToYaml(today)));
    assert.deepEqual(readRunConfig(join(runWith('rl-config-before-experiment.yaml'), 'config.yaml')), parse(configToYaml(today)));
  });

  it('every moved switch lands in experiment.* with its value; the old keys are gone; the algorithms see what they saw', () => {
    const old = fixture('rl-config-before-experiment-every-switch.yaml');
    const run = migrateRunConfig(old);
    assert.deepEqual(run.experiment, {
      placebo: true,
      freeze: ['vision', 'decoder.tok'],
      optimizer: 'sgd',
      sgd_momentum: 0.5,
      pg_var_freq: 5,
      pg_var_chunks: 3,
      rl_fraction: 0.5,
      pgpo_variant: 'pgpo-floor',
      pgpo_quantile: 0.25,
      pgpo_floor: 0.2,
    });
    for (const from of Object.keys(MOVED_KEYS)) assert.equal(getPath(run, from.split('.')), undefined, `${from} is still there`);
    assert.equal(getPath(run, ['algorithm', 'pgpo', 'variant']), 'pgpo');
    // the reshaping the run did: the settings the algorithms get are the old algorithm section's
    const { placebo: _p, ...oldAlgorithm } = old.algorithm as Plain;
    assert.deepEqual(algorithmSettings(resolveConfig({ base: old })), oldAlgorithm);
  });

  it('resumes with no change, and a later resume with a new key is refused naming it', () => {
    const today = resolveConfig({ overrides: PIPELINE_RL });
    for (const name of ['rl-config-before-experiment.yaml', 'pipeline-rl-config-older.yaml']) {
      const recorded = resolveConfig({ base: fixture(name) });
      assert.deepEqual(recorded, today, name);
      assert.deepEqual(resumeChanges('rl', recorded, today), { allowed: [], refused: null }, name);
    }
    const recorded = resolveConfig({ base: fixture('rl-config-before-experiment-every-switch.yaml') });
    const now = resolveConfig({ base: fixture('rl-config-before-experiment-every-switch.yaml'), overrides: [['experiment.placebo', 'false']] });
    assert.deepEqual(resumeChanges('rl', recorded, now).refused, { key: 'experiment.placebo', was: true, now: false });
    // the moved keys keep their resume rules: SFT reads the key split only, RL refuses every switch (the pg_var measurement too, as before)
    const with_ = (key: string, value: string) => resolveConfig({ overrides: [[key, value]] });
    assert.equal(resumeChanges('sft', resolveConfig(), with_('experiment.rl_fraction', '0.5')).refused?.key, 'experiment.rl_fraction');
    assert.equal(resumeChanges('sft', resolveConfig(), with_('experiment.placebo', 'true')).refused, null);
    assert.equal(resumeChanges('rl', resolveConfig(), with_('experiment.pg_var_freq', '5')).refused?.key, 'experiment.pg_var_freq');
  });

  it('compares as the same settings: the stage cache keeps an old `npm start` folder, and a run made with the old keys equals one asked with the new', () => {
    const today = resolveConfig({ overrides: PIPELINE_RL });
    assert.equal(rlSettingsMismatch(runWith('pipeline-rl-config-older.yaml'), today), null);
    assert.equal(rlSettingsMismatch(runWith('rl-config-before-experiment.yaml'), today), null);
    // the shipped base was written before all of this: it is still the warm start the defaults train
    assert.equal(settingsMismatch(readRunConfig(join(shippedBase('small'), 'config.yaml')), resolveConfig(), WARM_START_KEYS), null);
    assert.match(baseMismatch(shippedBase('small'), resolveConfig({ overrides: [['experiment.rl_fraction', '0.5']] })) ?? '', /^it was trained with experiment\.rl_fraction = 0, not 0\.5$/);

    const asked = resolveConfig({
      overrides: [
        ...PIPELINE_RL,
        ['experiment.placebo', 'true'],
        ['experiment.freeze', '[vision, decoder.tok]'],
        ['experiment.optimizer', 'sgd'],
        ['experiment.sgd_momentum', '0.5'],
        ['experiment.pg_var_freq', '5'],
        ['experiment.pg_var_chunks', '3'],
        ['experiment.rl_fraction', '0.5'],
        ['experiment.pgpo_variant', 'pgpo-floor'],
        ['experiment.pgpo_quantile', '0.25'],
        ['experiment.pgpo_floor', '0.2'],
      ],
    });
    const dir = runWith('rl-config-before-experiment-every-switch.yaml');
    assert.equal(rlSettingsMismatch(dir, asked), null);
    assert.deepEqual(resolveConfig({ base: fixture('rl-config-before-experiment-every-switch.yaml') }), asked);
    // a switch that changes the training is a difference; the pg_var measurement beside it is not
    const other = (key: string, value: string) => resolveConfig({ base: asked as unknown as Plain, overrides: [[key, value]] });
    assert.equal(rlSettingsMismatch(dir, other('experiment.placebo', 'false')), 'it was trained with experiment.placebo = true, not false');
    assert.equal(rlSettingsMismatch(dir, other('experiment.pgpo_variant', 'null')), 'it was trained with experiment.pgpo_variant = "pgpo-floor", not null');
    assert.equal(rlSettingsMismatch(dir, other('experiment.pg_var_freq', '0')), null);
  });
});

describe("today's layout", () => {
  it('is returned as it is: a key the old layout lacked is not filled over a value the run wrote', () => {
    const written = parse(configToYaml(resolveConfig({ overrides: [['experiment.placebo', 'true']] }))) as Plain;
    assert.equal(migrateRunConfig(written), written);
    const dir = mkdtempSync(join(tmpdir(), 'pgpo-migrate-'));
    writeFileSync(join(dir, 'config.yaml'), configToYaml(written as unknown as TrainConfig));
    assert.equal(getPath(readRunConfig(join(dir, 'config.yaml')), ['experiment', 'placebo']), true);
  });

  it('an old key on the command line or in a YAML file is an error naming its new place', () => {
    const values: Record<string, string> = { 'worker.actor.freeze': '[vision]', 'worker.actor.optim.name': 'sgd', 'algorithm.placebo': 'true' };
    for (const [from, to] of Object.entries(MOVED_KEYS)) {
      assert.throws(
        () => resolveConfig({ overrides: [[from, values[from] ?? '0.5']] }),
        (e: unknown) => e instanceof ConfigError && e.message === `config key "${from}" moved to "${to}" (set on the command line)`,
        from,
      );
    }
    assert.throws(
      () => resolveConfig({ overrides: [['algorithm.pgpo.variant', 'pgpo-inverse']] }),
      (e: unknown) => e instanceof ConfigError && e.message === 'config key "algorithm.pgpo.variant" value "pgpo-inverse" moved to "experiment.pgpo_variant" (set on the command line)',
    );
    // the paper's ablations stay where they were
    assert.equal(resolveConfig({ overrides: [['algorithm.pgpo.variant', 'suppress-only']] }).algorithm.pgpo.variant, 'suppress-only');
    const dir = mkdtempSync(join(tmpdir(), 'pgpo-migrate-'));
    const f = join(dir, 'old.yaml');
    writeFileSync(f, 'trainer:\n  total_steps: 3\nalgorithm:\n  placebo: true\n');
    assert.throws(
      () => resolveConfig({ file: f }),
      (e: unknown) => e instanceof ConfigError && e.message === `config key "algorithm.placebo" moved to "experiment.placebo" (${f}:4)`,
    );
    // also beside a saved run's config (resume): the run's is migrated, the user's is not
    assert.throws(() => resolveConfig({ base: fixture('rl-config-before-experiment.yaml'), overrides: [['trainer.pg_var_freq', '5']] }), /moved to "experiment\.pg_var_freq"/);
  });

  it('an unofficial variant replaces the paper gate only: with an ablation too it is an error naming both keys', () => {
    assert.equal(algorithmSettings(resolveConfig({ overrides: [['experiment.pgpo_variant', 'pgpo-quantile']] })).pgpo.variant, 'pgpo-quantile');
    assert.equal(algorithmSettings(resolveConfig()).pgpo.variant, 'pgpo');
    assert.throws(
      () =>
        resolveConfig({
          overrides: [
            ['experiment.pgpo_variant', 'pgpo-floor'],
            ['algorithm.pgpo.variant', 'none'],
          ],
        }),
      /config key "experiment\.pgpo_variant" \(set on the command line\): replaces algorithm\.pgpo\.variant, which must then be pgpo, not "none"/,
    );
  });

  it('the CLI says it in one line and exits 2 before anything is written', () => {
    const out = join(mkdtempSync(join(tmpdir(), 'pgpo-migrate-')), 'run');
    const r = spawnSync(process.execPath, [join(import.meta.dirname, '../../bin/pgpo.js'), 'train', '--preset', 'tiny', '--out', out, 'algorithm.placebo=true'], { encoding: 'utf8' });
    assert.equal(r.status, 2);
    assert.equal(r.stderr, 'config error: config key "algorithm.placebo" moved to "experiment.placebo" (set on the command line)\n');
    assert.ok(!existsSync(out), 'nothing written');
  });
});
