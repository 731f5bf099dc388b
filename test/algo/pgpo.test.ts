import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { AlgoInputError, computeAdvantages, DEFAULT_RESHAPE_BATCH, k3, reshapeBatch, reshapeWeights } from '../../src/algo/index.ts';

const close = (a: number, b: number, tol = 1e-9) => assert.ok(Math.abs(a - b) <= tol, `${a} != ${b}`);

describe('reshapeBatch', () => {
  const records = [
    { group: 'p', reward: 1, logpImage: [-0.1, -2, -0.5], logpText: [-0.1, -4, -0.7] },
    { group: 'p', reward: 0, logpImage: [-0.3, -1], logpText: [-0.3, -3.5] },
    { group: 'q', reward: 0.5, dependency: [0, 1, 2, 3] },
    { group: 'q', reward: 0.5, dependency: [4] },
  ];

  it('composes advantages, k3 dependency and pgpo weights exactly', () => {
    const { rollouts, summary } = reshapeBatch(records);
    const A = computeAdvantages('grpo', { groups: ['p', 'p', 'q', 'q'], rewards: [1, 0, 0.5, 0.5] });
    rollouts.forEach((r, i) => close(r.advantage, A[i]));
    const s0 = k3(records[0].logpImage!, records[0].logpText!);
    assert.deepEqual(Array.from(rollouts[0].dependency), Array.from(s0));
    const w0 = reshapeWeights('pgpo', s0).weights;
    rollouts[0].tokenAdvantages.forEach((x, t) => close(x, A[0] * w0[t]));
    assert.equal(summary.responses, 4);
    assert.equal(summary.groups, 2);
    assert.equal(summary.tokens, 10);
    assert.equal(summary.zeroAdvantageGroups, 1);
    assert.equal(summary.fallbacks, 1); // the single-token response
  });

  it('the group of token advantages keeps a zero mean over responses: sum_t A~ = |o| A (property)', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            group: fc.integer({ min: 0, max: 3 }),
            reward: fc.constantFrom(0, 0.1, 0.9, 1),
            dependency: fc.array(fc.double({ min: 0, max: 20, noNaN: true }), { minLength: 1, maxLength: 12 }),
          }),
          { minLength: 1, maxLength: 16 },
        ),
        (recs) => {
          const { rollouts } = reshapeBatch(recs);
          rollouts.forEach((r, i) => {
            const s = r.tokenAdvantages.reduce((a, b) => a + b, 0);
            close(s, recs[i].dependency.length * r.advantage, 1e-8 * recs[i].dependency.length);
          });
          // per group, sum_i A_i = 0, so the advantage mass (sum_i sum_t A~ / |o_i|) stays 0
          for (const g of new Set(recs.map((r) => r.group))) {
            let s = 0;
            rollouts.forEach((r, i) => recs[i].group === g && (s += r.tokenAdvantages.reduce((a, b) => a + b, 0) / recs[i].dependency.length));
            close(s, 0, 1e-8);
          }
        },
      ),
    );
  });

  it('errors name the response and the field', () => {
    assert.throws(
      () => reshapeBatch([{ group: 1, reward: 1, dependency: [1, NaN] }]),
      (e: unknown) => e instanceof AlgoInputError && e.where.response === 0 && e.where.position === 1,
    );
    assert.throws(() => reshapeBatch([{ group: 1, reward: 1 }]), /response 0 has neither "dependency" nor both/);
    assert.throws(() => reshapeBatch([{ group: 1, reward: 1, dependency: [] }]), /zero-length/);
  });

  it('variant none reproduces GRPO token advantages', () => {
    const { rollouts } = reshapeBatch(records, { ...DEFAULT_RESHAPE_BATCH, variant: 'none' });
    rollouts.forEach((r) => r.tokenAdvantages.forEach((x) => assert.equal(x, r.advantage)));
  });
});
