import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { dependencyStats, gini, topShare, weightStats } from '../../src/algo/index.ts';

const close = (a: number, b: number, tol = 1e-12) => assert.ok(Math.abs(a - b) <= tol, `${a} != ${b}`);

describe('sparsity metrics', () => {
  it('top-10% share: one token of ten holding 9 of 18', () => {
    close(topShare([9, 1, 1, 1, 1, 1, 1, 1, 1, 1]), 0.5);
    close(topShare([1, 1, 1, 1]), 0.25); // ceil(0.4) = 1 token
    assert.equal(topShare([0, 0]), 0);
  });
  it('gini: 0 for equal values, (n-1)/n for one holder', () => {
    close(gini([2, 2, 2]), 0);
    close(gini([0, 0, 0, 5]), 0.75);
    close(gini([1, 2, 3, 4]), 0.25);
  });
  it('gini lies in [0, 1) for non-negative inputs (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: 0, max: 100, noNaN: true }), { minLength: 1, maxLength: 50 }), (x) => {
        const g = gini(x);
        assert.ok(g >= -1e-12 && g < 1);
      }),
    );
  });
  it('weight statistics', () => {
    const s = weightStats([[0, 1, 2], [1]]);
    assert.deepEqual(s, { min: 0, mean: 1, max: 2, fractionAmplified: 0.25, fractionSuppressed: 0.25 });
  });
  it('dependency statistics', () => {
    const s = dependencyStats([[0, Math.E - 1], [0]]);
    assert.equal(s.tokens, 3);
    close(s.meanCompressed, 1 / 3);
    close(s.top10Share, 1);
  });
});
