/**
 * Charts and plots (after MathVision and DynaMath): a bar chart with labelled bars — sum,
 * tallest minus shortest, which is tallest — or a straight line through two labelled points,
 * read and extended to x = 3. Bars are drawn to scale, so "tallest" can also be seen.
 */
import type { Rng } from '../../engine/rng.ts';
import { COLORS, draw, type Mark, type Rgb } from '../scene.ts';
import type { Difficulty, Draft, Family, Given } from '../types.ts';
import { barChart, given, questionTag, until } from './common.ts';

/**
 * Difficulty knobs: number of bars, bar values, line start and slope. At most three bars: four
 * two-digit labels in 32 units leave one pixel between them and read as one number.
 */
export const CHART_KNOBS = {
  1: { bars: [2, 3], valueMin: 1, valueMax: 9, lineStart: [1, 5], slope: [1, 3], falling: false },
  2: { bars: [3, 3], valueMin: 1, valueMax: 20, lineStart: [1, 10], slope: [1, 8], falling: false },
  3: { bars: [3, 3], valueMin: 5, valueMax: 60, lineStart: [5, 40], slope: [1, 12], falling: true },
} as const;

const KINDS = ['bar-sum', 'bar-diff', 'bar-max', 'line-next'] as const;
const LETTERS = ['A', 'B', 'C', 'D'];

function bars(rng: Rng, d: Difficulty, kind: 'bar-sum' | 'bar-diff' | 'bar-max'): Draft {
  const k = CHART_KNOBS[d];
  const n = rng.range(k.bars[0], k.bars[1]);
  const values = until(
    rng,
    'bar values',
    (r) => Array.from({ length: n }, () => r.range(k.valueMin, k.valueMax)),
    // A unique tallest (and shortest) bar keeps "which is tallest" well defined.
    (vs) => vs.filter((v) => v === Math.max(...vs)).length === 1 && vs.filter((v) => v === Math.min(...vs)).length === 1,
  );
  const givens: Given[] = values.map((v, i) => given(LETTERS[i], v));
  const max = Math.max(...values);
  const min = Math.min(...values);
  const sum = values.reduce((a, b) => a + b, 0);
  const maxLetter = LETTERS[values.indexOf(max)];
  const spec = {
    'bar-sum': { q: 'Find the sum of the bars.', tag: 'SUM=?', answer: String(sum), compute: `${values.join('+')}=${sum}` },
    'bar-diff': { q: 'Find tallest minus shortest.', tag: 'MAX-MIN?', answer: String(max - min), compute: `${max}-${min}=${max - min}` },
    'bar-max': { q: 'Which bar is tallest?', tag: 'MAX=?', answer: maxLetter, compute: `max=${maxLetter}` },
  }[kind];
  return {
    kind,
    key: values,
    givens,
    answer: spec.answer,
    describe: 'It is a bar chart.',
    state: (shown) => (shown.length ? `Bars: ${shown.map((g) => `${g.name}=${g.value}`).join(', ')}.` : ''),
    question: spec.q,
    imageQuestion: spec.tag,
    compute: spec.compute,
    scene: (show) => {
      const marks = barChart(values, LETTERS, 6);
      if (show.question) marks.push(questionTag(spec.tag));
      return { marks };
    },
  };
}

function lineNext(rng: Rng, d: Difficulty): Draft {
  const k = CHART_KNOBS[d];
  const [y1, step] = until(
    rng,
    'a line',
    (r) => [r.range(k.lineStart[0], k.lineStart[1]), r.range(k.slope[0], k.slope[1]) * (k.falling && r.bool() ? -1 : 1)] as const,
    ([y, s]) => y + 2 * s >= 0 && y + 2 * s <= 99,
  );
  const y2 = y1 + step;
  const y3 = y2 + step;
  const Y1 = given('y1', y1);
  const Y2 = given('y2', y2);
  return {
    kind: 'line-next',
    key: [y1, y2],
    givens: [Y1, Y2],
    answer: String(y3),
    describe: 'The graph is a straight line.',
    state: (shown) => (shown.length ? `It passes ${shown.map((g) => `(${g === Y1 ? 1 : 2},${g.value})`).join(' and ')}.` : ''),
    question: 'Find y at x=3.',
    imageQuestion: 'Y(3)=?',
    compute: `${y2}+(${y2}-${y1})=${y3}`,
    scene: (show) => {
      const top = Math.max(y1, y2, y3, 1);
      const X = (i: number) => 3 + 8 * i;
      const Y = (v: number) => 25 - (v / top) * 13;
      const rising = step >= 0;
      // Labels go on the side of each point that the line leaves free: upper-left when the
      // line rises, upper-right when it falls.
      const label = (i: number, text: string, color: Rgb = COLORS.black) =>
        rising
          ? draw.text(X(i) - 1.5, Y(i === 1 ? y1 : i === 2 ? y2 : y3) - 1.5, text, 'right', 'bottom', color)
          : draw.text(X(i) + 2.5, Y(i === 1 ? y1 : i === 2 ? y2 : y3) - 1.5, text, 'left', 'bottom', color);
      const marks: Mark[] = [
        draw.line(1, 25, 31.9, 25),
        ...[1, 2, 3].flatMap((i) => [draw.line(X(i), 25, X(i), 26), draw.text(X(i) + 0.5, 27, String(i), 'center', 'top')]),
        draw.line(X(1), Y(y1), X(3), Y(y3)),
        draw.circle(X(1) + 0.5, Y(y1) + 0.5, 1.5, { fill: COLORS.black }),
        draw.circle(X(2) + 0.5, Y(y2) + 0.5, 1.5, { fill: COLORS.black }),
        draw.circle(X(3) + 0.5, Y(y3) + 0.5, 1.5, { fill: COLORS.white, stroke: COLORS.red }),
        label(1, String(y1)),
        label(2, String(y2)),
        label(3, '?', COLORS.red),
      ];
      if (show.question) marks.push(questionTag('Y(3)=?'));
      return { marks };
    },
  };
}

export const chart: Family = {
  name: 'chart',
  after: 'MathVision, DynaMath',
  kinds: () => KINDS,
  sample: (rng, d, kind) => {
    switch (kind) {
      case 'bar-sum':
      case 'bar-diff':
      case 'bar-max':
        return bars(rng, d, kind);
      case 'line-next':
        return lineNext(rng, d);
      default:
        throw new Error(`chart has no kind "${kind}"`);
    }
  },
};
