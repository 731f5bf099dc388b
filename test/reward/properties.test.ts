/**
 * Properties of the reward: a value written as an integer, a decimal, a fraction or LaTeX is
 * equal to itself; a perturbed value is not; extraction finds the last box whatever precedes
 * it; the reward is always one of the four sums its weights allow.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { computeReward, isEquivalent } from '../../src/reward/index.ts';

const integer = fc.integer({ min: -100_000, max: 100_000 });

function writings(n: number): string[] {
  return [String(n), `${n}.0`, `${n}.000`, `$${n}$`, `\\text{${n}}`, `\\frac{${2 * n}}{2}`, `${3 * n}/3`, `${n} units`, `x = ${n}`];
}

test('an integer written any way equals itself', () => {
  fc.assert(
    fc.property(integer, fc.nat(8), fc.nat(8), (n, i, j) => {
      const w = writings(n);
      return isEquivalent(w[i], w[j]) && isEquivalent(w[j], String(n));
    }),
  );
});

test('a decimal equals its fraction, both ways', () => {
  fc.assert(
    fc.property(fc.integer({ min: -99_999, max: 99_999 }), fc.constantFrom(2, 4, 5, 8, 10, 20, 25, 100), (num, den) => {
      const dec = String(num / den);
      return isEquivalent(dec, `\\frac{${num}}{${den}}`) && isEquivalent(`${num}/${den}`, dec) && isEquivalent(`\\dfrac{${num}}{${den}}`, dec);
    }),
  );
});

test('a fraction equals its decimal to 10 places', () => {
  fc.assert(fc.property(fc.integer({ min: 1, max: 999 }), fc.integer({ min: 1, max: 999 }), (p, q) => isEquivalent((p / q).toFixed(10), `\\frac{${p}}{${q}}`)));
});

test('LaTeX forms of an integer equal it (compute engine)', () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 60 }), (n) => isEquivalent(`\\sqrt{${n * n}}`, String(n)) && isEquivalent(`${n}\\cdot 1`, `\\frac{${n}}{1}`)),
    { numRuns: 25 },
  );
});

test('a perturbed value is not equal', () => {
  fc.assert(
    fc.property(fc.double({ min: -1e6, max: 1e6, noNaN: true }), fc.double({ min: 1e-3, max: 10, noNaN: true }), fc.boolean(), (x, rel, down) => {
      const delta = Math.max(Math.abs(x), 1) * rel * (down ? -1 : 1);
      return !isEquivalent(String(x + delta), String(x)) && !isEquivalent(String(x), String(x + delta));
    }),
  );
  fc.assert(fc.property(integer, fc.integer({ min: 1, max: 1000 }), (n, d) => !isEquivalent(String(n + d), String(n)) && !isEquivalent(`\\frac{${2 * (n + d)}}{2}`, String(n))));
});

test('the last box is the answer, whatever text precedes it', () => {
  const noBox = fc.string({ maxLength: 60 }).filter((s) => !s.includes('\\boxed') && !s.includes('\\fbox'));
  fc.assert(fc.property(noBox, integer, (prefix, n) => computeReward(`${prefix} \\boxed{${n - 1}} and \\boxed{${n}}`, String(n)).accuracy === 1));
});

test('the reward is always one of the four weighted sums, and never throws', () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 80 }), fc.constantFrom('5', 'B', 'green', '0.5', '\\frac{1}{2}'), (response, gold) => {
      const r = computeReward(response, gold);
      assert.ok([0, 0.1, 0.9, 1].includes(r.reward), `reward ${r.reward}`);
      return r.reward === Math.round((0.9 * r.accuracy + 0.1 * r.format) * 1e12) / 1e12;
    }),
  );
});

test('the common case is fast: well under 50 us per call', () => {
  const cases: Array<[string, string]> = [
    ['<think>A=50 B=60 180-50-60=70</think> \\boxed{70}', '70'],
    ['<think>a=115 180-115=65 D:65</think> \\boxed{D}', 'D'],
    ['<think>x</think> \\boxed{3.50}', '3.5'],
    ['<think>red=1 green=4 max=green</think> \\boxed{green}', 'green'],
    ['no answer at all', '12'],
  ];
  for (let i = 0; i < 2000; i++) computeReward(...cases[i % cases.length]); // warm up
  const n = 20_000;
  const t = performance.now();
  for (let i = 0; i < n; i++) computeReward(...cases[i % cases.length]);
  const us = ((performance.now() - t) * 1000) / n;
  assert.ok(us < 50, `${us.toFixed(2)} us per call`);
});
