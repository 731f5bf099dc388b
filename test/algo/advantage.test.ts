import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ADVANTAGE_ESTIMATORS, AlgoInputError, computeAdvantages, dynamicSamplingFilter } from '../../src/algo/index.ts';

const close = (a: number, b: number, tol = 1e-9) => assert.ok(Math.abs(a - b) <= tol, `${a} != ${b}`);

describe('group advantages', () => {
  it('grpo uses the unbiased std and eps 1e-6 (torch.std semantics)', () => {
    // rewards 1, 0, 0, 1: mean 0.5, unbiased std sqrt(1/3)
    const a = computeAdvantages('grpo', { groups: ['g', 'g', 'g', 'g'], rewards: [1, 0, 0, 1] });
    const expected = 0.5 / (Math.sqrt(1 / 3) + 1e-6);
    close(a[0], expected);
    close(a[1], -expected);
  });
  it('drgrpo subtracts the mean only; rloo leaves one out', () => {
    const input = { groups: [1, 1, 1], rewards: [1, 0.1, 0.1] };
    const d = computeAdvantages('drgrpo', input);
    close(d[0], 0.6);
    close(d[1], -0.3);
    const r = computeAdvantages('rloo', input);
    close(r[0], 1 - 0.1);
    close(r[1], 0.1 - 0.55);
  });
  it('groups are independent and keyed by id, in any order', () => {
    const a = computeAdvantages('drgrpo', { groups: ['a', 'b', 'a', 'b'], rewards: [1, 5, 0, 3] });
    assert.deepEqual(Array.from(a), [0.5, 1, -0.5, -1]);
  });
  it('all-equal groups and singletons get exactly 0', () => {
    for (const name of ['grpo', 'drgrpo', 'rloo', 'reinforce++-baseline'] as const) {
      const a = computeAdvantages(name, { groups: ['x', 'x', 'x', 'y'], rewards: [0.1, 0.1, 0.1, 1] });
      assert.deepEqual(Array.from(a), [0, 0, 0, 0], name);
    }
  });
  it('reinforce++ whitens rewards over the batch tokens', () => {
    // lengths 1 and 3: token values 1, 0, 0, 0 -> mean 0.25, unbiased var 0.25
    const a = computeAdvantages('reinforce++', { groups: ['a', 'b'], rewards: [1, 0], lengths: [1, 3] });
    const std = Math.sqrt(0.25 + 1e-8);
    close(a[0], 0.75 / std);
    close(a[1], -0.25 / std);
  });
  it('group advantages sum to zero in every group (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 4 }), fc.constantFrom(0, 0.1, 0.9, 1), fc.integer({ min: 1, max: 20 })), { minLength: 1, maxLength: 40 }),
        fc.constantFrom('grpo', 'drgrpo', 'rloo', 'reinforce++-baseline' as const),
        (rows, name) => {
          const groups = rows.map((r) => r[0]);
          const a = computeAdvantages(name, { groups, rewards: rows.map((r) => r[1]), lengths: rows.map((r) => r[2]) });
          for (const g of new Set(groups)) {
            let s = 0;
            groups.forEach((h, i) => h === g && (s += a[i]));
            close(s, 0, 1e-9);
          }
        },
      ),
    );
  });
  it('rejects non-finite rewards and shape mismatches, naming the response', () => {
    assert.throws(
      () => computeAdvantages('grpo', { groups: [1, 1], rewards: [1, NaN] }),
      (e: unknown) => e instanceof AlgoInputError && e.where.response === 1,
    );
    assert.throws(() => computeAdvantages('grpo', { groups: [1], rewards: [1, 2] }), /1 group ids but 2 rewards/);
  });
  it('every registered estimator is reachable by name', () => {
    for (const name of ADVANTAGE_ESTIMATORS) assert.equal(computeAdvantages(name, { groups: [1, 1], rewards: [0, 1] }).length, 2);
  });
});

describe('DAPO dynamic sampling', () => {
  it('drops all-equal groups and reports them', () => {
    const r = dynamicSamplingFilter(['a', 'a', 'b', 'b', 'c', 'c'], [1, 1, 0, 1, 0, 0]);
    assert.deepEqual(r.keep, [false, false, true, true, false, false]);
    assert.deepEqual(r.keptGroups, ['b']);
    assert.deepEqual(r.droppedGroups, [
      { group: 'a', value: 1, size: 2 },
      { group: 'c', value: 0, size: 2 },
    ]);
  });
});
