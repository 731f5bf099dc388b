import assert from 'node:assert/strict';
import { test } from 'node:test';
import { useOf } from '../../src/tasks/index.ts';
import {
  ablationArms,
  armDifference,
  armDifferences,
  compareTable,
  formatByShare,
  formatCompareTable,
  formatDifferences,
  formatGain,
  formatFamilySplitTable,
  formatSplitTable,
  meanInterval,
  pairedGain,
  poolReports,
  t975,
} from '../../src/eval/compare.ts';
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
  assert.deepEqual(
    t.rows.map((r) => r.algo),
    ['dapo', 'pgpo'],
  );
  assert.ok(Math.abs(t.rows[0].cells[3].mean! - 0.55) < 1e-12);
  assert.equal(t.rows[1].cells[3].hi, t.rows[1].cells[3].mean, 'no spread, zero-width interval');
  assert.match(formatCompareTable(t), /\| pgpo \| 60\.0 ± 0\.0 \|/);
});

test('ablation arms: components and the tau x beta grid without repeating the default', () => {
  const names = ablationArms().map((a) => a.name);
  assert.deepEqual(names.slice(0, 5), ['pgpo', 'no-norm', 'suppress-only', 'boost-only', 'uniform']);
  assert.equal(ablationArms().find((a) => a.name === 'uniform')?.algo, 'dapo', 'PGPO with every weight 1 is trained as DAPO');
  assert.equal(names.length, 5 + 5);
  assert.ok(names.includes('tau0.2-beta1') && names.includes('tau0.6-beta2') && !names.includes('tau0.4-beta2'));
});

test('paired gain: mean per-row difference with a 95% t-interval, over the shared rows only', () => {
  const withProblems = (correct: number[], ids = correct.map((_, i) => `p${i}`)): EvalReport => ({
    ...report(0, 0, 0),
    problems: correct.map((c, i) => ({ id: ids[i], family: 'geometry', variant: 'vision-only', correct: c, k: 8, sample: '' })),
  });
  const base = withProblems([0, 2, 4, 8]);
  const trained = withProblems([2, 2, 6, 8, 1], ['p0', 'p1', 'p2', 'p3', 'extra']);
  const g = pairedGain(base, trained);
  // differences 2/8, 0, 2/8, 0: mean 1/8, sd = 0.1443..., se = sd/2, t with 3 degrees of freedom
  assert.equal(g.n, 4);
  assert.equal(g.clusters, 4);
  assert.ok(Math.abs(g.gain - 0.125) < 1e-12);
  const sd = Math.sqrt((2 * 0.125 ** 2 + 2 * 0.125 ** 2) / 3);
  assert.ok(Math.abs(g.hi! - g.gain - (3.182 * sd) / 2) < 1e-12);
  // the same reports give zero gain and a zero-width interval
  const same = pairedGain(base, base);
  assert.equal(same.gain, 0);
  assert.equal(same.lo, 0);
  assert.equal(same.hi, 0);
});

test('paired gain: the variants of one problem are one unit of the interval', () => {
  const keyed = (correct: number[], keys: string[]): EvalReport => ({
    ...report(0, 0, 0),
    problems: correct.map((c, i) => ({ id: `p${i}`, family: 'chart', variant: 'text-lite', problem_key: keys[i], correct: c, k: 8, sample: '' })),
  });
  const base = keyed([0, 0, 0, 0], ['a', 'a', 'b', 'b']);
  const trained = keyed([2, 2, 0, 0], ['a', 'a', 'b', 'b']);
  // d = 1/4, 1/4, 0, 0; gain 1/8. Clusters a, b: e = +1/4, -1/4; se^2 = 2/1 * (2/16) / 16 = 1/64
  const g = pairedGain(base, trained);
  assert.equal(g.n, 4);
  assert.equal(g.clusters, 2);
  assert.ok(Math.abs(g.gain - 0.125) < 1e-12);
  assert.ok(Math.abs(g.hi! - g.gain - 12.706 * 0.125) < 1e-12);
  // the same rows taken as independent would claim a far narrower interval (t 3.182, se 1/(8 sqrt 3))
  const flat = pairedGain(keyed([0, 0, 0, 0], ['a', 'b', 'c', 'd']), keyed([2, 2, 0, 0], ['a', 'b', 'c', 'd']));
  assert.ok(Math.abs(flat.hi! - flat.gain - 3.182 / (8 * Math.sqrt(3))) < 1e-12);
  assert.ok(g.hi! - g.gain > 6 * (flat.hi! - flat.gain));
  assert.match(formatGain(base, trained), /^gain: \+12\.5 points overall \(0\.0% -> 0\.0%; 95% interval -146\.3 to \+171\.3, paired over 2 problems \(4 rows\)\) — within the evaluation noise$/);
});

test('gain: two evaluations of different suites share no row, and the line says so instead of pairing nothing', () => {
  const rows = (ids: string[]): EvalReport => ({ ...report(0.25, 0, 0), problems: ids.map((id) => ({ id, family: 'chart', variant: 'text-lite', problem_key: id, correct: 2, k: 8, sample: '' })) });
  assert.equal(pairedGain(rows(['a', 'b']), rows(['c', 'd'])).n, 0);
  assert.match(formatGain(rows(['a', 'b']), rows(['c', 'd'])), /^gain: none measured: the two evaluations share no row \(other suite settings\?\)/);
  assert.match(formatGain(rows(['a', 'b', 'c']), rows(['a', 'b', 'd'])), /\(only 2 of 3 rows in common: other suite settings\?\)$/);
  assert.doesNotMatch(formatGain(rows(['a', 'b']), rows(['a', 'b'])), /only/);
});

test('pooled evaluations: each row sums its samples over the reports, rows missing from one are dropped', () => {
  const rows = (correct: number[], ids = correct.map((_, i) => `p${i}`)): EvalReport => ({
    ...report(0, 0, 0),
    problems: correct.map((c, i) => ({ id: ids[i], family: 'chart', variant: 'text-lite', problem_key: ids[i], correct: c, k: 8, sample: '' })),
  });
  const pooled = poolReports([rows([0, 8, 4]), rows([8, 8, 4]), rows([4, 8], ['p0', 'p1'])]);
  assert.equal(pooled.k, 24);
  assert.deepEqual(
    pooled.problems.map((p) => [p.id, p.correct, p.k]),
    [
      ['p0', 12, 24],
      ['p1', 24, 24],
    ],
  );
  assert.equal(pooled.overall.accuracy, 0.75);
  assert.equal(pooled.overall.n, 2);
  // the breakdowns are the pooled rows', not the first report's
  assert.equal(pooled.by_family.chart.accuracy, 0.75);
  assert.equal(poolReports([rows([0, 0]), rows([8, 8])]).by_variant['text-lite'].accuracy, 0.5);
  // a gain over pooled reports is the mean of the per-seed gains when every report has the same rows
  const [b1, b2, t1, t2] = [rows([0, 2, 4, 6]), rows([2, 2, 4, 8]), rows([2, 4, 4, 6]), rows([2, 2, 8, 8])];
  const mean = (pairedGain(b1, t1).gain + pairedGain(b2, t2).gain) / 2;
  assert.ok(Math.abs(pairedGain(poolReports([b1, b2]), poolReports([t1, t2])).gain - mean) < 1e-12);
  assert.throws(() => poolReports([]), /no report/);
});

test('t975: the table, then the Cornish-Fisher expansion within 2e-4 of the exact quantiles', () => {
  assert.equal(t975(1), 12.706);
  assert.equal(t975(30), 2.042);
  // exact 97.5% quantiles (R: qt(0.975, df))
  for (const [df, q] of [
    [31, 2.039513],
    [40, 2.021075],
    [60, 2.000298],
    [139, 1.977178],
    [1000, 1.962339],
  ] as const)
    assert.ok(Math.abs(t975(df) - q) < 2e-4, `df ${df}: ${t975(df)} vs ${q}`);
  assert.throws(() => t975(0), /degrees of freedom/);
});

test('by share of the key split: each share its rows, accuracy and paired gain; none without problem keys', () => {
  // problem keys are hashes; hex digits 8-16 below half of 2^32 reserve a problem for RL at rl_fraction 0.5
  const rl = ['0000000010000000', '000000007fffffff'];
  const sft = ['0000000080000000', '00000000f0000000'];
  assert.deepEqual(
    [...rl, ...sft].map((k) => useOf(k, 0.5)),
    ['rl', 'rl', 'sft', 'sft'],
  );
  const rows = (correct: (key: string) => number): EvalReport => ({
    ...report(0, 0, 0),
    problems: [...rl, ...sft].map((k) => ({ id: k, family: 'chart', variant: 'text-lite', problem_key: k, correct: correct(k), k: 8, sample: '' })),
  });
  const base = rows(() => 2);
  const trained = rows((k) => (rl.includes(k) ? (k === rl[0] ? 6 : 4) : 2)); // RL's problems +0.5 and +0.25, SFT's unchanged
  const out = formatByShare(trained, 0.5, base) ?? '';
  assert.match(out, /^by the key split \(experiment\.rl_fraction 0\.5\):/);
  assert.match(out, /SFT's problems +2 rows +25\.0% +gain \+0\.0 points \(95% interval \+0\.0 to \+0\.0, 2 problems\)/);
  // d = 0.5, 0.25: mean 0.375, sd 0.177, t(1) 12.706: half-width 12.706 * 0.125 = 1.588
  assert.match(out, /RL's problems +2 rows +62\.5% +gain \+37\.5 points \(95% interval -121\.3 to \+196\.3, 2 problems\)/);
  assert.doesNotMatch(formatByShare(trained, 0.5) ?? '', /gain/);
  assert.equal(formatByShare({ ...trained, problems: trained.problems.map(({ problem_key: _k, ...p }) => p) }, 0.5), null);
});

test('arm difference: Welch interval over the replicates, by hand', () => {
  // a: mean 0.6, s^2 = 0.01, n 3 -> 0.01/3; b: mean 0.45, s^2 = 0.005, n 2 -> 0.0025
  const d = armDifference('pgpo', [0.5, 0.6, 0.7], 'dapo', [0.4, 0.5]);
  assert.ok(Math.abs(d.diff - 0.15) < 1e-12);
  const v = 0.01 / 3 + 0.0025;
  const df = v ** 2 / ((0.01 / 3) ** 2 / 2 + 0.0025 ** 2 / 1);
  assert.ok(Math.abs(d.df! - df) < 1e-9 && df > 2 && df < 3);
  // t975 at 2 degrees of freedom (the fractional df rounds down: the wider interval)
  assert.ok(Math.abs(d.hi! - 0.15 - 4.303 * Math.sqrt(v)) < 1e-9);
  assert.ok(Math.abs(d.hi! - d.diff - (d.diff - d.lo!)) < 1e-12);
  // one replicate a side has an unmeasured spread, and no spread at all is no evidence: no interval
  const one = armDifference('pgpo', [0.5, 0.6, 0.7], 'base', [0.3]);
  assert.ok(Math.abs(one.diff - 0.3) < 1e-12);
  assert.equal(one.lo, null);
  assert.equal(armDifference('a', [0.5, 0.5], 'b', [0.3, 0.3]).lo, null);
  assert.throws(() => armDifference('a', [], 'b', [0.3]), /a has no replicate/);
  const md = formatDifferences([d, armDifference('x', [0.1, 0.12], 'y', [0.5, 0.52]), armDifference('u', [0.5, 0.51], 'v', [0.5, 0.52])]);
  assert.match(md, /\| pgpo − dapo \| \+15\.0 \| -[0-9.]+ to \+[0-9.]+ \| not told apart \|/);
  assert.match(md, /\| x − y \| -40\.0 \| .* \| y ahead \|/);
  // a rate that is not a score (the share answering a misleading prior) is read as higher, not ahead
  assert.match(formatDifferences([armDifference('x', [0.1, 0.12], 'y', [0.5, 0.52])], 'higher'), /\| x − y \| -40\.0 \| .* \| y higher \|/);
});

test('pooled evaluations add up the prior answers, and the split table reads them with the error classes', () => {
  const row = (answered: number, errors: Record<'correct' | 'computation' | 'misread' | 'unformatted', number>) => ({
    id: 'p0',
    family: 'chart',
    variant: 'text-lite',
    problem_key: 'p0',
    correct: errors.correct,
    k: 8,
    sample: '',
    rung: 3,
    answered_prior: answered,
    errors,
  });
  const a: EvalReport = { ...report(0, 0, 0), problems: [row(2, { correct: 4, computation: 1, misread: 2, unformatted: 1 })] };
  const b: EvalReport = { ...report(0, 0, 0), problems: [row(6, { correct: 0, computation: 0, misread: 8, unformatted: 0 })] };
  const pooled = poolReports([a, b]);
  assert.equal(pooled.problems[0].answered_prior, 8);
  assert.equal(pooled.prior!.rate, 8 / 16);
  // accuracy 4/16, prior 8/16, misread 10/16, computed wrong 1/16, unformatted 1/16
  assert.match(formatSplitTable([{ arm: 'dapo', reports: [a, b] }]), /\| dapo \| 25\.0 \| 50\.0 \| 62\.5 \| 6\.3 \| 6\.3 \|/);
});

test('the split per family: each family its own errors and prior answers, pooled over the evaluations; families without a gold solution or a prior show –', () => {
  const row = (id: string, family: string, answered: number | undefined, errors: Record<'correct' | 'computation' | 'misread' | 'unformatted', number> | undefined, correct: number) => ({
    id,
    family,
    variant: 'text-lite',
    correct,
    k: 8,
    sample: '',
    rung: 3,
    ...(answered !== undefined ? { answered_prior: answered } : {}),
    ...(errors ? { errors } : {}),
  });
  const a: EvalReport = {
    ...report(0, 0, 0),
    problems: [
      row('c', 'chart', 4, { correct: 2, computation: 6, misread: 0, unformatted: 0 }, 2),
      row('n', 'counting', undefined, { correct: 0, computation: 0, misread: 8, unformatted: 0 }, 0),
      row('o', 'other', undefined, undefined, 8),
    ],
  };
  const b: EvalReport = {
    ...report(0, 0, 0),
    problems: [
      row('c', 'chart', 2, { correct: 4, computation: 2, misread: 2, unformatted: 0 }, 4),
      row('n', 'counting', undefined, { correct: 4, computation: 0, misread: 4, unformatted: 0 }, 4),
      row('o', 'other', undefined, undefined, 8),
    ],
  };
  const pooled = poolReports([a, b]);
  assert.deepEqual(pooled.errors!.by_family!.chart, { correct: 6 / 16, computation: 8 / 16, misread: 2 / 16, unformatted: 0 });
  assert.equal(pooled.errors!.by_family!.other, undefined);
  assert.deepEqual(pooled.prior_by_family, { chart: { n: 16, rate: 6 / 16 } });
  const md = formatFamilySplitTable([{ arm: 'dapo', reports: [a, b] }]);
  // chart: accuracy 6/16, prior 6/16, misread 2/16, computed wrong 8/16
  assert.match(md, /\| chart \| dapo \| 37\.5 \| 37\.5 \| 12\.5 \| 50\.0 \| 0\.0 \|/);
  assert.match(md, /\| counting \| dapo \| 25\.0 \| – \| 75\.0 \| 0\.0 \| 0\.0 \|/);
  assert.match(md, /\| other \| dapo \| 100\.0 \| – \| – \| – \| – \|/);
});

test('armDifferences: each trained arm against DAPO and the base rows; in an ablation against full PGPO, or uniform without it', () => {
  const arm = (name: string, accs: number[], prior: number[]) => ({ arm: name, reports: accs.map((a, i) => ({ ...report(a, 0, 0), prior: { n: 10, rate: prior[i] } })) });
  const results = [arm('base@0.2', [0.3, 0.31], [0.9, 0.92]), arm('base', [0.2, 0.22], [0.6, 0.62]), arm('dapo', [0.25, 0.27], [0.8, 0.84]), arm('pgpo', [0.24, 0.28], [0.7, 0.74])];
  const acc = armDifferences(results, { ablation: false, measure: (r) => r.overall.accuracy });
  assert.deepEqual(
    acc.map((d) => `${d.a}-${d.b}`),
    ['dapo-base@0.2', 'dapo-base', 'pgpo-dapo', 'pgpo-base@0.2', 'pgpo-base'],
  );
  assert.ok(Math.abs(acc[2].diff - 0) < 1e-12, 'pgpo and dapo have the same mean accuracy');
  // the same pairs over another measure: pgpo's prior share is 0.72 against dapo's 0.82
  const prior = armDifferences(results, { ablation: false, measure: (r) => r.prior!.rate });
  assert.ok(Math.abs(prior[2].diff - -0.1) < 1e-12);
  const ablation = [arm('pgpo', [0.24, 0.28], [0.7, 0.74]), arm('uniform', [0.25, 0.27], [0.8, 0.84]), arm('no-norm', [0.2, 0.22], [0.7, 0.7])];
  assert.deepEqual(
    armDifferences(ablation, { ablation: true, measure: (r) => r.overall.accuracy }).map((d) => `${d.a}-${d.b}`),
    ['pgpo-uniform', 'pgpo-no-norm'],
  );
  assert.deepEqual(
    armDifferences(ablation.slice(1), { ablation: true, measure: (r) => r.overall.accuracy }).map((d) => `${d.a}-${d.b}`),
    ['uniform-no-norm'],
  );
});
