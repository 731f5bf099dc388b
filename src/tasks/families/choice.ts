/**
 * Multiple choice (after MMMU-Pro): a small figure, four options A-D, the answer is a letter.
 * In vision-dominant and vision-only the options are drawn under the figure and not written in
 * the text — MMMU-Pro's "vision" setting. Kinds: the angle a ray makes with a line, and
 * counting the dots of two colours.
 */
import type { Rng } from '../../engine/rng.ts';
import { COLORS, draw, type Mark } from '../scene.ts';
import type { Difficulty, Draft, Family, Options } from '../types.ts';
import { optionLetter } from '../variants.ts';
import { given, questionTag, stepped } from './common.ts';

/** Difficulty knobs: the angle grid, how far apart the angle options are, the dot counts. */
export const CHOICE_KNOBS = {
  1: { angleStep: 5, optionStep: 10, dotsMax: 4 },
  2: { angleStep: 2, optionStep: 5, dotsMax: 5 },
  3: { angleStep: 1, optionStep: 2, dotsMax: 6 },
} as const;

const KINDS = ['angle-line', 'count-dots'] as const;

/**
 * Four distinct options on the answer's grid (multiples of `unit` away). The answer's rank among
 * them is uniform, so "pick the middle value" is no shortcut.
 */
function makeOptions(rng: Rng, answer: number, unit: number, min: number, max: number): Options {
  const below = [1, 2, 3, 4, 5].map((j) => answer - j * unit).filter((v) => v >= min);
  const above = [1, 2, 3, 4, 5].map((j) => answer + j * unit).filter((v) => v <= max);
  const ranks = [0, 1, 2, 3].filter((r) => below.length >= r && above.length >= 3 - r);
  const r = rng.pick(ranks);
  const values = [...rng.shuffle(below).slice(0, r), answer, ...rng.shuffle(above).slice(0, 3 - r)];
  const order = rng.shuffle(values);
  return { values: order.map(String), correct: order.indexOf(answer) };
}

function optionMarks(options: Options): Mark[] {
  // Two rows of two under the figure (rows 21-25 and 27-31). The letter is coloured instead of
  // followed by a colon: "A:55B:25" would run together at 32 px, "A55  B25" does not.
  return options.values.flatMap((v, i) => {
    const x = i % 2 === 0 ? 2 : 19;
    const y = i < 2 ? 21 : 27;
    return [draw.text(x, y, optionLetter(i), 'left', 'top', COLORS.red), draw.text(x + 4, y, v, 'left', 'top')];
  });
}

function withOptions(draft: Omit<Draft, 'compute' | 'answer'>, value: number, options: Options, read: string): Draft {
  const letter = optionLetter(options.correct);
  return { ...draft, options, answer: letter, compute: `${read}${letter}:${value}` };
}

function angleLine(rng: Rng, d: Difficulty): Draft {
  const k = CHOICE_KNOBS[d];
  // The known angle is obtuse, the asked one acute, so every option has two digits and the
  // acute gap is wide enough (>= 40 degrees) for its "?" label.
  const known = stepped(rng, 100, 140, k.angleStep);
  const answer = 180 - known;
  const mirror = rng.bool();
  const options = makeOptions(rng, answer, k.optionStep, 10, 99);
  const A = given('a', known);
  const base: Omit<Draft, 'compute' | 'answer'> = {
    kind: 'angle-line',
    key: [known, mirror],
    givens: [A],
    describe: 'A ray meets a line.',
    state: (shown) => (shown.length ? `One angle is ${known}.` : ''),
    question: 'Find the other angle.',
    imageQuestion: 'FIND ?',
    options,
    scene: (show) => {
      const s = mirror ? -1 : 1;
      const phi = (answer * Math.PI) / 180;
      const vx = 16;
      const vy = 17;
      const half = phi / 2;
      // The figure stays in rows 6-19: the question tag is above, the options below.
      const marks: Mark[] = [
        draw.line(1, vy, 31, vy),
        draw.line(vx, vy, vx + s * 11 * Math.cos(phi), vy - 11 * Math.sin(phi)),
        // "?" inside the acute gap along its bisector, kept above the line.
        draw.text(vx + s * 10 * Math.cos(half) + 0.5, Math.min(vy - 10 * Math.sin(half) + 2.5, vy - 1), '?', 'center', 'bottom', COLORS.red),
        draw.text(vx - s * 8.5 + 0.5, vy - 2, String(known), 'center', 'bottom'),
      ];
      if (show.options) marks.push(...optionMarks(options));
      if (show.question) marks.push(questionTag('FIND ?'));
      return { marks };
    },
  };
  return withOptions(base, answer, options, `180-${known}=${answer} `);
}

const cap = (w: string) => w[0].toUpperCase() + w.slice(1);

function countDots(rng: Rng, d: Difficulty): Draft {
  const k = CHOICE_KNOBS[d];
  const [c1, c2] = rng.shuffle(['red', 'blue', 'green'] as const).slice(0, 2);
  const n1 = rng.range(1, k.dotsMax);
  // Totals stay one digit so that every option label ("A:9") fits in half a row.
  const n2 = rng.range(1, Math.min(k.dotsMax, 9 - n1));
  const total = n1 + n2;
  const cells = rng.shuffle(Array.from({ length: 10 }, (_, i) => i)).slice(0, total);
  const options = makeOptions(rng, total, 1, 1, 9);
  const A = given(c1, n1, 'counted');
  const B = given(c2, n2, 'counted');
  const base: Omit<Draft, 'compute' | 'answer'> = {
    kind: 'count-dots',
    key: [c1, n1, c2, n2],
    givens: [A, B],
    describe: 'Colored dots.',
    state: (shown) => (shown.length ? `${shown.map((g, i) => `${i === 0 ? cap(g.name) : g.name}: ${g.value}`).join(', ')}.` : ''),
    question: `How many are ${c1} or ${c2}?`,
    imageQuestion: `[${c1}]+[${c2}]=?`,
    options,
    scene: (show) => {
      const marks: Mark[] = cells.map((c, i) => draw.circle(3.5 + 6.25 * (c % 5), 10 + 6.5 * Math.floor(c / 5), 2.5, { fill: COLORS[i < n1 ? c1 : c2] }));
      if (show.options) marks.push(...optionMarks(options));
      if (show.question) {
        // Colour swatches stand for the colour words: [red] + [blue] = ?
        marks.push(draw.rect(6, 0, 4, 4, { fill: COLORS[c1] }));
        marks.push(draw.text(11, 0, '+', 'left', 'top'));
        marks.push(draw.rect(15, 0, 4, 4, { fill: COLORS[c2] }));
        marks.push(draw.text(20, 0, '=?', 'left', 'top'));
      }
      return { marks };
    },
  };
  return withOptions(base, total, options, `${n1}+${n2}=${total} `);
}

export const choice: Family = {
  name: 'choice',
  after: 'MMMU-Pro',
  kinds: () => KINDS,
  sample: (rng, d, kind) => {
    switch (kind) {
      case 'angle-line':
        return angleLine(rng, d);
      case 'count-dots':
        return countDots(rng, d);
      default:
        throw new Error(`choice has no kind "${kind}"`);
    }
  },
};
