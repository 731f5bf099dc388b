import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CliError, numberFlag, parseArgs } from '../../src/cli/args.ts';

const spec = { n: { type: 'string', description: '' }, dry: { type: 'boolean', description: '' }, family: { type: 'string', description: '', multiple: true } } as const;

describe('parseArgs', () => {
  it('parses flags, booleans, repeats, overrides and positionals', () => {
    const a = parseArgs(['run', '--n', '3', '--dry', '--family=geo', '--family', 'chart', 'algorithm.pgpo.tau=0.3'], spec, 'x');
    assert.deepEqual(a.flags, { n: '3', dry: true, family: ['geo', 'chart'] });
    assert.deepEqual(a.overrides, [['algorithm.pgpo.tau', '0.3']]);
    assert.deepEqual(a.positionals, ['run']);
  });
  it('names unknown flags, missing values and repeats', () => {
    assert.throws(
      () => parseArgs(['--m'], spec, 'x'),
      (e: unknown) => e instanceof CliError && /unknown flag --m/.test(e.message),
    );
    assert.throws(() => parseArgs(['--n'], spec, 'x'), /--n needs a value/);
    assert.throws(() => parseArgs(['--n', '1', '--n', '2'], spec, 'x'), /given twice/);
  });
  it('numberFlag validates range and type', () => {
    const a = parseArgs(['--n', 'abc'], spec, 'x');
    assert.throws(() => numberFlag(a, 'n', 1), /--n must be a number, got "abc"/);
    const b = parseArgs(['--n', '2.5'], spec, 'x');
    assert.throws(() => numberFlag(b, 'n', 1, { integer: true }), /integer/);
    assert.equal(numberFlag(parseArgs([], spec, 'x'), 'n', 7), 7);
  });
});
