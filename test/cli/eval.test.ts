// `pgpo eval` in a child process, as a user runs it: the argument errors caught before any model loads.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';

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
    for (const part of ['--ckpt', '--split', '--k', '--temperature', '--greedy', '--n', '--out', '--against', '--preset', '--config', 'key.path=value']) assert.ok(usage.includes(part), `usage lacks ${part}: ${usage}`);
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
    assert.match(suiteNote(dir, resolveConfig({ overrides: [['data.suite.difficulty', '1']] })) ?? '', /trained with data\.suite\.difficulty=2; this run uses difficulty 1 \(pass data\.suite\.difficulty=2 to use its suite\)/);
    // a config from before data.suite.difficulty existed was difficulty 1
    writeFileSync(cfg, 'data:\n  suite:\n    seed: 1234\n');
    assert.match(suiteNote(dir, resolveConfig({ overrides: [['data.suite.difficulty', '2']] })) ?? '', /trained with data\.suite\.difficulty=1; this run uses difficulty 2 \(/);
    assert.equal(suiteNote(join(dir, 'none'), resolveConfig()), null);
    writeFileSync(cfg, 'not: [a mapping');
    assert.equal(suiteNote(dir, resolveConfig()), null);
  });
});
