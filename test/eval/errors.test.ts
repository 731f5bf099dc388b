import assert from 'node:assert/strict';
import { test } from 'node:test';
import { classifyError, readings, thinkPart } from '../../src/eval/errors.ts';

const gold = '<think>A=80 B=40 180-80-40=60</think> \\boxed{60}';

test('readings are the name=value pairs of the think part, not the computation', () => {
  assert.deepEqual(readings(gold), ['A=80', 'B=40']);
  assert.deepEqual(readings('<think>y1=5 y2=6 6+(6-5)=7</think> \\boxed{7}'), ['y1=5', 'y2=6']);
  assert.deepEqual(readings('<think>red=3 blue=3 3+3=6 B:6</think> \\boxed{B}'), ['red=3', 'blue=3']);
  assert.deepEqual(readings('<think>max=B</think>'), []);
  assert.equal(readings('\\boxed{60}'), null);
});

test('a wrong sample is a computation error when its readings match the gold ones, a misreading otherwise', () => {
  assert.equal(classifyError('<think>A=80 B=40 180-80-40=50</think> \\boxed{50}', gold, false), 'computation');
  assert.equal(classifyError('<think>B=40 A=80 180-80-40=50</think> \\boxed{50}', gold, false), 'computation');
  assert.equal(classifyError('<think>A=80 B=30 180-80-30=70</think> \\boxed{70}', gold, false), 'misread');
  assert.equal(classifyError('<think>A=80 180-80=100</think> \\boxed{100}', gold, false), 'misread');
  assert.equal(classifyError('\\boxed{50}', gold, false), 'unformatted');
  assert.equal(classifyError('<think>A=1 B=2 1+2=3</think> \\boxed{60}', gold, true), 'correct');
});

test('thinkPart: the first think part; an unclosed one only when asked (a reading probe scores what was written)', () => {
  assert.equal(thinkPart('<think>a=1 b</think> \\boxed{3}'), 'a=1 b');
  assert.equal(thinkPart('<think>a=1 b'), null);
  assert.equal(thinkPart('<think>a=1 b', { unclosed: true }), 'a=1 b');
  assert.equal(thinkPart('<think>x</think><think>y</think>', { unclosed: true }), 'x');
  assert.equal(thinkPart('no part', { unclosed: true }), null);
});
