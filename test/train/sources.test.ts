/**
 * Where the training commands get their problems: the key split that reserves a share of the
 * training problems for RL (experiment.rl_fraction) and the suite's difficulty.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { useOf } from '../../src/tasks/index.ts';
import { resolveConfig } from '../../src/train/config.ts';
import { ensureSuite, loadProblems } from '../../src/train/sources.ts';

const keys = (ps: readonly { problemKey?: string }[]) => new Set(ps.map((p) => p.problemKey));

describe('problem sources', () => {
  it('rl_fraction splits the training problems by key: SFT and RL share none, together they are all', async () => {
    const config = resolveConfig({
      overrides: [
        ['data.suite.n_train', '300'],
        ['experiment.rl_fraction', '0.5'],
        ['data.suite.dir', '/nonexistent'],
      ],
    });
    const all = await loadProblems(config, 'train');
    const sft = await loadProblems(config, 'train', 'sft');
    const rl = await loadProblems(config, 'train', 'rl');
    assert.equal(all.length, 300);
    assert.equal(sft.length + rl.length, 300);
    assert.ok(sft.length > 100 && rl.length > 100, `an even split expected: ${sft.length} / ${rl.length}`);
    const shared = [...keys(sft)].filter((k) => keys(rl).has(k));
    assert.deepEqual(shared, []);
    // a problem's use depends on its key alone, so every variant of it goes the same way
    for (const p of rl) assert.equal(useOf(p.problemKey!, 0.5), 'rl');
    // the test split is not divided
    assert.equal((await loadProblems(config, 'test', 'rl')).length, config.data.suite.n_test);
  });
  it('rl_fraction 0: SFT and RL both get every training problem', async () => {
    const config = resolveConfig({
      overrides: [
        ['data.suite.n_train', '50'],
        ['experiment.rl_fraction', '0'],
      ],
    });
    assert.equal((await loadProblems(config, 'train', 'sft')).length, 50);
    assert.equal((await loadProblems(config, 'train', 'rl')).length, 50);
  });
  it('data.suite.difficulty reaches the generator', async () => {
    const at = async (d: string) =>
      (
        await loadProblems(
          resolveConfig({
            overrides: [
              ['data.suite.n_train', '40'],
              ['data.suite.difficulty', d],
              ['data.suite.families', '[arithmetic]'],
            ],
          }),
          'train',
        )
      ).map((p) => p.problem);
    const d1 = await at('1');
    const d3 = await at('3');
    assert.notDeepEqual(d1, d3);
  });
  it('rl_fraction must be below 1; difficulty 1-3', () => {
    assert.throws(() => resolveConfig({ overrides: [['experiment.rl_fraction', '1']] }), /experiment\.rl_fraction/);
    assert.throws(() => resolveConfig({ overrides: [['data.suite.difficulty', '4']] }), /data\.suite\.difficulty/);
  });
  it('ensureSuite writes the suite once, and again when data.suite changes', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'pgpo-suite-')), 'suite');
    const cfg = (d: string) =>
      resolveConfig({
        preset: 'tiny',
        overrides: [
          ['data.suite.dir', dir],
          ['data.suite.difficulty', d],
        ],
      });
    assert.match(await ensureSuite(cfg('2')), /^wrote .*train\.parquet.*difficulty 2/);
    const written = statSync(join(dir, 'train.parquet')).mtimeMs;
    assert.match(await ensureSuite(cfg('2')), /^reusing /);
    assert.equal(statSync(join(dir, 'train.parquet')).mtimeMs, written);
    assert.match(await ensureSuite(cfg('1')), /^wrote .*difficulty 1/);
  });
  it('ensureSuite in the ladder world writes only the test split: training problems are drawn on the fly', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'pgpo-suite-')), 'suite');
    const cfg = resolveConfig({
      preset: 'tiny',
      overrides: [
        ['data.suite.dir', dir],
        ['data.suite.world', 'ladder'],
        ['data.suite.n_train', '1000000'],
        ['data.suite.n_test', '8'],
      ],
    });
    assert.match(await ensureSuite(cfg), /^wrote .*test\.parquet \(training problems drawn on the fly \(1000000 per stream\) \/ 8 test/);
    assert.equal(existsSync(join(dir, 'train.parquet')), false);
    assert.equal(existsSync(join(dir, 'test.parquet')), true);
    assert.match(await ensureSuite(cfg), /^reusing /);
  });
});
