// `pgpo eval` in a child process, as a user runs it: the argument errors caught before any model loads, and the key-split breakdown of a training-split evaluation.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { getPath } from '../../src/train/config-merge.ts';
import { readRunConfig, resolveConfig } from '../../src/train/config.ts';
import { ProblemStream } from '../../src/train/problems.ts';
import { loadProblems } from '../../src/train/sources.ts';

const BIN = join(import.meta.dirname, '../../bin/pgpo.js');
const run = (args: string[]) => spawnSync(process.execPath, [BIN, 'eval', ...args], { encoding: 'utf8' });
const ckpt = mkdtempSync(join(tmpdir(), 'pgpo-eval-cli-'));

describe('pgpo eval', () => {
  it('temperature 0 without greedy decoding exits 2 with one line naming the key or flag', () => {
    const byKey = run(['--ckpt', ckpt, '--preset', 'tiny', 'eval.temperature=0']);
    assert.equal(byKey.status, 2, byKey.stderr);
    assert.match(byKey.stderr, /^config error: config key "eval.temperature" \(set on the command line\): .*eval.greedy=true.*\n$/);
    const byFlag = run(['--ckpt', ckpt, '--preset', 'tiny', '--temperature', '0']);
    assert.equal(byFlag.status, 2, byFlag.stderr);
    assert.equal(byFlag.stderr, '--temperature must be > 0 (use --greedy for greedy decoding), got 0\n');
    const seed = run(['--ckpt', ckpt, '--preset', 'tiny', '--seed', '1.5']);
    assert.equal(seed.status, 2, seed.stderr);
    assert.equal(seed.stderr, '--seed must be an integer, got 1.5\n');
    const both = run(['--ckpt', ckpt, '--preset', 'tiny', '--seed', '2', 'trainer.seed=3']);
    assert.equal(both.status, 2, both.stderr);
    assert.match(both.stderr, /--seed and trainer\.seed=\.\.\. both set the sampling seed/);
  });

  it('--against a missing or foreign file exits 2 naming it, before any model loads', () => {
    const missing = run(['--ckpt', ckpt, '--preset', 'tiny', '--against', join(ckpt, 'nope.json')]);
    assert.equal(missing.status, 2, missing.stderr);
    assert.match(missing.stderr, /--against .*nope\.json does not exist/);
    const foreign = join(ckpt, 'foreign.json');
    writeFileSync(foreign, JSON.stringify({ accuracy: 0.5 }));
    const r = run(['--ckpt', ckpt, '--preset', 'tiny', '--against', foreign]);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /foreign\.json: not an eval\.json written by pgpo eval/);
    writeFileSync(foreign, '{"overall":');
    assert.match(run(['--ckpt', ckpt, '--preset', 'tiny', '--against', foreign]).stderr, /foreign\.json: not valid JSON/);
  });

  it('--help: the usage line shows the config flags and overrides', () => {
    const r = run(['--help']);
    assert.equal(r.status, 0, r.stderr);
    const usage = r.stdout.split('\n').find((l) => l.includes('pgpo eval'))!;
    for (const part of ['--ckpt', '--split', '--k', '--temperature', '--greedy', '--n', '--out', '--against', '--seed', '--preset', '--config', 'key.path=value'])
      assert.ok(usage.includes(part), `usage lacks ${part}: ${usage}`);
  });
});

describe('pgpo eval: a run trained on another suite', () => {
  it('suiteNote names the suite keys where the run and the evaluation differ', async () => {
    const { suiteNote } = await import('../../src/cli/session.ts');
    const { configToYaml, resolveConfig } = await import('../../src/train/config.ts');
    const dir = mkdtempSync(join(tmpdir(), 'pgpo-eval-note-'));
    const cfg = join(dir, 'config.yaml');
    writeFileSync(cfg, configToYaml(resolveConfig({ overrides: [['data.suite.difficulty', '2']] })));
    assert.equal(suiteNote(dir, resolveConfig({ overrides: [['data.suite.difficulty', '2']] })), null);
    assert.match(
      suiteNote(dir, resolveConfig({ overrides: [['data.suite.difficulty', '1']] })) ?? '',
      /trained with data\.suite\.difficulty=2; this run uses difficulty 1 \(pass data\.suite\.difficulty=2 to use its suite\)/,
    );
    // a config from before data.suite.difficulty existed was difficulty 1
    writeFileSync(cfg, 'data:\n  suite:\n    seed: 1234\n');
    assert.match(suiteNote(dir, resolveConfig({ overrides: [['data.suite.difficulty', '2']] })) ?? '', /trained with data\.suite\.difficulty=1; this run uses difficulty 2 \(/);
    // RL's share of the key split: named by its place today, also for a run that wrote it under data.suite
    const { RL_SUITE_KEYS } = await import('../../src/cli/session.ts');
    const split = /trained with experiment\.rl_fraction=0\.5; this run uses rl_fraction 0 \(pass experiment\.rl_fraction=0\.5 to use its suite\)/;
    writeFileSync(cfg, configToYaml(resolveConfig({ overrides: [['experiment.rl_fraction', '0.5']] })));
    assert.match(suiteNote(dir, resolveConfig(), RL_SUITE_KEYS) ?? '', split);
    assert.equal(suiteNote(dir, resolveConfig()), null);
    writeFileSync(cfg, 'data:\n  suite:\n    seed: 1234\n    rl_fraction: 0.5\n');
    assert.match(suiteNote(dir, resolveConfig(), RL_SUITE_KEYS) ?? '', split);
    assert.equal(suiteNote(join(dir, 'none'), resolveConfig()), null);
    writeFileSync(cfg, 'not: [a mapping');
    assert.equal(suiteNote(dir, resolveConfig()), null);
  });
});

describe('pgpo eval --split train on a suite with a key split', () => {
  it("prints SFT's and RL's problems apart, and each share's gain with --against", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pgpo-eval-share-'));
    const suite = [`data.suite.dir=${join(dir, 'suite')}`, 'experiment.rl_fraction=0.5'];
    // (a run config with another response cap than tiny's 12: eval takes the run's, below)
    const sft = spawnSync(process.execPath, [BIN, 'sft', '--preset', 'tiny', '--out', join(dir, 'base'), 'sft.total_steps=1', 'worker.rollout.max_new_tokens=10', ...suite], { encoding: 'utf8' });
    assert.equal(sft.status, 0, sft.stderr);
    const first = run(['--ckpt', join(dir, 'base'), '--preset', 'tiny', '--split', 'train', '--n', '16', '--out', join(dir, 'a.json'), ...suite]);
    assert.equal(first.status, 0, first.stderr);
    assert.match(first.stdout, /by the key split \(experiment\.rl_fraction 0\.5\):\n  SFT's problems +\d+ rows +[\d.]+%\n  RL's problems +\d+ rows/);
    const rows = [...first.stdout.matchAll(/problems +(\d+) rows/g)].map((m) => Number(m[1]));
    assert.equal(rows[0] + rows[1], 16);
    // --use sft: only the warm start's own problems (its share of the key split), recorded in the report
    const sftOnly = run(['--ckpt', join(dir, 'base'), '--preset', 'tiny', '--split', 'train', '--use', 'sft', '--n', '16', '--out', join(dir, 'u.json'), ...suite]);
    assert.equal(sftOnly.status, 0, sftOnly.stderr);
    const u = JSON.parse(readFileSync(join(dir, 'u.json'), 'utf8'));
    assert.equal(u.use, 'sft');
    assert.match(sftOnly.stdout, /SFT's problems +16 rows/);
    assert.match(sftOnly.stdout, /RL's problems +0 rows/);
    // ... and exactly the problems SFT visited first, in its order (its stream, seeded by the run's trainer.seed)
    const cfg = resolveConfig({ preset: 'tiny', overrides: suite.map((o) => o.split('=') as [string, string]) });
    const seed = Number(getPath(readRunConfig(join(dir, 'base', 'config.yaml')), ['trainer', 'seed']));
    const stream = new ProblemStream(await loadProblems(cfg, 'train', 'sft'), `sft:${seed}`);
    assert.deepEqual(
      u.problems.map((p: { id: string }) => p.id),
      Array.from({ length: 16 }, (_, c) => stream.at(c).id),
    );
    const unsplit = run(['--ckpt', join(dir, 'base'), '--preset', 'tiny', '--split', 'train', '--use', 'sft', suite[0]]);
    assert.equal(unsplit.status, 2);
    assert.match(unsplit.stderr, /--use: SFT and RL share every training problem here \(experiment\.rl_fraction is 0\)/);
    const misplaced = run(['--ckpt', join(dir, 'base'), '--preset', 'tiny', '--use', 'sft', ...suite]);
    assert.equal(misplaced.status, 2);
    assert.match(misplaced.stderr, /--use picks training problems: give it with --split train/);
    assert.match(run(['--ckpt', join(dir, 'base'), '--preset', 'tiny', '--split', 'train', '--use', 'warm', ...suite]).stderr, /--use must be sft or rl, got "warm"/);
    // the same policy and seed again: each share's paired gain is exactly zero
    const again = run(['--ckpt', join(dir, 'base'), '--preset', 'tiny', '--split', 'train', '--n', '16', '--out', join(dir, 'b.json'), '--against', join(dir, 'a.json'), ...suite]);
    assert.equal(again.status, 0, again.stderr);
    assert.equal([...again.stdout.matchAll(/gain \+0\.0 points/g)].length, rows.filter((n) => n > 0).length);
    // --seed draws other samples and is recorded (what the pipeline compares before reusing a file)
    const reseeded = run(['--ckpt', join(dir, 'base'), '--preset', 'tiny', '--split', 'train', '--n', '16', '--seed', '7', '--out', join(dir, 'd.json'), ...suite]);
    assert.equal(reseeded.status, 0, reseeded.stderr);
    const [a, d] = ['a.json', 'd.json'].map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')));
    assert.equal(d.seed, 7);
    assert.equal(a.seed, 1);
    const samples = (e: { problems: Array<{ sample: string }> }) => e.problems.map((p) => p.sample).join('\n');
    assert.notEqual(samples(d), samples(a), 'another seed drew the same samples');
    // without --out, another seed's report goes to its own file: the run's eval.json (what --against and the pipeline read) is not replaced
    const own = run(['--ckpt', join(dir, 'base'), '--preset', 'tiny', '--split', 'train', '--n', '4', '--seed', '8', ...suite]);
    assert.equal(own.status, 0, own.stderr);
    assert.equal(JSON.parse(readFileSync(join(dir, 'base', 'eval-seed8.json'), 'utf8')).seed, 8);
    assert.ok(!existsSync(join(dir, 'base', 'eval.json')), "eval --seed wrote the run's eval.json");
    // the test split, or no key split: no such block
    const test = run(['--ckpt', join(dir, 'base'), '--preset', 'tiny', '--n', '4', '--out', join(dir, 'c.json'), ...suite]);
    assert.doesNotMatch(test.stdout, /key split/);
    // the decoding length is the run's unless this command sets it, and it says so
    assert.match(test.stderr, /pgpo eval: decoding up to 10 new tokens, the run's worker\.rollout\.max_new_tokens \(.*config\.yaml\), not 12; pass worker\.rollout\.max_new_tokens=N to choose/);
    assert.equal(JSON.parse(readFileSync(join(dir, 'c.json'), 'utf8')).max_new_tokens, 10);
    const set = run(['--ckpt', join(dir, 'base'), '--preset', 'tiny', '--n', '4', '--out', join(dir, 'e.json'), 'worker.rollout.max_new_tokens=12', ...suite]);
    assert.equal(set.status, 0, set.stderr);
    assert.doesNotMatch(set.stderr, /decoding up to/);
    assert.equal(JSON.parse(readFileSync(join(dir, 'e.json'), 'utf8')).max_new_tokens, 12);
  });
});
