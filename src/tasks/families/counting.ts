/**
 * Counting and spatial logic (after LogicVista): coloured shapes on a 4 x 3 grid; count two
 * colours and add or compare them, name the most common colour, or compare the two sides of a
 * dividing line. The given values here are counts: seen, not written, in the image.
 */
import type { Rng } from '../../engine/rng.ts';
import { COLORS, draw, type Mark, type Rgb } from '../scene.ts';
import type { Difficulty, Draft, Family, Given } from '../types.ts';
import { given, questionTag, until } from './common.ts';

const SHAPES = ['circle', 'square', 'triangle'] as const;
type Shape = (typeof SHAPES)[number];
const PALETTE = ['red', 'blue', 'green'] as const;
type ColorWord = (typeof PALETTE)[number];

/** Difficulty knobs: colours on the grid, largest count per colour, shapes mixed in. */
export const COUNTING_KNOBS = {
  1: { colors: 2, countMax: 4, shapes: ['circle'] },
  2: { colors: 2, countMax: 5, shapes: SHAPES },
  3: { colors: 3, countMax: 4, shapes: SHAPES },
} as const satisfies Record<Difficulty, { colors: number; countMax: number; shapes: readonly Shape[] }>;

const KINDS = ['count-sum', 'count-diff', 'most-color', 'left-right'] as const;
type Kind = (typeof KINDS)[number];

interface Item {
  readonly cell: number;
  readonly color: ColorWord;
  readonly shape: Shape;
}

const COLS = 4;
const ROWS = 3;

function shapeMark(item: Item): Mark {
  const cx = 4 + 8 * (item.cell % COLS);
  const cy = 12 + 8 * Math.floor(item.cell / COLS);
  const fill: Rgb = COLORS[item.color];
  switch (item.shape) {
    case 'circle':
      return draw.circle(cx, cy, 3, { fill });
    case 'square':
      return draw.rect(cx - 3, cy - 3, 6, 6, { fill });
    case 'triangle':
      return draw.polygon(
        [
          { x: cx, y: cy - 3 },
          { x: cx + 3.5, y: cy + 3 },
          { x: cx - 3.5, y: cy + 3 },
        ],
        { fill },
      );
  }
}

/** Places `colors[i]` repeated counts[i] times on free cells drawn from `cells`. */
function place(rng: Rng, cells: number[], colors: readonly ColorWord[], counts: readonly number[], shapes: readonly Shape[]): Item[] {
  const free = rng.shuffle([...cells]);
  const items: Item[] = [];
  colors.forEach((color, i) => {
    for (let j = 0; j < counts[i]; j++) items.push({ cell: free.pop()!, color, shape: rng.pick(shapes) });
  });
  return items.sort((a, b) => a.cell - b.cell);
}

const cap = (w: string) => w[0].toUpperCase() + w.slice(1);

function sample(rng: Rng, d: Difficulty, kind: Kind): Draft {
  const k = COUNTING_KNOBS[d];
  const colors = rng.shuffle([...PALETTE]).slice(0, k.colors);
  const allCells = Array.from({ length: COLS * ROWS }, (_, i) => i);

  if (kind === 'left-right') {
    const [left, right] = until(
      rng,
      'side counts',
      (r) => [r.range(1, 6), r.range(0, 5)],
      ([l, r]) => l > r,
    );
    const side = (c: number) => c % COLS < COLS / 2;
    const items = [
      ...place(rng, allCells.filter(side), [colors[0]], [left], k.shapes),
      ...place(
        rng,
        allCells.filter((c) => !side(c)),
        [colors[0]],
        [right],
        k.shapes,
      ),
    ].map((it) => ({ ...it, color: rng.pick(colors) }));
    const L = given('L', left, 'counted');
    const R = given('R', right, 'counted');
    return {
      kind,
      key: [left, right],
      givens: [L, R],
      answer: String(left - right),
      describe: 'A line splits the shapes.',
      state: (shown) => shown.map((g) => `${g === L ? 'Left' : 'Right'}: ${g.value}.`).join(' '),
      question: 'How many more are on the left?',
      imageQuestion: 'L-R=?',
      compute: `${left}-${right}=${left - right}`,
      scene: (show) => {
        const marks: Mark[] = [draw.line(16, 7, 16, 31.9, COLORS.black), ...items.map(shapeMark)];
        if (show.question) marks.push(questionTag('L-R=?'));
        return { marks };
      },
    };
  }

  const counts = until(
    rng,
    'colour counts',
    (r) => colors.map(() => r.range(1, k.countMax)),
    (cs) => {
      if (kind === 'most-color') return cs.filter((c) => c === Math.max(...cs)).length === 1;
      if (kind === 'count-diff') return cs[0] > cs[1];
      return true;
    },
  );
  const items = place(rng, allCells, colors, counts, k.shapes);
  const asked = kind === 'most-color' ? colors.length : 2;
  const givens: Given[] = colors.slice(0, asked).map((c, i) => given(c, counts[i], 'counted'));
  const [a, b] = counts;
  const most = colors[counts.indexOf(Math.max(...counts))];
  const spec = {
    'count-sum': { q: `How many are ${colors[0]} or ${colors[1]}?`, answer: String(a + b), compute: `${a}+${b}=${a + b}`, tag: 'sum' },
    'count-diff': { q: `How many more ${colors[0]} than ${colors[1]}?`, answer: String(a - b), compute: `${a}-${b}=${a - b}`, tag: 'diff' },
    'most-color': { q: 'Which color is most common?', answer: most, compute: `max=${most}`, tag: 'most' },
  }[kind];
  // The key keeps colour names: "3 red + 2 blue" and "3 blue + 2 red" are different problems.
  const key = [colors.slice(0, asked), counts];
  return {
    kind,
    key,
    givens,
    answer: spec.answer,
    describe: 'Shapes are shown.',
    state: (shown) => (shown.length ? `${shown.map((g, i) => `${i === 0 ? cap(g.name) : g.name}: ${g.value}`).join(', ')}.` : ''),
    question: spec.q,
    imageQuestion: spec.tag === 'most' ? 'MOST?' : `[${colors[0]}]${spec.tag === 'sum' ? '+' : '-'}[${colors[1]}]=?`,
    compute: spec.compute,
    scene: (show) => {
      const marks: Mark[] = items.map(shapeMark);
      if (show.question) {
        if (spec.tag === 'most') marks.push(questionTag('MOST?'));
        else {
          // Colour swatches stand for the colour words: [red] + [blue] = ?
          marks.push(draw.rect(6, 0, 4, 4, { fill: COLORS[colors[0]] }));
          marks.push(draw.text(11, 0, spec.tag === 'sum' ? '+' : '-', 'left', 'top'));
          marks.push(draw.rect(15, 0, 4, 4, { fill: COLORS[colors[1]] }));
          marks.push(draw.text(20, 0, '=?', 'left', 'top'));
        }
      }
      return { marks };
    },
  };
}

export const counting: Family = {
  name: 'counting',
  after: 'LogicVista',
  kinds: () => KINDS,
  sample: (rng, d, kind) => {
    if (!(KINDS as readonly string[]).includes(kind)) throw new Error(`counting has no kind "${kind}"`);
    return sample(rng, d, kind as Kind);
  },
};
