// `pgpo reshape` end to end in a child process, as a user runs it.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { computeAdvantages, k3, reshapeWeights } from '../../src/algo/index.ts';

const BIN = join(import.meta.dirname, '../../bin/pgpo.js');
const run = (args: string[], input?: string) => spawnSync(process.execPath, [BIN, 'reshape', ...args], { input, encoding: 'utf8' });
const dir = mkdtempSync(join(tmpdir(), 'pgpo-reshape-'));

const good = [
  { group: 'p1', reward: 1, logp_image: [-0.1, -2.0, -0.5, -0.01], logp_text: [-0.1, -4.0, -0.7, -0.01], prompt: 'keep me' },
  { group: 'p1', reward: 0.1, logp_image: [-0.3, -1.0, -0.2], logp_text: [-0.3, -3.5, -0.25] },
  { group: 7, reward: 0.9, dependency: [0, 0.5, 2] },
  { group: 7, reward: 0, dependency: [0.1, 0.1] },
];
const goodText = good.map((g) => JSON.stringify(g)).join('\n') + '\n';

describe('pgpo reshape', () => {
  it('adds advantage, dependency, weights and token_advantages that match the equations', () => {
    const inPath = join(dir, 'in.jsonl');
    const outPath = join(dir, 'out.jsonl');
    writeFileSync(inPath, goodText);
    const r = run(['--in', inPath, '--out', outPath, '--tau', '0.3', '--beta', '1.5']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^reshaped 4 responses in 2 groups, 12 tokens; sparsity: top-10% tokens carry [\d.]+% of dependency/);
    const out = readFileSync(outPath, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.equal(out.length, 4);
    assert.equal(out[0].prompt, 'keep me');
    const A = computeAdvantages('grpo', { groups: good.map((g) => g.group), rewards: good.map((g) => g.reward) });
    out.forEach((o, i) => {
      assert.ok(Math.abs(o.advantage - A[i]) < 1e-12);
      const s = good[i].dependency ?? Array.from(k3(good[i].logp_image!, good[i].logp_text!));
      const w = reshapeWeights('pgpo', s, { tau: 0.3, beta: 1.5, eps: 1e-8, quantile: 0.5, floor: 0.1 }).weights;
      o.weights.forEach((x: number, t: number) => assert.ok(Math.abs(x - w[t]) < 1e-12));
      o.token_advantages.forEach((x: number, t: number) => assert.ok(Math.abs(x - A[i] * w[t]) < 1e-12));
      const total = o.weights.reduce((a: number, b: number) => a + b, 0);
      assert.ok(Math.abs(total - s.length) < 1e-9);
    });
  });

  it('works as a pipe (--in - --out -), summary on stderr', () => {
    const r = run(['--in', '-', '--out', '-', '--variant', 'none'], goodText);
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.deepEqual(lines[0].weights, [1, 1, 1, 1]);
    assert.match(r.stderr, /reshaped 4 responses/);
  });

  const malformed: Array<[string, string, RegExp]> = [
    ['bad JSON', '{"group": 1, "reward": 1, "dependency": [1]}\n{"group": 2,', /line 2: invalid JSON/],
    ['missing field', '{"group": 1, "dependency": [1]}', /line 1, field reward: missing/],
    ['arrays of different lengths', '{"group":1,"reward":1,"logp_image":[-1,-2],"logp_text":[-1]}', /line 1, field logp_text: has 1 tokens but logp_image has 2/],
    ['NaN', '{"group":1,"reward":1,"logp_image":[-1,NaN],"logp_text":[-1,-1]}', /line 1, field logp_image\[1\]: expected a finite number, got NaN/],
    ['null token', '\n\n{"group":1,"reward":1,"dependency":[0.5,null]}', /line 3, field dependency\[1\]: expected a finite number, got null/],
    ['empty response', '{"group":1,"reward":1,"dependency":[]}', /line 1, field dependency: empty/],
    ['positive log-prob', '{"group":1,"reward":1,"logp_image":[0.5],"logp_text":[-1]}', /line 1, field logp_image\[0\]: a log-probability must be <= 0/],
    ['not an object', '[1,2,3]', /line 1: expected a JSON object/],
    [
      'a reward where the variance overflows',
      '{"group":1,"reward":1e308,"dependency":[1]}\n{"group":1,"reward":-1e308,"dependency":[1]}',
      /line 1, field reward: 1e\+308 is beyond ±1e\+150, where a group's mean and variance overflow/,
    ],
    ['a log-prob where k2 overflows', '{"group":1,"reward":1,"logp_image":[-1e300],"logp_text":[-1]}', /line 1, field logp_image\[0\]: -1e\+300 is beyond ±1e\+150/],
  ];
  for (const [name, text, message] of malformed) {
    it(`rejects ${name} with exit code 2, one line, and no output file`, () => {
      const inPath = join(dir, `bad-${name.replace(/\W/g, '_')}.jsonl`);
      const outPath = join(dir, `bad-${name.replace(/\W/g, '_')}.out.jsonl`);
      writeFileSync(inPath, text);
      const r = run(['--in', inPath, '--out', outPath]);
      assert.equal(r.status, 2);
      assert.match(r.stderr, message);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.equal(existsSync(outPath), false);
    });
  }

  it('rejects group ids that are not valid UTF-8 (they would all decode to U+FFFD and merge), naming the line', () => {
    const inPath = join(dir, 'latin1.jsonl');
    const outPath = join(dir, 'latin1.out.jsonl');
    writeFileSync(inPath, Buffer.concat([Buffer.from('{"group":"ok","reward":1,"dependency":[1]}\n{"group":"a'), Buffer.from([0xff]), Buffer.from('","reward":0,"dependency":[1]}\n')]));
    const r = run(['--in', inPath, '--out', outPath]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /^pgpo reshape: .*latin1\.jsonl: line 2: not valid UTF-8/);
    assert.equal(existsSync(outPath), false);
  });

  it('refuses --out equal to --in; a reshaped file read again recomputes dependency from its log-probs', () => {
    const inPath = join(dir, 'twice.jsonl');
    writeFileSync(inPath, goodText);
    const same = run(['--in', inPath, '--out', join(dir, '.', 'twice.jsonl')]);
    assert.equal(same.status, 2);
    assert.match(same.stderr, /--out .*twice\.jsonl is the input file/);
    assert.equal(readFileSync(inPath, 'utf8'), goodText, 'the input was overwritten');
    const k1 = run(['--in', inPath, '--out', join(dir, 'twice.k1.jsonl'), '--estimator', 'k1']);
    assert.equal(k1.status, 0, k1.stderr);
    const k3 = run(['--in', join(dir, 'twice.k1.jsonl'), '--out', join(dir, 'twice.k3.jsonl'), '--estimator', 'k3']);
    assert.equal(k3.status, 0, k3.stderr);
    const fresh = run(['--in', inPath, '--out', join(dir, 'twice.fresh.jsonl'), '--estimator', 'k3']);
    assert.equal(fresh.status, 0, fresh.stderr);
    const first = (f: string) => JSON.parse(readFileSync(join(dir, f), 'utf8').split('\n')[0]);
    assert.deepEqual(first('twice.k3.jsonl').dependency, first('twice.fresh.jsonl').dependency);
    assert.notDeepEqual(first('twice.k1.jsonl').dependency, first('twice.fresh.jsonl').dependency);
  });

  it('rejects bad flags with exit code 2', () => {
    assert.equal(run(['--in', '-', '--out', '-', '--tau', '1.5'], goodText).status, 2);
    assert.match(run(['--in', '-', '--out', '-', '--variant', 'x'], goodText).stderr, /--variant must be one of pgpo, none/);
    assert.match(run(['--in', '-', '--out', '-', '--bogus'], goodText).stderr, /unknown flag --bogus/);
    assert.match(run(['--in', join(dir, 'nope.jsonl'), '--out', '-']).stderr, /cannot read .*nope.jsonl: ENOENT/);
  });
});
