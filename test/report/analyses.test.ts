import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  classifyTokens,
  dependencyByClass,
  dependencyByVariant,
  dependencyHistogram,
  detectCollapse,
  ladderSummary,
  metricSeries,
  pgVarianceByAlgo,
  pgVarianceRatio,
  rungOrder,
  smooth,
  weightByClass,
  type Point,
} from '../../src/report/analyses.ts';

const close = (a: number, b: number, tol = 1e-9) => assert.ok(Math.abs(a - b) <= tol, `${a} != ${b}`);

describe('dependency histogram', () => {
  it('bins log10(S), counts S <= floor apart, and reports sparsity', () => {
    const s = [0, 1e-8, 0.001, 0.01, 0.1, 1, 10, 10, 0.5, 0.2];
    const h = dependencyHistogram(s, { bins: 7, floor: 1e-6 });
    assert.equal(h.tokens, 10);
    assert.equal(h.belowFloor, 2);
    assert.equal(
      h.counts.reduce((a, b) => a + b, 0),
      8,
    );
    assert.equal(h.edges.length, 8);
    close(h.edges[0], -6);
    // decades -6..1 in 7 bins of width ~1: 10 lands in the last bin, 0.001 in bin 3
    assert.equal(h.counts[6], 2);
    assert.equal(h.counts[3], 1);
    const total = s.reduce((a, b) => a + b, 0);
    close(h.top10Share, 10 / total); // ceil(1) = the single largest token
    assert.equal(h.concentration.at(-1)!.share, 1);
    close(h.median, (0.1 + 0.2) / 2);
  });
  it('all-zero S: everything below the floor, share 0, no NaN edges', () => {
    const h = dependencyHistogram([0, 0, 0]);
    assert.equal(h.belowFloor, 3);
    assert.equal(h.top10Share, 0);
    assert.ok(h.edges.every(Number.isFinite));
  });
});

describe('token classes', () => {
  const pieces = ['<think>', 'A', '=', '5', '0', ' B', '=', '60', ' C', '=', '7', ' ', '180', '-', '50', '-', '60', '=', '70', '</think>', ' \\boxed{', '70', '}'];
  it('classifies the solution layout: read, given, computed, operators, template', () => {
    const c = classifyTokens(pieces, ['50', '60', '7'], ['7']);
    assert.deepEqual(
      pieces.map((p, i) => `${p}:${c[i]}`),
      [
        '<think>:template',
        'A:template',
        '=:operator',
        '5:image-digit',
        '0:image-digit',
        ' B:template',
        '=:operator',
        '60:image-digit',
        ' C:template',
        '=:operator',
        '7:text-digit',
        ' :template',
        '180:computed-digit',
        '-:operator',
        '50:image-digit',
        '-:operator',
        '60:image-digit',
        '=:operator',
        '70:computed-digit',
        '</think>:template',
        ' \\boxed{:template',
        '70:computed-digit',
        '}:template',
      ],
    );
  });
  it('a result equal to an image value is still computed; values compare as numbers', () => {
    const c = classifyTokens(['10', '+', '20', '=', '30.0'], ['10', '20', '30'], []);
    assert.deepEqual(c, ['image-digit', 'operator', 'image-digit', 'operator', 'computed-digit']);
    assert.deepEqual(classifyTokens(['x=', '50.0'], ['50'], []), ['operator', 'image-digit']);
  });
  it('a token spanning a number and an operator takes the number class', () => {
    assert.deepEqual(classifyTokens(['A=5', '0'], ['50'], []), ['image-digit', 'image-digit']);
  });
  it('averages S and log(1+S) per class', () => {
    const stats = dependencyByClass([{ pieces: ['A', '=', '5', ' \\boxed{', '9', '}'], dep: [0, 0.5, 3, 0, 1, 0], image_values: ['5'], text_values: [] }]);
    const by = Object.fromEntries(stats.map((s) => [s.cls, s]));
    assert.equal(by['image-digit'].tokens, 1);
    close(by['image-digit'].meanS, 3);
    close(by['image-digit'].shareOfS, 3 / 4.5);
    close(by['computed-digit'].meanLog1pS, Math.log(2));
    assert.equal(by.template.tokens, 3);
    assert.ok(Number.isNaN(by['text-digit'].meanS));
  });
  it('mean weight, boosted share (w > 1) and share of weight per class; responses without weights are skipped', () => {
    const stats = weightByClass([
      // A template, = operator, 5 image digit, \boxed{ template, 9 computed (boxed), } template; weights sum to 6 over 6 tokens
      { pieces: ['A', '=', '5', ' \\boxed{', '9', '}'], weights: [0.5, 1, 3, 0, 1.5, 0], image_values: ['5'], text_values: [] },
      // DAPO-like: no weights, left out
      { pieces: ['5', '=', '5'], weights: [], image_values: ['5'], text_values: [] },
      // 7 + 7 with 7 given in the text: two text digits and an operator; weights sum to 3
      { pieces: ['7', '+', '7'], weights: [2, 0.5, 0.5], image_values: [], text_values: ['7'] },
    ]);
    const by = Object.fromEntries(stats.map((s) => [s.cls, s]));
    assert.deepEqual(
      stats.map((s) => s.tokens),
      [1, 2, 1, 2, 3],
    );
    close(by['image-digit'].meanWeight, 3);
    assert.equal(by['image-digit'].boosted, 1);
    close(by['text-digit'].meanWeight, 1.25);
    assert.equal(by['text-digit'].boosted, 0.5);
    close(by['computed-digit'].meanWeight, 1.5);
    close(by.operator.meanWeight, 0.75);
    assert.equal(by.operator.boosted, 0); // a weight of exactly 1 is not boosted
    close(by.template.meanWeight, 0.5 / 3);
    assert.equal(by.template.boosted, 0);
    // total weight 9: 3 + 2.5 + 1.5 + 1.5 + 0.5
    close(by['image-digit'].shareOfWeight, 3 / 9);
    close(by['text-digit'].shareOfWeight, 2.5 / 9);
    close(by.template.shareOfWeight, 0.5 / 9);
    close(
      stats.reduce((a, s) => a + s.shareOfWeight, 0),
      1,
    );
  });
  it('no weighted response: NaN means, zero shares', () => {
    const stats = weightByClass([{ pieces: ['1'], weights: [], image_values: ['1'], text_values: [] }]);
    assert.ok(stats.every((s) => s.tokens === 0 && Number.isNaN(s.meanWeight) && Number.isNaN(s.boosted) && s.shareOfWeight === 0));
  });
});

describe('S by variant', () => {
  it('groups by variant, vision-only first and text-dominant last', () => {
    const v = dependencyByVariant([
      { variant: 'text-dominant', dep: [0, 0.2] },
      { variant: 'vision-only', dep: [1, 3] },
      { variant: 'vision-only', dep: [0, 1] },
      { variant: 'mixed', dep: [0.5] },
    ]);
    assert.deepEqual(
      v.map((x) => x.variant),
      ['vision-only', 'mixed', 'text-dominant'],
    );
    close(v[0].meanS, 5 / 4);
    close(v[0].meanMaxS, 2);
    assert.equal(v[0].responses, 2);
    close(v[2].meanLog1pS, Math.log1p(0.2) / 2);
  });
});

describe('curves and collapse', () => {
  const steps = (f: (i: number) => number, n = 60): Point[] => Array.from({ length: n }, (_, i) => [i + 1, f(i)] as const);
  it('metricSeries skips null and missing values; smooth is a trailing mean', () => {
    const s = metricSeries([{ step: 1, a: 1 }, { step: 2, a: null }, { step: 3 }, { step: 4, a: 3 }], 'a');
    assert.deepEqual(s, [
      [1, 1],
      [4, 3],
    ]);
    assert.deepEqual(
      smooth(
        [
          [1, 1],
          [2, 3],
          [3, 5],
        ],
        2,
      ),
      [
        [1, 1],
        [2, 2],
        [3, 4],
      ],
    );
  });
  it('flags DAPO-like collapse: accuracy falls after a peak while entropy spikes', () => {
    const acc = steps((i) => (i < 40 ? 0.2 + 0.015 * i : 0.8 - 0.03 * (i - 40)));
    const ent = steps((i) => (i < 40 ? 0.5 : 0.5 + 0.1 * (i - 40)));
    const r = detectCollapse(acc, ent);
    assert.equal(r.collapsed, true, r.reason);
    assert.ok(r.accuracyDrop!.peakStep >= 38 && r.accuracyDrop!.peakStep <= 44);
    assert.ok(r.entropySpike!.ratio > 2);
    assert.ok(r.onsetStep! > r.accuracyDrop!.peakStep);
    assert.match(r.reason, /accuracy fell .* entropy rose/);
  });
  it('does not flag steady learning, nor a drop without an entropy spike', () => {
    const rising = detectCollapse(
      steps((i) => 0.2 + 0.01 * i),
      steps(() => 0.5),
    );
    assert.equal(rising.collapsed, false);
    assert.equal(rising.accuracyDrop!.flagged, false);
    const drop = detectCollapse(
      steps((i) => (i < 40 ? 0.8 : 0.5)),
      steps(() => 0.5),
    );
    assert.equal(drop.collapsed, false);
    assert.equal(drop.accuracyDrop!.flagged, true);
    assert.match(drop.reason, /without an entropy spike/);
  });
  it('refuses to judge a short run', () => {
    const r = detectCollapse(
      steps(() => 0.5, 5),
      steps(() => 0.5, 5),
    );
    assert.equal(r.collapsed, false);
    assert.match(r.reason, /too few steps/);
  });
});

describe('policy-gradient variance across algorithms', () => {
  it('geometric means per algorithm, the PGPO/DAPO ratio and the paired same-batch ratio', () => {
    const s = pgVarianceByAlgo([
      {
        algo: 'dapo',
        pgVar: [
          [1, 2],
          [2, 8],
        ],
      },
      { algo: 'dapo', pgVar: [[1, 4]] },
      {
        algo: 'pgpo',
        pgVar: [
          [1, 1],
          [2, 4],
          [3, 0],
        ],
        pgVarUniform: [
          [1, 2],
          [2, 2],
        ],
      },
    ]);
    const dapo = s.find((x) => x.algo === 'dapo')!;
    const pgpo = s.find((x) => x.algo === 'pgpo')!;
    assert.equal(dapo.runs, 2);
    close(dapo.geoMean, 4);
    close(pgpo.geoMean, 2);
    assert.equal(pgpo.steps, 2);
    close(pgpo.pairedRatio, 1); // sqrt(0.5 * 2)
    assert.ok(Number.isNaN(dapo.pairedRatio));
    close(pgVarianceRatio(s), 0.5);
    assert.ok(Number.isNaN(pgVarianceRatio(s, 'pgpo', 'grpo')));
  });
});

describe('ladder world summary', () => {
  it('pools evaluations weighted by their problems (accuracy) and samples (prior share); none for classic evaluations', () => {
    assert.equal(ladderSummary([{}, {}]), null);
    const s = ladderSummary([
      { by_rung: { 'rung 10': { accuracy: 0.5, n: 10 }, 'rung 2': { accuracy: 1, n: 30 } }, prior: { n: 100, rate: 0.2 }, prior_by_rung: { 'rung 2': { n: 100, rate: 0.2 } } },
      { by_rung: { 'rung 2': { accuracy: 0.6, n: 10 } }, prior: { n: 300, rate: 0.6 }, prior_by_rung: { 'rung 2': { n: 300, rate: 0.6 } } },
      {},
    ])!;
    assert.deepEqual(s.rungs, ['rung 2', 'rung 10']);
    assert.equal(s.evaluations, 2);
    close(s.accuracy['rung 2'].accuracy, 0.9); // (30 + 6) / 40
    assert.equal(s.accuracy['rung 2'].n, 40);
    assert.deepEqual(s.accuracy['rung 10'], { accuracy: 0.5, n: 10 });
    close(s.prior!.rate, 0.5); // (20 + 180) / 400
    assert.equal(s.prior!.n, 400);
    assert.equal(s.priorByRung['rung 10'], undefined);
    assert.deepEqual(['rung 10', 'rung 1', 'rung 3'].sort(rungOrder), ['rung 1', 'rung 3', 'rung 10']);
  });
});
