// Reference KL, entropy, VPPO and PAPO terms: hand values and finite-difference gradients.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  entropyFromLogits,
  entropyRows,
  entropyTerm,
  papoDoubleEntropy,
  papoPerceptionLoss,
  referenceKlPenalty,
  vppoDependency,
  vppoEntropyPenalty,
  vppoTokenAdvantages,
  vppoTokenMask,
  vppoTrajectoryFactors,
  type KlEstimatorName,
} from '../../src/algo/index.ts';

const close = (a: number, b: number, tol = 1e-9) => assert.ok(Math.abs(a - b) <= tol, `${a} != ${b}`);
const tokenMean = { aggregation: 'token-mean' as const };

/** Central finite difference of f with respect to rows[i][t]. */
function fd(f: (rows: number[][]) => number, rows: number[][], i: number, t: number, h = 1e-6): number {
  const bump = (d: number) => {
    const r = rows.map((x) => x.slice());
    r[i][t] += d;
    return f(r);
  };
  return (bump(h) - bump(-h)) / (2 * h);
}

describe('reference KL penalty', () => {
  it('k1/k2/k3 hand values', () => {
    const logp = [[-1]];
    const ref = [[-2]];
    close(referenceKlPenalty(logp, ref, { ...tokenMean, estimator: 'k1', coef: 1, clampMax: 10 }).loss, 1);
    close(referenceKlPenalty(logp, ref, { ...tokenMean, estimator: 'k2', coef: 1, clampMax: 10 }).loss, 0.5);
    close(referenceKlPenalty(logp, ref, { ...tokenMean, estimator: 'k3', coef: 1, clampMax: 10 }).loss, Math.exp(-1) + 1 - 1);
  });
  it('k3 is clamped at clampMax with zero gradient there', () => {
    const r = referenceKlPenalty([[-10]], [[0]], { ...tokenMean, estimator: 'k3', coef: 1, clampMax: 10 });
    close(r.loss, 10);
    assert.equal(r.grad[0][0], 0);
  });
  it('gradients match finite differences', () => {
    const logp = [[-1.2, -0.3], [-2.5]];
    const ref = [[-0.8, -0.9], [-1.0]];
    for (const estimator of ['k1', 'k2', 'k3'] as KlEstimatorName[]) {
      const o = { aggregation: 'seq-mean-token-mean' as const, estimator, coef: 0.1, clampMax: 10 };
      const g = referenceKlPenalty(logp, ref, o).grad;
      const f = (rows: number[][]) => referenceKlPenalty(rows, ref, o).loss;
      for (const [i, t] of [
        [0, 0],
        [0, 1],
        [1, 0],
      ])
        close(g[i][t], fd(f, logp, i, t), 1e-7);
    }
  });
});

describe('entropy', () => {
  it('of a uniform row is log V, of a one-hot limit is 0', () => {
    close(entropyFromLogits([0, 0, 0, 0]), Math.log(4));
    close(entropyFromLogits([0, -1000, -1000]), 0);
    close(entropyFromLogits([0, -Infinity]), 0);
  });
  it('rows of a flat matrix', () => {
    const e = entropyRows([0, 0, 5, 5, 1, 1], 2);
    e.forEach((x) => close(x, Math.log(2)));
  });
  it('entropy term: coef * token-mean, gradient coef / N', () => {
    const r = entropyTerm([[1, 2], [3]], 0.5, tokenMean);
    close(r.loss, 0.5 * 2);
    close(r.grad[1][0], 0.5 / 3);
    close(r.mean, 2);
  });
});

describe('VPPO', () => {
  it('dependency is k3 of original vs perturbed, clamped to [0, 10]', () => {
    const s = vppoDependency([-0.5, -0.1], [-1.5, -30]);
    close(s[0], Math.exp(-1));
    close(s[1], 10);
  });
  it('trajectory factors map min-max scores to [0.9, M] with mean exactly 1', () => {
    const f = vppoTrajectoryFactors([
      [0, 0],
      [1, 1],
      [2, 4],
    ]);
    // means 0, 1, 3 -> norm 0, 1/3, 1 -> mu 4/9 -> M = 0.9 + 0.1 / (4/9) = 1.125
    close(f[0], 0.9);
    close(f[2], 1.125, 1e-7);
    close((f[0] + f[1] + f[2]) / 3, 1, 1e-7);
    assert.deepEqual(Array.from(vppoTrajectoryFactors([[1], [1]])), [1, 1]);
  });
  it('factors always average 1 (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.array(fc.double({ min: 0, max: 10, noNaN: true }), { minLength: 1, maxLength: 8 }), { minLength: 2, maxLength: 12 }), (rows) => {
        const f = vppoTrajectoryFactors(rows);
        close(f.reduce((a, b) => a + b, 0) / f.length, 1, 1e-6);
        for (const x of f) assert.ok(x >= 0.9 - 1e-12);
      }),
    );
  });
  it('NaN or Inf is an error, not factors of 1 and a scrambled mask', () => {
    assert.throws(() => vppoDependency([-1, -1], [-1, NaN]), /logp_perturbed: non-finite value NaN at position 1/);
    assert.throws(() => vppoDependency([-1], [-1, -1]), /logp_original has 1 tokens/);
    assert.throws(
      () =>
        vppoTokenAdvantages(
          [1, -1],
          [
            [0, 1],
            [NaN, 2],
          ],
        ),
      /dependency: non-finite value NaN at response 1, position 0/,
    );
  });
  it('token mask keeps the top ceil(40%) tokens, earlier first on ties', () => {
    assert.deepEqual(Array.from(vppoTokenMask([0.1, 0.9, 0.5, 0.2, 0.3])), [0, 1, 1, 0, 0]);
    assert.deepEqual(Array.from(vppoTokenMask([1, 1, 1])), [1, 1, 0]);
    assert.deepEqual(Array.from(vppoTokenMask([0.3])), [1]);
  });
  it('token advantages = A * factor * mask', () => {
    const r = vppoTokenAdvantages(
      [2, -1],
      [
        [0, 1],
        [3, 3],
      ],
    );
    assert.deepEqual(Array.from(r.masks[0]), [0, 1]);
    close(r.tokenAdvantages[0][1], 2 * r.factors[0]);
    assert.equal(r.tokenAdvantages[0][0], 0);
  });
  it('entropy penalty: coef * mean(-logp), gradient -coef / N', () => {
    const r = vppoEntropyPenalty([[-1, -3]], 0.06, tokenMean);
    close(r.loss, 0.06 * 2);
    close(r.grad[0][0], -0.03);
  });
});

describe('PAPO', () => {
  it('perception loss is -gamma * KL_prcp and its gradients match finite differences', () => {
    const orig = [[-0.2, -1.0], [-0.5]];
    const masked = [[-1.4, -0.9], [-0.6]];
    const o = tokenMean;
    const r = papoPerceptionLoss(orig, masked, 0.01, o);
    // token 0: d = -1.2 -> KL = e^-1.2 + 1.2 - 1
    const kl0 = Math.exp(-1.2) + 0.2;
    assert.ok(r.loss < 0);
    close(r.klMean, (kl0 + (Math.exp(0.1) - 0.1 - 1) + (Math.exp(-0.1) + 0.1 - 1)) / 3, 1e-12);
    for (const [i, t] of [
      [0, 0],
      [0, 1],
      [1, 0],
    ]) {
      close(
        r.gradOriginal[i][t],
        fd((rows) => papoPerceptionLoss(rows, masked, 0.01, o).loss, orig, i, t),
        1e-8,
      );
      close(
        r.gradMasked[i][t],
        fd((rows) => papoPerceptionLoss(orig, rows, 0.01, o).loss, masked, i, t),
        1e-8,
      );
    }
  });
  it('double entropy adds both branches with their coefficients', () => {
    const r = papoDoubleEntropy([[1, 1]], [[2, 4]], { perceptionCoef: 0.01, entropyCoefOriginal: 0.03, entropyCoefMasked: 0.05 }, tokenMean);
    close(r.loss, 0.03 * 1 + 0.05 * 3);
    close(r.gradEntropyMasked[0][1], 0.05 / 2);
  });
});
