import assert from 'node:assert/strict';
import { test } from 'node:test';
import { shuffleWithinGroups } from '../../src/algo/placebo.ts';
import { Rng } from '../../src/engine/rng.ts';

const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);

test("shuffleWithinGroups keeps each group's values and only moves them within the group", () => {
  const values = [1, 0, 0, 1, 0.5, 0.2, 0.9, 0, 0, 0];
  const groups = [0, 0, 0, 0, 1, 1, 1, 2, 2, 2];
  const rng = Rng.seeded(1);
  let moved = 0;
  for (let t = 0; t < 50; t++) {
    const out = shuffleWithinGroups(values, groups, (n) => rng.int(n));
    for (const g of [0, 1, 2]) {
      const pick = (xs: number[]) => xs.filter((_, i) => groups[i] === g);
      assert.deepEqual(sorted(pick(out)), sorted(pick(values)), `group ${g} lost or gained a value`);
    }
    if (out.some((v, i) => v !== values[i])) moved++;
  }
  assert.ok(moved > 40, `the shuffle left the rewards in place in ${50 - moved} of 50 draws`);
});

test('shuffleWithinGroups draws every arrangement of a group about equally often', () => {
  const rng = Rng.seeded(2);
  const counts = new Map<string, number>();
  const N = 6000;
  for (let t = 0; t < N; t++) {
    const key = shuffleWithinGroups([1, 2, 3], [0, 0, 0], (n) => rng.int(n)).join(',');
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  assert.equal(counts.size, 6);
  for (const [key, c] of counts) assert.ok(Math.abs(c - N / 6) < 150, `${key}: ${c} of ${N}, expected ~${N / 6}`);
});

test('shuffleWithinGroups refuses mismatched lengths', () => {
  assert.throws(() => shuffleWithinGroups([1, 2], [0], () => 0), /2 values but 1 group ids/);
});
