import { test } from 'node:test';
import assert from 'node:assert/strict';
import { learningRate } from '../../src/engine/schedule.ts';

test('constant schedule is the same at every step', () => {
  for (const s of [0, 1, 1000]) assert.equal(learningRate({ kind: 'constant', lr: 3e-4 }, s), 3e-4);
});

test('warmup-cosine: linear ramp, peak after warmup, cosine down to minLr, flat after total', () => {
  const s = { kind: 'warmup-cosine', lr: 1e-3, warmup: 10, total: 110, minLr: 1e-4 } as const;
  assert.equal(learningRate(s, 0), 1e-4);
  assert.ok(Math.abs(learningRate(s, 4) - 5e-4) < 1e-12);
  assert.equal(learningRate(s, 9), 1e-3);
  assert.equal(learningRate(s, 10), 1e-3);
  assert.ok(Math.abs(learningRate(s, 60) - (1e-4 + 0.5 * 9e-4)) < 1e-12); // half way: the mean
  assert.ok(Math.abs(learningRate(s, 110) - 1e-4) < 1e-12);
  assert.ok(Math.abs(learningRate(s, 500) - 1e-4) < 1e-12);
  for (let t = 10; t < 110; t++) assert.ok(learningRate(s, t + 1) <= learningRate(s, t));
  assert.throws(() => learningRate(s, -1), /non-negative/);
});
