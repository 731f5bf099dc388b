// `pgpo verify` end to end: flags, stdin, and the exact JSON it prints.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';

const BIN = join(import.meta.dirname, '../../bin/pgpo.js');
const run = (args: string[], input?: string) => spawnSync(process.execPath, [BIN, 'verify', ...args], { input, encoding: 'utf8' });

describe('pgpo verify', () => {
  it('prints accuracy, format and reward as one JSON line', () => {
    const r = run(['--pred', '<think>180-50-60=70</think> \\boxed{70^\\circ}', '--answer', '70']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, '{"accuracy":1,"format":1,"reward":1}\n');
    const wrong = run(['--pred', '\\boxed{71}', '--answer', '70', '--format-weight', '0.5']);
    assert.equal(wrong.stdout, '{"accuracy":0,"format":0,"reward":0}\n');
  });

  it('reads the prediction from stdin with --pred -', () => {
    const r = run(['--pred', '-', '--answer', '0.5'], '<think>half\nof one</think>\n\\boxed{\\frac{1}{2}}\n');
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, '{"accuracy":1,"format":1,"reward":1}\n');
  });

  it('an empty boxed answer is never correct, not even against an empty gold answer', () => {
    for (const [pred, answer] of [
      ['\\boxed{}', ''],
      ['\\boxed{ }', ' '],
      ['<think>x</think> \\boxed{\\text{}}', '\\text{}'],
    ]) {
      const r = run(['--pred', pred, '--answer', answer]);
      assert.equal(r.status, 0, r.stderr);
      assert.equal(JSON.parse(r.stdout).accuracy, 0, `${pred} vs "${answer}"`);
    }
  });

  it('exits 2 without --answer', () => {
    const r = run(['--pred', 'x']);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /--pred and --answer are required/);
  });
});
