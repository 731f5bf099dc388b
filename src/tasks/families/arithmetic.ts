/**
 * Arithmetic with a figure (after MMK12): a column sum with a missing number, fruits and a
 * price tag (count, then multiply), a segment cut in two with one part unknown. Each mixes a
 * value read from the figure with the arithmetic a school problem asks for.
 */
import type { Rng } from '../../engine/rng.ts';
import { textWidth } from '../font.ts';
import { COLORS, draw, type Mark } from '../scene.ts';
import type { Difficulty, Draft, Family } from '../types.ts';
import { given, questionTag, until } from './common.ts';

/** Difficulty knobs: operations and operand range, fruit count and price, segment length. */
export const ARITHMETIC_KNOBS = {
  1: { ops: ['+'], numMax: 9, fruits: [1, 5], price: [1, 5], total: [3, 12] },
  2: { ops: ['+', '-'], numMax: 20, fruits: [2, 8], price: [2, 9], total: [10, 30] },
  3: { ops: ['+', '-', '*'], numMax: 50, fruits: [3, 10], price: [5, 20], total: [20, 99] },
} as const;

const KINDS = ['missing-number', 'price-total', 'segment-part'] as const;

function missingNumber(rng: Rng, d: Difficulty): Draft {
  const k = ARITHMETIC_KNOBS[d];
  const op = rng.pick(k.ops);
  let a: number;
  let b: number;
  let c: number;
  let compute: string;
  if (op === '+') {
    a = rng.range(1, k.numMax);
    b = rng.range(1, k.numMax);
    c = a + b;
    compute = `${c}-${a}=${b}`;
  } else if (op === '-') {
    a = rng.range(2, k.numMax);
    b = rng.range(1, a - 1);
    c = a - b;
    compute = `${a}-${c}=${b}`;
  } else {
    a = rng.range(2, 9);
    b = rng.range(2, 9);
    c = a * b;
    compute = `${c}/${a}=${b}`;
  }
  const A = given('a', a);
  const C = given('c', c);
  return {
    kind: 'missing-number',
    key: [a, op, c],
    givens: [A, C],
    answer: String(b),
    describe: 'The figure is a calculation.',
    state: (shown) => (shown.length === 2 ? `It reads ${a}${op}?=${c}.` : shown[0] === A ? `The top number is ${a}.` : shown[0] === C ? `The result is ${c}.` : ''),
    question: 'Find the missing number.',
    imageQuestion: 'FIND ?',
    compute,
    scene: (show) => {
      // Written as in a school book: the numbers right-aligned in a column, the operator to the
      // left of the second row, a rule above the result.
      const right = 21;
      const marks: Mark[] = [
        draw.text(right, 6, String(a), 'right', 'top'),
        draw.text(right - 13, 15, op, 'left', 'top'),
        draw.rect(right - 6, 13, 7, 8, { stroke: COLORS.red }),
        draw.text(right - 2, 17, '?', 'center', 'middle', COLORS.red),
        draw.line(right - 14, 23, right + 1, 23),
        draw.text(right, 25, String(c), 'right', 'top'),
      ];
      if (show.question) marks.push(questionTag('FIND ?'));
      return { marks };
    },
  };
}

function priceTotal(rng: Rng, d: Difficulty): Draft {
  const k = ARITHMETIC_KNOBS[d];
  const n = rng.range(k.fruits[0], k.fruits[1]);
  const p = rng.range(k.price[0], k.price[1]);
  const cells = rng.shuffle(Array.from({ length: 12 }, (_, i) => i)).slice(0, n);
  const N = given('n', n, 'counted');
  const P = given('p', p);
  return {
    kind: 'price-total',
    key: [n, p],
    givens: [N, P],
    answer: String(n * p),
    describe: 'Fruits and a price tag.',
    state: (shown) => (shown.length === 2 ? `There are ${n} fruits at ${p} each.` : shown[0] === N ? `There are ${n} fruits.` : shown[0] === P ? `Each costs ${p}.` : ''),
    question: 'Find the total cost.',
    imageQuestion: 'TOTAL=?',
    compute: `${n}*${p}=${n * p}`,
    scene: (show) => {
      const marks: Mark[] = cells.map((c) => draw.circle(3 + 5 * (c % 4), 12 + 6.5 * Math.floor(c / 4), 2.2, { fill: COLORS.red }));
      const w = textWidth(String(p)) + 3;
      marks.push(draw.rect(31 - w, 14, w, 9, { stroke: COLORS.black, fill: [255, 235, 150] }));
      marks.push(draw.text(31 - w / 2 + 0.5, 18.5, String(p), 'center', 'middle'));
      if (show.question) marks.push(questionTag('TOTAL=?'));
      return { marks };
    },
  };
}

function segmentPart(rng: Rng, d: Difficulty): Draft {
  const k = ARITHMETIC_KNOBS[d];
  const [total, part] = until(
    rng,
    'a segment',
    (r) => {
      const t = r.range(k.total[0], k.total[1]);
      return [t, r.range(1, t - 1)] as const;
    },
    ([t, p]) => p >= 1 && p < t,
  );
  const T = given('T', total);
  const P = given('p', part);
  // The cut is drawn roughly to proportion but kept where both part labels fit.
  const cut = Math.min(22, Math.max(10, Math.round(2 + (28 * part) / total)));
  return {
    kind: 'segment-part',
    key: [total, part],
    givens: [T, P],
    answer: String(total - part),
    describe: 'A segment is cut in two.',
    state: (shown) => (shown.length === 2 ? `The whole is ${total}, one part ${part}.` : shown[0] === T ? `The whole is ${total}.` : shown[0] === P ? `One part is ${part}.` : ''),
    question: 'Find the other part.',
    imageQuestion: 'FIND ?',
    compute: `${total}-${part}=${total - part}`,
    scene: (show) => {
      const marks: Mark[] = [
        draw.line(2, 14, 30, 14, COLORS.gray),
        draw.line(2, 13, 2, 15, COLORS.gray),
        draw.line(30, 13, 30, 15, COLORS.gray),
        draw.text(16.5, 12, String(total), 'center', 'bottom'),
        draw.line(2, 21, 30, 21),
        draw.line(2, 19, 2, 23),
        draw.line(cut, 19, cut, 23),
        draw.line(30, 19, 30, 23),
        draw.text((2 + cut) / 2 + 0.5, 25, String(part), 'center', 'top'),
        draw.text((cut + 30) / 2 + 0.5, 25, '?', 'center', 'top', COLORS.red),
      ];
      if (show.question) marks.push(questionTag('FIND ?'));
      return { marks };
    },
  };
}

export const arithmetic: Family = {
  name: 'arithmetic',
  after: 'MMK12',
  kinds: () => KINDS,
  sample: (rng, d, kind) => {
    switch (kind) {
      case 'missing-number':
        return missingNumber(rng, d);
      case 'price-total':
        return priceTotal(rng, d);
      case 'segment-part':
        return segmentPart(rng, d);
      default:
        throw new Error(`arithmetic has no kind "${kind}"`);
    }
  },
};
