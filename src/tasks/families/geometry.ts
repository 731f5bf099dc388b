/**
 * Geometry (after Geometry3K and MathVerse): a drawn figure with labelled angles or lengths and
 * one unknown — the third angle of a triangle, a rectangle's perimeter or area, a right
 * triangle's hypotenuse (Pythagorean triples). Figures are not drawn to scale.
 */
import type { Rng } from '../../engine/rng.ts';
import { COLORS, draw, type Mark } from '../scene.ts';
import type { Difficulty, Draft, Family } from '../types.ts';
import { given, questionTag, stepped, until } from './common.ts';

/** Difficulty knobs: angle grid and smallest angle, side range, which kinds appear. */
export const GEOMETRY_KNOBS = {
  1: { angleStep: 10, angleMin: 30, sideMin: 1, sideMax: 9, kinds: ['triangle-angle', 'rectangle-perimeter', 'rectangle-area'] },
  2: { angleStep: 5, angleMin: 25, sideMin: 2, sideMax: 20, kinds: ['triangle-angle', 'rectangle-perimeter', 'rectangle-area', 'right-hypotenuse'] },
  3: { angleStep: 1, angleMin: 15, sideMin: 10, sideMax: 40, kinds: ['triangle-angle', 'rectangle-perimeter', 'rectangle-area', 'right-hypotenuse'] },
} as const;

const TRIPLES = [
  [3, 4, 5],
  [6, 8, 10],
  [5, 12, 13],
  [9, 12, 15],
  [8, 15, 17],
  [12, 16, 20],
  [7, 24, 25],
  [15, 20, 25],
  [10, 24, 26],
  [20, 21, 29],
] as const;

function triangleAngle(rng: Rng, d: Difficulty): Draft {
  const k = GEOMETRY_KNOBS[d];
  // Two-digit angles only: a three-digit label does not fit inside a corner at 32 px.
  const [a, b] = until(
    rng,
    'two triangle angles',
    (r) => [stepped(r, k.angleMin, 95, k.angleStep), stepped(r, k.angleMin, 95, k.angleStep)] as const,
    ([a, b]) => 180 - a - b >= k.angleMin && 180 - a - b <= 99,
  );
  const c = 180 - a - b;
  const apex = rng.range(13, 19);
  const A = given('A', a);
  const B = given('B', b);
  return {
    kind: 'triangle-angle',
    key: [a, b],
    givens: [A, B],
    answer: String(c),
    describe: 'The figure is a triangle.',
    state: (shown) => (shown.length === 2 ? `Two angles are ${a} and ${b}.` : shown.length === 1 ? `One angle is ${shown[0].value}.` : ''),
    question: 'Find the missing angle.',
    imageQuestion: 'FIND ?',
    compute: `180-${a}-${b}=${c}`,
    scene: (show) => {
      // Base 1..31 on row 27, apex on row 7: labels sit inside the corners where the triangle
      // is at least 6 units tall, so they never cross an edge.
      const sl = 20 / (apex - 1);
      const sr = 20 / (31 - apex);
      const marks: Mark[] = [
        draw.polygon(
          [
            { x: 1, y: 27 },
            { x: 31, y: 27 },
            { x: apex, y: 7 },
          ],
          { stroke: COLORS.black },
        ),
        draw.text(Math.ceil(1 + 6 / sl) + 1, 26, String(a), 'left', 'bottom'),
        draw.text(Math.floor(31 - 6 / sr), 26, String(b), 'right', 'bottom'),
        draw.text(apex + 0.5, 16, '?', 'center', 'middle', COLORS.red),
      ];
      if (show.question) marks.push(questionTag('FIND ?'));
      return { marks };
    },
  };
}

function rectangle(rng: Rng, d: Difficulty, what: 'perimeter' | 'area'): Draft {
  const k = GEOMETRY_KNOBS[d];
  const w = rng.range(k.sideMin, k.sideMax);
  const h = until(
    rng,
    'a rectangle side',
    (r) => r.range(k.sideMin, k.sideMax),
    (v) => v !== w,
  );
  const answer = what === 'perimeter' ? 2 * (w + h) : w * h;
  // Drawn roughly to proportion, clamped so that both labels always fit.
  const long = 20;
  const ww = w >= h ? long : Math.max(8, Math.round((long * w) / h));
  const hh = Math.min(16, h >= w ? 16 : Math.max(7, Math.round((16 * h) / w)));
  const W = given('W', w);
  const H = given('H', h);
  return {
    kind: `rectangle-${what}`,
    key: [w, h],
    givens: [W, H],
    answer: String(answer),
    describe: 'The figure is a rectangle.',
    state: (shown) => (shown.length === 2 ? `Its sides are ${w} and ${h}.` : shown.length === 1 ? `One side is ${shown[0].value}.` : ''),
    question: `Find its ${what}.`,
    imageQuestion: what === 'perimeter' ? 'PERIM=?' : 'AREA=?',
    compute: what === 'perimeter' ? `2*(${w}+${h})=${answer}` : `${w}*${h}=${answer}`,
    scene: (show) => {
      const x = 2 + Math.floor((20 - ww) / 2);
      const y = 8;
      const marks: Mark[] = [
        draw.rect(x, y, ww, hh, { stroke: COLORS.black }),
        draw.text(x + ww / 2 + 0.5, y + hh + 2, String(w), 'center', 'top'),
        draw.text(x + ww + 2, y + hh / 2 + 0.5, String(h), 'left', 'middle'),
      ];
      if (show.question) marks.push(questionTag(what === 'perimeter' ? 'PERIM=?' : 'AREA=?'));
      return { marks };
    },
  };
}

function rightHypotenuse(rng: Rng, d: Difficulty): Draft {
  const pool = TRIPLES.filter(([, b]) => (d === 2 ? b <= 16 : true));
  const [p, q, c] = rng.pick(pool);
  const [a, b] = rng.bool() ? [p, q] : [q, p];
  const A = given('a', a);
  const B = given('b', b);
  return {
    kind: 'right-hypotenuse',
    key: [a, b],
    givens: [A, B],
    answer: String(c),
    describe: 'The figure is a right triangle.',
    state: (shown) => (shown.length === 2 ? `Its legs are ${a} and ${b}.` : shown.length === 1 ? `One leg is ${shown[0].value}.` : ''),
    question: 'Find the side marked ?.',
    imageQuestion: 'FIND ?',
    compute: `sqrt(${a * a}+${b * b})=${c}`,
    scene: (show) => {
      // Right angle at (10, 24); the vertical leg carries a, the horizontal one b.
      const ox = 10;
      const oy = 24;
      const bw = a === b ? 16 : b > a ? 20 : 13;
      const ah = a === b ? 14 : a > b ? 15 : 10;
      const marks: Mark[] = [
        draw.polygon(
          [
            { x: ox, y: oy },
            { x: ox + bw, y: oy },
            { x: ox, y: oy - ah },
          ],
          { stroke: COLORS.black },
        ),
        draw.polygon(
          [
            { x: ox, y: oy - 3 },
            { x: ox + 3, y: oy - 3 },
            { x: ox + 3, y: oy },
          ],
          { stroke: COLORS.black },
        ),
        draw.text(ox - 2, oy - ah / 2, String(a), 'right', 'middle'),
        draw.text(ox + bw / 2 + 0.5, oy + 2, String(b), 'center', 'top'),
        draw.text(ox + bw / 2 + 3, oy - ah / 2 - 3, '?', 'center', 'middle', COLORS.red),
      ];
      if (show.question) marks.push(questionTag('FIND ?'));
      return { marks };
    },
  };
}

export const geometry: Family = {
  name: 'geometry',
  after: 'Geometry3K, MathVerse',
  kinds: (d) => GEOMETRY_KNOBS[d].kinds,
  sample: (rng, d, kind) => {
    switch (kind) {
      case 'triangle-angle':
        return triangleAngle(rng, d);
      case 'rectangle-perimeter':
        return rectangle(rng, d, 'perimeter');
      case 'rectangle-area':
        return rectangle(rng, d, 'area');
      case 'right-hypotenuse':
        return rightHypotenuse(rng, d);
      default:
        throw new Error(`geometry has no kind "${kind}"`);
    }
  },
};
