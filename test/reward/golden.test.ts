/**
 * Golden verdicts: (prediction, gold, equal?) for every rule of extraction, normalisation and
 * equivalence, each rule in both directions — what it must accept and what it must not.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { computeReward, extractAnswer, isEquivalent } from '../../src/reward/index.ts';

type Case = readonly [pred: string, gold: string, equal: boolean];

/** Answer-level cases: the prediction is an already extracted answer. */
const ANSWERS: Record<string, readonly Case[]> = {
  identical: [
    ['5', '5', true],
    ['70', '70', true],
    ['green', 'green', true],
    ['5', '6', false],
    ['70', '7', false],
    ['-3', '3', false],
  ],
  integersAndDecimals: [
    ['5.0', '5', true],
    ['5.00', '5', true],
    ['05', '5', true],
    ['+5', '5', true],
    ['.5', '0.5', true],
    ['0.50', '.5', true],
    ['1e3', '1000', true],
    ['-0', '0', true],
    ['5.01', '5', false],
    ['0.5', '5', false],
    ['50', '5', false],
    ['-5', '5', false],
    ['1e2', '1000', false],
    ['12', '21', false],
  ],
  tolerance: [
    ['0.3333333', '1/3', true],
    ['0.33333333', '\\frac{1}{3}', true],
    ['2.0000001', '2', true],
    ['1000000.5', '1000000', true],
    ['0.333', '1/3', false],
    ['2.001', '2', false],
    ['1000010', '1000000', false],
    ['0.0001', '0', false],
  ],
  fractions: [
    ['1/2', '0.5', true],
    ['\\frac{1}{2}', '0.5', true],
    ['\\frac12', '1/2', true],
    ['\\dfrac{3}{4}', '0.75', true],
    ['\\tfrac{3}{4}', '3/4', true],
    ['-\\frac{1}{4}', '-0.25', true],
    ['\\frac{-1}{4}', '-1/4', true],
    ['6/4', '1.5', true],
    ['\\frac{2}{4}', '\\frac{1}{2}', true],
    ['1/2', '2', false],
    ['\\frac{1}{3}', '0.3', false],
    ['\\frac{3}{4}', '\\frac{4}{3}', false],
    ['-\\frac{1}{4}', '0.25', false],
    ['1/0', '0', false],
  ],
  dollarsAndText: [
    ['$5$', '5', true],
    ['\\$5', '5', true],
    ['\\text{5}', '5', true],
    ['\\text{green}', 'green', true],
    ['\\textbf{12}', '12', true],
    ['\\mathrm{B}', 'B', true],
    ['$\\frac{1}{2}$', '0.5', true],
    ['$6$', '5', false],
    ['\\text{red}', 'green', false],
    ['\\textbf{21}', '12', false],
  ],
  units: [
    ['5 cm', '5', true],
    ['5cm', '5', true],
    ['12 square units', '12', true],
    ['12 \\text{ cm}^2', '12', true],
    ['30 units', '30', true],
    ['3 apples', '3', true],
    ['15 dollars', '15', true],
    ['6 m', '6', true],
    ['5 cm', '6', false],
    ['12 square units', '21', false],
    ['31 units', '30', false],
    ['4 apples', '3', false],
  ],
  degreesAndPercent: [
    ['70^\\circ', '70', true],
    ['70^{\\circ}', '70', true],
    ['70°', '70', true],
    ['70 degrees', '70', true],
    ['70\\degree', '70', true],
    ['50\\%', '50', true],
    ['50%', '50', true],
    ['70^\\circ', '80', false],
    ['70 degrees', '7', false],
    ['50\\%', '0.5', false],
    ['60%', '50', false],
  ],
  spacingAndDelimiters: [
    ['\\left( 1, 2 \\right)', '(1,2)', true],
    ['(1, 2)', '(1,2)', true],
    ['( 1 ,2 )', '(1, 2.0)', true],
    ['1\\,000', '1000', true],
    ['1,000', '1000', true],
    ['12,345.5', '12345.5', true],
    ['\\!5', '5', true],
    ['5.', '5', true],
    [' 5 ', '5', true],
    ['(2,1)', '(1,2)', false],
    ['(1,2)', '[1,2]', false],
    ['(1,2,3)', '(1,2)', false],
    ['1,000', '1', false],
    ['1,00', '100', false],
  ],
  leadingName: [
    ['x=5', '5', true],
    ['x = 5', '5', true],
    ['y_1 = 7', '7', true],
    ['k=\\frac{1}{2}', '0.5', true],
    ['x=6', '5', false],
    ['x = 5', '-5', false],
  ],
  words: [
    ['Green', 'green', true],
    ['GREEN', 'green', true],
    ['green.', 'green', true],
    ['\\text{Green}', 'green', true],
    [' blue ', 'blue', true],
    ['red', 'green', false],
    ['der', 'red', false],
    ['greens', 'green', false],
    ['5', 'green', false],
    ['green', '5', false],
  ],
  choiceLetters: [
    ['B', 'B', true],
    ['(B)', 'B', true],
    ['B:65', 'B', true],
    ['B: 65', 'B', true],
    ['B. 65', 'B', true],
    ['B) 65', 'B', true],
    ['\\text{B}', 'B', true],
    ['$B$', 'B', true],
    ['b', 'B', true],
    ['(b)', 'B', true],
    ['A', 'B', false],
    ['(C)', 'B', false],
    ['C:65', 'B', false],
    ['65', 'B', false],
    ['Bar', 'B', false],
    ['', 'B', false],
  ],
  latex: [
    ['2\\sqrt{2}', '\\sqrt{8}', true],
    ['\\sqrt{2}', '1.41421356', true],
    ['\\frac{\\sqrt{3}}{2}', '\\frac{\\sqrt{12}}{4}', true],
    ['x+1', '1+x', true],
    ['2x', 'x\\cdot 2', true],
    ['x^2-1', '(x-1)(x+1)', true],
    ['\\frac{x}{2}', '0.5x', true],
    ['2\\pi', '\\pi \\cdot 2', true],
    ['10^{3}', '1000', true],
    ['\\sqrt{4}', '2', true],
    ['2\\sqrt{3}', '\\sqrt{8}', false],
    ['\\sqrt{2}', '1.41', false],
    ['x+1', 'x-1', false],
    ['2x', '3x', false],
    ['x^2', '(x-1)(x+1)', false],
    ['\\pi', '3.14', false],
    ['10^{3}', '100', false],
    ['\\sqrt{5}', '2', false],
  ],
  empty: [
    ['', '5', false],
    [' ', '5', false],
    ['\\text{}', '5', false],
  ],
};

/** Response-level cases: the whole model output, through extraction. */
const RESPONSES: Record<string, readonly Case[]> = {
  boxed: [
    ['<think>2+3=5</think> \\boxed{5}', '5', true],
    ['The answer is \\boxed{5}.', '5', true],
    ['\\boxed{4} no wait \\boxed{5}', '5', true],
    ['\\boxed{\\frac{1}{2}}', '0.5', true],
    ['\\boxed{\\text{green}}', 'green', true],
    ['\\boxed {5}', '5', true],
    ['\\boxedx{5}', '5', false],
    ['\\boxed 5', '5', true],
    ['$\\boxed{5}$', '5', true],
    ['\\fbox{5}', '5', true],
    ['\\boxed{5} no wait \\boxed{4}', '5', false],
    ['\\boxed{5', '5', false],
    ['\\boxed{}', '5', false],
    ['5', '5', false],
    ['the answer is 5', '5', false],
  ],
  answerTag: [
    ['<answer>5</answer>', '5', true],
    ['<answer> 0.5 </answer>', '1/2', true],
    ['<answer>4</answer> then <answer>5</answer>', '5', true],
    ['<answer>6</answer>', '5', false],
    ['<answer>5', '5', false],
  ],
  statedLetter: [
    ['The answer is (B).', 'B', true],
    ['Answer: C', 'C', true],
    ['(D)', 'D', true],
    ['A', 'A', true],
    ['The answer is (B).', 'C', false],
    ['Answer: C', 'D', false],
    ['I cannot tell.', 'A', false],
    ['\\boxed{A} the answer is B', 'B', false],
  ],
};

for (const [rule, cases] of Object.entries(ANSWERS)) {
  test(`golden answers: ${rule}`, () => {
    for (const [pred, gold, equal] of cases) {
      assert.equal(isEquivalent(pred, gold), equal, `isEquivalent(${JSON.stringify(pred)}, ${JSON.stringify(gold)}) should be ${equal}`);
    }
  });
}

for (const [rule, cases] of Object.entries(RESPONSES)) {
  test(`golden responses: ${rule}`, () => {
    for (const [pred, gold, equal] of cases) {
      assert.equal(computeReward(pred, gold).accuracy, equal ? 1 : 0, `accuracy of ${JSON.stringify(pred)} against ${JSON.stringify(gold)}`);
    }
  });
}

test('golden set is at least 150 cases, with both verdicts for every rule', () => {
  const all = [...Object.values(ANSWERS), ...Object.values(RESPONSES)];
  assert.ok(all.flat().length >= 150, `only ${all.flat().length} cases`);
  for (const cases of all) {
    assert.ok(cases.some((c) => c[2]) || cases.every((c) => !c[2]), 'rule with no positive case');
  }
  for (const [rule, cases] of [...Object.entries(ANSWERS), ...Object.entries(RESPONSES)]) {
    if (rule !== 'empty') assert.ok(cases.some((c) => c[2]) && cases.some((c) => !c[2]), `${rule} lacks a direction`);
  }
});

test('format: <think>…</think> then a boxed answer', () => {
  const cases: Array<[string, 0 | 1]> = [
    ['<think>a=1</think> \\boxed{1}', 1],
    ['  <think>a=1</think>\n\\boxed{1}  ', 1],
    ['<think></think>\\boxed{x}', 1],
    ['<think>a</think> so \\boxed{\\frac{1}{2}} done', 1],
    ['<think>a</think> 1', 0],
    ['\\boxed{1}', 0],
    ['<think>a \\boxed{1}</think>', 0],
    ['hi <think>a</think> \\boxed{1}', 0],
    ['<think>a</think><think>b</think> \\boxed{1}', 0],
    ['<think>a \\boxed{1}', 0],
    ['<think>a</think> \\boxed{1', 0],
  ];
  for (const [response, format] of cases) assert.equal(computeReward(response, '1').format, format, JSON.stringify(response));
});

test('reward = 0.9 accuracy + 0.1 format by default, weights configurable', () => {
  assert.deepEqual(computeReward('<think>2+3=5</think> \\boxed{5}', '5'), { accuracy: 1, format: 1, reward: 1 });
  assert.deepEqual(computeReward('\\boxed{5}', '5'), { accuracy: 1, format: 0, reward: 0.9 });
  assert.deepEqual(computeReward('<think>x</think> \\boxed{4}', '5'), { accuracy: 0, format: 1, reward: 0.1 });
  assert.deepEqual(computeReward('5', '5'), { accuracy: 0, format: 0, reward: 0 });
  assert.equal(computeReward('\\boxed{5}', '5', { formatWeight: 0.5 }).reward, 0.5);
  assert.equal(computeReward('\\boxed{5}', '5', { formatWeight: 0 }).reward, 1);
  assert.throws(() => computeReward('x', '5', { formatWeight: 1.5 }), /formatWeight/);
});

test('extraction reports where the answer came from', () => {
  assert.deepEqual(extractAnswer('x \\boxed{a{b}c} y'), { text: 'a{b}c', from: 'boxed' });
  assert.deepEqual(extractAnswer('\\boxed{\\{1,2\\}}'), { text: '\\{1,2\\}', from: 'boxed' });
  assert.deepEqual(extractAnswer('<answer>7</answer>'), { text: '7', from: 'answer-tag' });
  assert.deepEqual(extractAnswer('the answer is C', 'C'), { text: 'C', from: 'letter' });
  assert.equal(extractAnswer('the answer is C', '5'), null);
});

test('pathological expressions a policy might write are refused quickly, not evaluated', () => {
  const cases: Array<[string, string]> = [
    ['9^{9^{9^{9}}}', '2'],
    ['\\sum_{n=1}^{1000000} n', '500000500000'],
    ['1000!', '1'],
    ['(x+y+z+w)^{40}', '(x+y+z+w)^{39}'],
    ['(a+b)(c+d)(e+f)(g+h)(i+j)(k+l)(m+n)(o+p)(q+r)(s+t)(u+v)', '(b+a)(c+d)(e+f)(g+h)(i+j)(k+l)(m+n)(o+p)(q+r)(s+t)(u+w)'],
    ['\\frac{1}{0}', '1'],
  ];
  for (const [pred, gold] of cases) {
    const t = performance.now();
    assert.equal(isEquivalent(pred, gold), false, pred);
    assert.ok(performance.now() - t < 500, `${pred} took ${(performance.now() - t).toFixed(0)} ms`);
  }
});
