import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { AlgoInputError, estimateDependency, exactDependency, exactKl, k1, k2, k3, logSoftmax, reshapeBatch } from '../../src/algo/index.ts';

const close = (a: number, b: number, tol = 1e-12) => assert.ok(Math.abs(a - b) <= tol * Math.max(1, Math.abs(b)), `${a} != ${b}`);

describe('single-sample dependency estimators', () => {
  it('match hand-computed values', () => {
    // log r = logp_text - logp_image = -1.5 - (-0.5) = -1
    const img = [-0.5];
    const txt = [-1.5];
    close(k1(img, txt)[0], 1);
    close(k2(img, txt)[0], 0.5);
    close(k3(img, txt)[0], Math.exp(-1) - 1 + 1); // r - 1 - log r = e^-1 - 1 + 1
    // identical log-probs: no dependency
    assert.equal(k3([-2], [-2])[0], 0);
    assert.equal(k1([-2], [-2])[0], 0);
  });

  it('k3 is non-negative and k1 can be negative', () => {
    fc.assert(
      fc.property(fc.double({ min: -30, max: 0, noNaN: true }), fc.double({ min: -30, max: 0, noNaN: true }), (a, b) => {
        assert.ok(k3([a], [b])[0] >= 0);
        assert.ok(k2([a], [b])[0] >= 0);
      }),
    );
    assert.ok(k1([-2], [-1])[0] < 0);
  });

  it('k1 and k2 take no exp, so a log-ratio beyond 20 is not clamped', () => {
    // log r = -31 - (-1) = -30: k1 = 30, k2 = 450 (they used to be capped at 20 and 200)
    close(k1([-1], [-31])[0], 30);
    close(k2([-1], [-31])[0], 450);
  });

  it('k3 averaged over the image-conditioned distribution equals the exact KL', () => {
    // E_{x~p}[r - 1 - log r] = sum_x q(x) - 1 + KL(p||q) = KL(p||q): an exact identity
    const p = logSoftmax([2, 0.5, -1, 0.3]);
    const q = logSoftmax([0.1, 1.5, -0.2, 0.3]);
    const s = k3(p, q);
    let expectation = 0;
    for (let j = 0; j < 4; j++) expectation += Math.exp(p[j]) * s[j];
    close(expectation, exactKl(p, q), 1e-12);
  });

  it('rejects NaN, Inf and mismatched lengths naming response and position', () => {
    assert.throws(
      () => estimateDependency('k3', [-1, NaN], [-1, -1], 7),
      (e: unknown) => e instanceof AlgoInputError && e.where.response === 7 && e.where.position === 1 && /logp_image/.test(e.message),
    );
    assert.throws(() => estimateDependency('k3', [-1, -1], [-1, -Infinity], 2), /logp_text: non-finite value -Infinity at response 2, position 1/);
    assert.throws(() => estimateDependency('k3', [-1], [-1, -1]), /logp_image has 1 tokens but logp_text has 2/);
  });
});

describe('exact KL from logit rows', () => {
  it('matches a hand-computed two-token example', () => {
    // p = (0.5, 0.5), q = softmax(0, log 3) = (0.25, 0.75): KL = 0.5 ln 2 + 0.5 ln(2/3)
    close(exactKl([0, 0], [0, Math.log(3)]), 0.5 * Math.log(2) + 0.5 * Math.log(2 / 3));
    assert.equal(exactKl([1, 2, 3], [1, 2, 3]), 0);
  });

  it('is shift invariant and stable at huge logit scales', () => {
    const a = [1000, 999, 990];
    const b = [-5000, -5001, -4990];
    const kl = exactKl(a, b);
    assert.ok(Number.isFinite(kl) && kl > 0);
    close(exactKl([0, -1, -10], [0, -1, 10]), kl, 1e-9);
  });

  it('handles zero-probability entries (-Infinity logits)', () => {
    close(exactKl([0, -Infinity], [0, 0]), Math.log(2));
    assert.equal(exactKl([0, 0], [0, -Infinity]), Infinity);
  });

  it('NaN or +Inf logits give NaN, never a silent 0 dependency', () => {
    for (const [x, y] of [
      [
        [0, NaN],
        [0, 0],
      ],
      [
        [0, 0],
        [NaN, 0],
      ],
      [
        [0, Infinity],
        [0, 0],
      ],
      [
        [0, 0],
        [Infinity, 0],
      ],
      [
        [-Infinity, -Infinity],
        [0, 0],
      ],
    ]) {
      assert.ok(Number.isNaN(exactKl(x, y)), `exactKl(${x}, ${y})`);
    }
    // through a batch, the NaN is an error naming the response and the token
    const s = exactDependency(Float64Array.from([0, 1, NaN, 0]), Float64Array.from([0, 0, 0, 0]), 2);
    assert.throws(
      () =>
        reshapeBatch([
          { group: 1, reward: 1, dependency: [0, 0] },
          { group: 1, reward: 0, dependency: s },
        ]),
      (e: unknown) => e instanceof AlgoInputError && e.where.response === 1 && e.where.position === 1,
    );
  });

  it('works for a 151,936-entry vocabulary', () => {
    const V = 151_936;
    const p = new Float32Array(V);
    const q = new Float32Array(V);
    for (let j = 0; j < V; j++) {
      p[j] = Math.sin(j) * 3;
      q[j] = Math.sin(j) * 3 + (j % 7 === 0 ? 0.5 : 0);
    }
    const kl = exactKl(p, q);
    assert.ok(kl > 0 && kl < 0.5, `kl ${kl}`);
  });

  it('exactDependency splits a flat T x V matrix into rows', () => {
    const img = [0, 0, 1, 2, 3, 4];
    const txt = [0, Math.log(3), 1, 2, 3, 4];
    const s = exactDependency(Float64Array.from(img), Float64Array.from(txt), 2);
    assert.equal(s.length, 3);
    close(s[0], 0.5 * Math.log(2) + 0.5 * Math.log(2 / 3));
    assert.equal(s[1], 0);
    assert.throws(() => exactDependency(img, txt.slice(1), 2), /T x 2/);
  });

  it('is non-negative for random rows (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.double({ min: -50, max: 50, noNaN: true }), fc.double({ min: -50, max: 50, noNaN: true })), { minLength: 1, maxLength: 30 }), (pairs) => {
        assert.ok(
          exactKl(
            pairs.map((x) => x[0]),
            pairs.map((x) => x[1]),
          ) >= 0,
        );
      }),
    );
  });
});
