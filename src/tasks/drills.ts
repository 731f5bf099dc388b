/**
 * Warm-start drills: the two skills a real vision-language model brings from pretraining and a
 * policy trained from scratch here does not — reading numbers anywhere in an image, and the
 * arithmetic facts the task families compute with. They are SFT data only (never RL, never
 * evaluation), drawn fresh for every index, so the model cannot memorise them and has to learn
 * the skill.
 *
 * Why they exist (docs/results.md): the suite's split holds out whole value combinations, so a
 * test problem's sum or difference never appears in a training solution, and its image is one
 * the model has never seen. Trained on the task solutions alone, the policy memorised the
 * training images and facts and stayed near chance on test problems. The drills teach the
 * general skills the test needs without showing any test problem: a reading drill is random
 * numbers at random places, an arithmetic drill is a computation with no figure and no question.
 */
import type { Rng } from '../engine/rng.ts';
import { FAMILIES } from './families/index.ts';
import { rasterize } from './raster.ts';
import { COLORS, draw, type Mark, type Scene } from './scene.ts';
import { FAMILY_NAMES, type Difficulty, type FamilyName } from './types.ts';
import { IMAGE_MARKER, type RgbImage } from '../core/image.ts';
import { splitOf } from './hash.ts';
import { LADDER_FAMILIES, type Rung } from './ladder.ts';
import { DEFAULT_TEST_FRACTION, sampleLadderDraft } from './suite.ts';

export type DrillKind = 'reading' | 'arithmetic';

export interface Drill {
  readonly kind: DrillKind;
  /** Model-facing text with the `<image>` marker. */
  readonly problem: string;
  /** Gold response in the house format. */
  readonly solution: string;
  readonly answer: string;
  /** Reading: the numbers drawn; arithmetic: a blank image (SFT scores it text-only). */
  readonly image: RgbImage;
  readonly scene: Scene;
}

export const READING_PROMPT = 'Read the numbers.';

/**
 * Six cells, 2 columns x 3 rows of the 32-unit design grid, read row by row. The answer names
 * every cell (its number, or `-` when empty), so each part of the answer has a fixed place to
 * look: what is learnt is reading a glyph, not searching for the next number.
 */
const CELLS = [0, 1, 2, 3, 4, 5].map((i) => ({ x: 1 + 16 * (i % 2), y: 2 + 10 * Math.floor(i / 2) }));
const DISTRACTOR_COLORS = [COLORS.red, COLORS.blue, COLORS.green, COLORS.orange, COLORS.purple, COLORS.gray];

/** Values like the suite's: mostly one digit (counts, bars, sides), some two (angles), a few three. */
function drillNumber(rng: Rng): number {
  const u = rng.range(0, 9);
  return u < 5 ? rng.range(1, 9) : u < 9 ? rng.range(10, 99) : rng.range(100, 180);
}

/**
 * Each cell holds a number (at a random offset inside it) with probability 1/2, else maybe a
 * coloured shape; at least one number. Answer: the cells in reading order, `-` for no number.
 */
export function readingDrill(rng: Rng, imageSize: number, maxNumbers = CELLS.length): Drill {
  const marks: Mark[] = [];
  const cells: string[] = [];
  // fewer than six: 1..maxNumbers numbers in distinct random cells (the default draws per cell, as the recorded bases did)
  const chosen = maxNumbers < CELLS.length ? new Set(rng.shuffle([0, 1, 2, 3, 4, 5]).slice(0, rng.range(1, maxNumbers))) : null;
  for (const [i, c] of CELLS.entries()) {
    if (chosen ? chosen.has(i) : rng.range(0, 1) === 1) {
      const v = String(drillNumber(rng));
      // a 3-digit label is 11 units wide at 32 px: keep it inside its 16-unit cell
      marks.push(draw.text(c.x + rng.range(0, 15 - 4 * v.length), c.y + rng.range(0, 3), v, 'left', 'top'));
      cells.push(v);
      continue;
    }
    cells.push('-');
    if (rng.range(0, 2) === 0) {
      const color = rng.pick(DISTRACTOR_COLORS);
      const x = c.x + rng.range(2, 10);
      const y = c.y + rng.range(2, 5);
      marks.push(rng.range(0, 1) === 0 ? draw.circle(x, y, 2, { fill: color }) : draw.rect(x - 2, y - 2, 4, 4, { fill: color }));
    }
  }
  if (!cells.some((v) => v !== '-')) return readingDrill(rng.fork('again'), imageSize, maxNumbers);
  const answer = cells.join(' ');
  const scene = { marks };
  const count = cells.filter((v) => v !== '-').length;
  return { kind: 'reading', problem: IMAGE_MARKER + READING_PROMPT, solution: `<think>${answer}</think> \\boxed{${count}}`, answer: String(count), image: rasterize(scene, imageSize), scene };
}

/** A computation as the gold solutions write it: `180-50-60=70`, `2*(3+4)=14`. */
const COMPUTATION = /^([0-9+\-*()]+)=(-?[0-9]+)$/;

/**
 * The computation of a random problem of the suite (any family, any kind at `difficulty`),
 * without its figure or its question: `Compute 180-50-60.` -> `<think>180-50-60=70</think> \boxed{70}`.
 */
export function arithmeticDrill(rng: Rng, difficulty: Difficulty, imageSize: number): Drill {
  for (let t = 0; t < 100; t++) {
    const r = rng.fork(t);
    const family = FAMILIES[r.pick(FAMILY_NAMES)];
    const draft = family.sample(r.fork('draft'), difficulty, r.pick(family.kinds(difficulty)));
    const m = COMPUTATION.exec(draft.compute);
    if (!m) continue; // `max=A`, option letters: nothing to compute
    return arithmetic(m[1], draft.compute, m[2], imageSize);
  }
  throw new Error(`arithmeticDrill: no family at difficulty ${difficulty} produced a computation in 100 tries`);
}

/**
 * The ladder world's arithmetic drill: the computation of a ladder problem of one of `families`
 * at one of `rungs`, drawn from the training side of the key split (no test problem is drilled;
 * a test problem's computation may still coincide with a drill's, e.g. counting's `2+4-3`).
 * Computing is what a pretrained model brings; the ladder's headroom is in reading more values
 * from the figure and in not trusting the prior, so the drills cover every rung a run uses.
 */
export function ladderArithmeticDrill(rng: Rng, rungs: readonly Rung[], imageSize: number, families: readonly FamilyName[] = FAMILY_NAMES): Drill {
  for (let t = 0; t < 100; t++) {
    const r = rng.fork(t);
    const family = r.pick(families);
    const rung = r.pick(rungs);
    const draft = sampleLadderDraft(r, family, r.pick(LADDER_FAMILIES[family].kinds(rung)), rung);
    if (splitOf(draft.problemKey, DEFAULT_TEST_FRACTION) !== 'train') continue;
    const m = COMPUTATION.exec(draft.compute);
    if (!m) continue; // `max=A`, `... C`: nothing to compute alone
    return arithmetic(m[1], draft.compute, m[2], imageSize);
  }
  throw new Error(`ladderArithmeticDrill: no computation at rungs ${rungs.join(',')} in 100 tries`);
}

function arithmetic(expr: string, compute: string, answer: string, imageSize: number): Drill {
  return {
    kind: 'arithmetic',
    problem: `${IMAGE_MARKER}Compute ${expr}.`,
    solution: `<think>${compute}</think> \\boxed{${answer}}`,
    answer,
    image: rasterize({ marks: [] }, imageSize),
    scene: { marks: [] },
  };
}
