/**
 * The ladder world through the training config: data.suite.world and the rungs of each stage,
 * validated naming the key; SFT, RL and test read the rungs they are given, the training streams
 * lazily; the default (classic) suite is what it was.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '../../src/train/config-merge.ts';
import { DEFAULTS, resolveConfig } from '../../src/train/config.ts';
import { ProblemStream } from '../../src/train/problems.ts';
import { loadProblems, suiteInstances } from '../../src/train/sources.ts';
import { generateSuite } from '../../src/tasks/index.ts';

const ladder = (more: [string, string][] = []) =>
  resolveConfig({
    overrides: [
      ['data.suite.world', 'ladder'],
      ['data.suite.n_train', '1000000'],
      ['data.suite.n_test', '30'],
      ['data.suite.sft_rungs', '[1,2]'],
      ['data.suite.rl_rungs', '[4]'],
      ['data.suite.test_rungs', '[5]'],
      ...more,
    ],
  });

describe('ladder world config', () => {
  it('defaults to the classic world, whose suite is exactly what it was', () => {
    assert.equal(DEFAULTS.data.suite.world, 'classic');
    const config = resolveConfig({ overrides: [['data.suite.n_train', '40']] });
    const got = suiteInstances(config, 'train');
    const before = generateSuite({ n: 40, families: config.data.suite.families, variants: config.data.suite.variants, split: 'train', seed: 1234, difficulty: 1, imageSize: 48 });
    assert.deepEqual(got, before);
    assert.ok(got.every((x) => x.rung === undefined && x.priorAnswer === undefined));
  });

  it('refuses bad values naming the key', () => {
    const fails = (k: string, v: string, re: RegExp) =>
      assert.throws(
        () => resolveConfig({ overrides: [[k, v]] }),
        (e: unknown) => e instanceof ConfigError && re.test(e.message) && e.message.includes(`"${k}`),
      );
    fails('data.suite.world', 'ladders', /must be one of classic, ladder/);
    fails('data.suite.sft_rungs', '[0]', /rungs are 1\.\.5/);
    fails('data.suite.rl_rungs', '[6]', /rungs are 1\.\.5/);
    fails('data.suite.test_rungs', '[]', /at least one rung/);
  });

  it('SFT, RL and test read their own rungs; the training streams are a million problems, made on visit', async () => {
    const config = ladder();
    const sft = await loadProblems(config, 'train', 'sft');
    const rl = await loadProblems(config, 'train', 'rl');
    const test = await loadProblems(config, 'test');
    assert.equal(sft.length, 1_000_000);
    const rungs = (ps: readonly { rung?: number }[], idx: number[]) => [...new Set(idx.map((i) => ps[i].rung))].sort();
    assert.deepEqual(rungs(sft, [0, 24, 25, 49, 999_999]), [1, 2]);
    assert.deepEqual(rungs(rl, [0, 7, 500_000]), [4]);
    assert.equal(test.length, 30);
    assert.deepEqual(rungs(test, [...test.keys()]), [5]);
    // a stream position is a pure function of (seed, i): read again, the same problem
    assert.deepEqual(sft[123_456], (await loadProblems(ladder(), 'train', 'sft'))[123_456]);
    assert.notEqual(sft[3].id, rl[3].id);
    const keys = new Set(test.map((p) => p.problemKey));
    for (let i = 0; i < 300; i++) assert.ok(!keys.has(rl[i * 997].problemKey));
    assert.ok(test.some((p) => p.priorAnswer !== undefined));
    // the trainer's stream visits the lazy list like an array; slicing it builds only what it takes
    const stream = new ProblemStream(sft, 'sft:1');
    const visited = [0, 1, 2].map((c) => stream.at(c));
    assert.ok(visited.every((p) => p.rung === 1 || p.rung === 2));
    assert.deepEqual(
      sft.slice(0, 3).map((p) => p.id),
      [0, 1, 2].map((i) => sft[i].id),
    );
  });
});
