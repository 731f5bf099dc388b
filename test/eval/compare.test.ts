import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ablationArms, compareTable, formatCompareTable, meanInterval, pairedGain } from '../../src/eval/compare.ts';
import type { EvalReport } from '../../src/eval/evaluate.ts';

const report = (overall: number, geo: number, vo: number): EvalReport => ({
  k: 8,
  temperature: 1,
  greedy: false,
  overall: { accuracy: overall, n: 10 },
  format: 1,
  by_family: { geometry: { accuracy: geo, n: 10 } },
  by_variant: { 'vision-only': { accuracy: vo, n: 5 }, 'text-dominant': { accuracy: 0.9, n: 5 } },
  by_family_variant: {},
  problems: [],
});

test('mean and 95% t-interval over seeds', () => {
  const c = meanInterval([0.5, 0.6, 0.7]);
  assert.ok(Math.abs(c.mean! - 0.6) < 1e-12);
  // sd = 0.1, t(2) = 4.303: half-width 0.1 * 4.303 / sqrt(3)
  assert.ok(Math.abs(c.hi! - c.mean! - (0.1 * 4.303) / Math.sqrt(3)) < 1e-9);
  assert.deepEqual(meanInterval([0.4]), { mean: 0.4, lo: null, hi: null, n: 1 });
  assert.equal(meanInterval([]).mean, null);
});

test('the table has one row per arm and columns family, variants (MathVerse order), overall', () => {
  const t = compareTable(
    [
      { arm: 'dapo', reports: [report(0.5, 0.4, 0.3), report(0.6, 0.5, 0.4)] },
      { arm: 'pgpo', reports: [report(0.7, 0.6, 0.5), report(0.7, 0.6, 0.5)] },
    ],
    2,
  );
  assert.deepEqual(t.columns, ['geometry', 'text-dominant', 'vision-only', 'overall']);
  assert.deepEqual(t.rows.map((r) => r.algo), ['dapo', 'pgpo']);
  assert.ok(Math.abs(t.rows[0].cells[3].mean! - 0.55) < 1e-12);
  assert.equal(t.rows[1].cells[3].hi, t.rows[1].cells[3].mean, 'no spread, zero-width interval');
  assert.match(formatCompareTable(t), /\| pgpo \| 60\.0 ± 0\.0 \|/);
});

test('ablation arms: components and the tau x beta grid without repeating the default', () => {
  const names = ablationArms().map((a) => a.name);
  assert.deepEqual(names.slice(0, 4), ['pgpo', 'no-norm', 'suppress-only', 'boost-only']);
  assert.equal(names.length, 4 + 5);
  assert.ok(names.includes('tau0.2-beta1') && names.includes('tau0.6-beta2') && !names.includes('tau0.4-beta2'));
});

test('paired gain: mean per-problem difference with a 95% interval, over the shared problems only', () => {
  const withProblems = (correct: number[], ids = correct.map((_, i) => `p${i}`)): EvalReport => ({
    ...report(0, 0, 0),
    problems: correct.map((c, i) => ({ id: ids[i], family: 'geometry', variant: 'vision-only', correct: c, k: 8, sample: '' })),
  });
  const base = withProblems([0, 2, 4, 8]);
  const trained = withProblems([2, 2, 6, 8, 1], ['p0', 'p1', 'p2', 'p3', 'extra']);
  const g = pairedGain(base, trained);
  // differences 2/8, 0, 2/8, 0: mean 1/8, sd = 0.1443..., se = sd/2
  assert.equal(g.n, 4);
  assert.ok(Math.abs(g.gain - 0.125) < 1e-12);
  const sd = Math.sqrt((2 * 0.125 ** 2 + 2 * 0.125 ** 2) / 3);
  assert.ok(Math.abs(g.hi! - g.gain - (1.96 * sd) / 2) < 1e-12);
  // the same reports give zero gain and a zero-width interval
  const same = pairedGain(base, base);
  assert.equal(same.gain, 0);
  assert.equal(same.lo, 0);
  assert.equal(same.hi, 0);
});
