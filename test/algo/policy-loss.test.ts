import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { aggregationWeights, computePolicyLoss, DEFAULT_POLICY_LOSS, LOSS_AGGREGATIONS, type LossAggregation, type PolicyLossOptions } from '../../src/algo/index.ts';

const close = (a: number, b: number, tol = 1e-9) => assert.ok(Math.abs(a - b) <= tol, `${a} != ${b}`);
const one = (logpNew: number, logpOld: number, A: number, o: Partial<PolicyLossOptions> = {}) =>
  computePolicyLoss('ppo-clip', { logpNew: [[logpNew]], logpOld: [[logpOld]], advantages: [[A]] }, { ...DEFAULT_POLICY_LOSS, ...o });

describe('aggregation modes', () => {
  const mask = [
    [1, 1, 1, 0],
    [1, 0],
  ];
  it('token-mean: 1 / all unmasked tokens', () => {
    const c = aggregationWeights(mask, { aggregation: 'token-mean' });
    close(c[0][0], 1 / 4);
    close(c[0][3], 0);
    close(c[1][0], 1 / 4);
  });
  it('seq-mean-token-mean: 1 / (B * tokens of the response)', () => {
    const c = aggregationWeights(mask, { aggregation: 'seq-mean-token-mean' });
    close(c[0][0], 1 / 6);
    close(c[1][0], 1 / 2);
  });
  it('seq-mean-token-sum-norm: 1 / (B * L), L given or the longest row', () => {
    close(aggregationWeights(mask, { aggregation: 'seq-mean-token-sum-norm', normLength: 10 })[0][0], 1 / 20);
    close(aggregationWeights(mask, { aggregation: 'seq-mean-token-sum-norm' })[1][0], 1 / 8);
    close(aggregationWeights(mask, { aggregation: 'seq-mean-token-sum' })[1][0], 1 / 2);
  });
  it('fully masked responses do not count as sequences', () => {
    const c = aggregationWeights(
      [
        [1, 1],
        [0, 0],
      ],
      { aggregation: 'seq-mean-token-mean' },
    );
    close(c[0][0], 0.5);
  });
});

describe('PPO clip with clip-higher and dual clip', () => {
  it('on-policy: loss -A, gradient -A', () => {
    const r = one(-1, -1, 2);
    close(r.loss, -2);
    close(r.grad[0][0], -2);
    assert.equal(r.clipFraction, 0);
  });
  it('positive advantage, ratio above 1 + eps_high: clipped constant, zero gradient', () => {
    const r = one(Math.log(1.5), 0, 1);
    close(r.loss, -1.28);
    assert.equal(r.grad[0][0], 0);
    assert.equal(r.clipFraction, 1);
  });
  it('positive advantage, ratio below 1 - eps_low: unclipped (pessimistic), gradient -A r', () => {
    const r = one(Math.log(0.5), 0, 1);
    close(r.loss, -0.5);
    close(r.grad[0][0], -0.5);
  });
  it('negative advantage, ratio below 1 - eps_low: clipped at 0.8', () => {
    const r = one(Math.log(0.5), 0, -1);
    close(r.loss, 0.8);
    assert.equal(r.grad[0][0], 0);
  });
  it('negative advantage, ratio in (1 + eps_high, c): unclipped', () => {
    const r = one(Math.log(2), 0, -1);
    close(r.loss, 2);
    close(r.grad[0][0], 2);
  });
  it('negative advantage, ratio above the dual clip c = 3: bounded at -A c', () => {
    const r = one(Math.log(5), 0, -1);
    close(r.loss, 3);
    assert.equal(r.grad[0][0], 0);
    assert.equal(r.dualClipFraction, 1);
    const off = one(Math.log(5), 0, -1, { dualClip: null });
    close(off.loss, 5);
  });
  it('reports ppo KL and the k3 approx KL', () => {
    const r = one(Math.log(2), 0, 0);
    close(r.ppoKl, -Math.log(2));
    close(r.approxKl, 2 - 1 - Math.log(2));
  });
  it('rejects bad clip settings', () => {
    assert.throws(() => one(0, 0, 1, { dualClip: 0.5 }), /dualClip must be > 1/);
    assert.throws(() => one(0, 0, 1, { clipLow: 1 }), /clipLow/);
  });

  it('gradient matches a central finite difference of the aggregated loss (property)', () => {
    const rowArb = fc.array(
      fc.record({
        old: fc.double({ min: -4, max: -0.01, noNaN: true }),
        delta: fc.double({ min: -1, max: 1, noNaN: true }),
        adv: fc.double({ min: -3, max: 3, noNaN: true }),
        m: fc.constantFrom(1, 1, 1, 0),
      }),
      { minLength: 1, maxLength: 6 },
    );
    fc.assert(
      fc.property(
        fc.array(rowArb, { minLength: 1, maxLength: 4 }),
        fc.constantFrom<LossAggregation>(...LOSS_AGGREGATIONS),
        fc.constantFrom('ppo-clip', 'vanilla' as const),
        (rows, aggregation, name) => {
          const logpOld = rows.map((r) => r.map((x) => x.old));
          const logpNew = rows.map((r) => r.map((x) => x.old + x.delta));
          const advantages = rows.map((r) => r.map((x) => x.adv));
          const mask = rows.map((r) => r.map((x) => x.m));
          const options = { ...DEFAULT_POLICY_LOSS, aggregation };
          const base = computePolicyLoss(name, { logpNew, logpOld, advantages, mask }, options);
          const h = 1e-6;
          rows.forEach((r, i) =>
            r.forEach((_, t) => {
              const ratio = Math.exp(logpNew[i][t] - logpOld[i][t]);
              // skip points within h of a kink of the piecewise loss
              const kinks = [1 - options.clipLow, 1 + options.clipHigh, options.dualClip!];
              if (kinks.some((k) => Math.abs(Math.log(ratio) - Math.log(k)) < 1e-4)) return;
              const bump = (d: number) => {
                const ln = logpNew.map((row) => row.slice());
                ln[i][t] += d;
                return computePolicyLoss(name, { logpNew: ln, logpOld, advantages, mask }, options).loss;
              };
              const fd = (bump(h) - bump(-h)) / (2 * h);
              close(base.grad[i][t], fd, 1e-6);
            }),
          );
        },
      ),
      { numRuns: 200 },
    );
  });
});
