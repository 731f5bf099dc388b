import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  classifyRoles,
  classifyTokens,
  dependencyByClass,
  dependencyByRole,
  dependencyByVariant,
  dependencyHistogram,
  detectCollapse,
  ladderSummary,
  metricSeries,
  pgVarianceByAlgo,
  pgVarianceRatio,
  rungOrder,
  smooth,
  TOKEN_ROLES,
  weightByClass,
  weightByRole,
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

describe('token roles', () => {
  const label = (pieces: string[]) => {
    const r = classifyRoles(pieces);
    return pieces.map((p, i) => `${p}:${r[i]}`);
  };
  it('reads the layout by role, whatever the values; a glued token takes the role of its first non-space character', () => {
    // <think>x=66 y=24 66+24=90 A</think> \boxed{A}<eos>, a choice response with glued tokens
    const pieces = ['<think>', 'x', '=6', '6 y', '=', '24', ' ', '66', '+', '24', '=9', '0 ', 'A', '</think> \\boxed{', 'A', '}', '<eos>'];
    assert.deepEqual(label(pieces), [
      '<think>:template',
      'x:value-name',
      '=6:value-name',
      '6 y:written-value',
      '=:value-name',
      '24:written-value',
      ' :template',
      '66:expression',
      '+:expression',
      '24:expression',
      '=9:expression',
      '0 :result',
      'A:result',
      '</think> \\boxed{:template',
      'A:result',
      '}:template',
      '<eos>:template',
    ]);
  });
  it('max= opens the computation; a name glued to a computation; a value without a name; an unfinished computation', () => {
    assert.deepEqual(classifyRoles(['<think>', 'A=', '87', ' max', '=', 'B', '</think>', ' \\boxed{', 'B', '}']), [
      'template',
      'value-name',
      'written-value',
      'expression',
      'expression',
      'result',
      'template',
      'template',
      'result',
      'template',
    ]);
    // y=4+3=7 C: y= still names, 4+3= is the expression; no </think>: the think runs to the end
    assert.deepEqual(classifyRoles(['<think>', 'y', '=', '4', '+', '3', '=', '7', ' C']), [
      'template',
      'value-name',
      'value-name',
      'expression',
      'expression',
      'expression',
      'expression',
      'result',
      'result',
    ]);
    // x=5 7 3+4<eos>: 7 is a written value without a name, 3+4 an expression that never reaches =
    assert.deepEqual(classifyRoles(['<think>x', '=5', ' 7', ' 3', '+4', '<eos>']), ['template', 'value-name', 'written-value', 'expression', 'expression', 'template']);
    // a box inside the box's text and stray text after the box: results, then template
    assert.deepEqual(classifyRoles(['<think>', '1+1=2', '</think> \\boxed{', 'C', '</think> \\boxed{', 'C', '}', 'ed', '}']), [
      'template',
      'expression',
      'template',
      'result',
      'template',
      'result',
      'template',
      'template',
      'template',
    ]);
  });
  // x=66 y=24 66+24=90 \boxed{90}: the image shows 66 and 96, so 66 is read right and 24 misread
  const pieces = ['x', '=', '66', ' y=', '24', ' 66+24=', '90', ' \\boxed{', '90', '}'];
  it('S per role, with written values split into correct and misread', () => {
    const stats = dependencyByRole([{ pieces, dep: [1, 0, 4, 1, 2, 3, 0.5, 0, 0.5, 0], image_values: ['66', '96'], text_values: [] }]);
    const by = Object.fromEntries(stats.map((s) => [s.row, s]));
    assert.deepEqual(
      stats.map((s) => [s.row, s.tokens]),
      [
        ['value-name', 3],
        ['written-value', 2],
        ['written-correct', 1],
        ['written-misread', 1],
        ['expression', 1],
        ['result', 2],
        ['template', 2],
      ],
    );
    // total S 12
    close(by['value-name'].meanS, 2 / 3);
    close(by['value-name'].shareOfS, 2 / 12);
    close(by['written-value'].meanS, 3);
    close(by['written-value'].shareOfS, 6 / 12);
    close(by['written-correct'].meanS, 4);
    close(by['written-misread'].shareOfS, 2 / 12);
    close(by.expression.shareOfS, 3 / 12);
    close(by.result.meanS, 0.5);
    close(by.result.meanLog1pS, Math.log(1.5));
    assert.equal(by.template.meanS, 0);
    close(
      TOKEN_ROLES.reduce((a, role) => a + by[role].shareOfS, 0),
      1,
    );
    // a value given in the text is correct too
    const text = Object.fromEntries(dependencyByRole([{ pieces, dep: new Array(10).fill(1), image_values: ['66'], text_values: ['24'] }]).map((s) => [s.row, s]));
    assert.equal(text['written-correct'].tokens, 2);
    assert.equal(text['written-misread'].tokens, 0);
    assert.ok(Number.isNaN(text['written-misread'].meanS));
  });
  it('weights per role: mean, boosted share (w > 1), share of weight; responses without weights are skipped', () => {
    const stats = weightByRole([
      { pieces, weights: [0.5, 0.5, 3, 1, 2, 1.5, 0.5, 0, 1, 0], image_values: ['66', '96'], text_values: [] },
      { pieces: ['x', '=', '5'], weights: [], image_values: ['5'], text_values: [] },
    ]);
    const by = Object.fromEntries(stats.map((s) => [s.row, s]));
    // total weight 10
    close(by['value-name'].meanWeight, 2 / 3);
    assert.equal(by['value-name'].boosted, 0); // 1 is not boosted
    close(by['value-name'].shareOfWeight, 0.2);
    close(by['written-value'].meanWeight, 2.5);
    assert.equal(by['written-value'].boosted, 1);
    close(by['written-correct'].shareOfWeight, 0.3);
    close(by['written-misread'].meanWeight, 2);
    close(by.expression.shareOfWeight, 0.15);
    assert.equal(by.expression.boosted, 1);
    close(by.result.meanWeight, 0.75);
    assert.equal(by.result.boosted, 0);
    assert.equal(by.template.tokens, 2);
    assert.equal(by.template.meanWeight, 0);
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
