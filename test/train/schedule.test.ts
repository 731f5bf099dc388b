import assert from 'node:assert/strict';
import { test } from 'node:test';
import { learningRate } from '../../src/train/schedule.ts';

const close = (a: number, b: number) => assert.ok(Math.abs(a - b) < 1e-15, `${a} vs ${b}`);

test('constant: lr at every step, after a linear warmup when there is one', () => {
  const o = { lr: 3e-4, schedule: 'constant', warmup_steps: 0, min_lr_ratio: 0.1 } as const;
  for (const s of [1, 2, 1000]) assert.equal(learningRate(o, s, 40), 3e-4);
  const w = { ...o, warmup_steps: 4 };
  assert.deepEqual(
    [1, 2, 3, 4, 5, 40].map((s) => learningRate(w, s, 40)),
    [0.75e-4, 1.5e-4, 2.25e-4, 3e-4, 3e-4, 3e-4],
  );
});

test('cosine: warmup to lr, the mean of lr and the floor half way, min_lr_ratio * lr at the last step and after', () => {
  const o = { lr: 1e-3, schedule: 'cosine', warmup_steps: 10, min_lr_ratio: 0.1 } as const;
  const total = 110;
  close(learningRate(o, 1, total), 1e-4);
  close(learningRate(o, 5, total), 5e-4);
  assert.equal(learningRate(o, 10, total), 1e-3); // the end of the warmup is the peak
  close(learningRate(o, 60, total), 1e-4 + 0.5 * 9e-4); // half way through the decay
  close(learningRate(o, 110, total), 1e-4);
  close(learningRate(o, 500, total), 1e-4);
  for (let s = 10; s < total; s++) assert.ok(learningRate(o, s + 1, total) <= learningRate(o, s, total));
  // no warmup: step 1 already decays from lr
  const nw = { ...o, warmup_steps: 0 };
  assert.ok(learningRate(nw, 1, 10) < 1e-3 && learningRate(nw, 1, 10) > learningRate(nw, 2, 10));
});
