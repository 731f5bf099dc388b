/**
 * The ladder world (opt-in: `world: 'ladder'`; the default `classic` suite is untouched): the same
 * five families and MathVerse variants, redesigned so that
 *  1. nothing can be memorised: every family draws from at least a million distinct problems at
 *     every rung (`ladderSpaceSize`, exact, from the ranges below), and instance i of a stream is
 *     a pure function of (seed, i) — no de-duplication against earlier instances;
 *  2. difficulty is an explicit ladder of rungs 1..5: more values to read (2, 3, 3, 4, 4) and, on
 *     rungs 3 and 5, a longer composition (the last value is subtracted, not added);
 *  3. some families carry a language prior that misleads: a plausible answer guessable without
 *     looking (chart: "the last bar is tallest"; counting: "red is most common"; choice: "the
 *     answer is C"), true on a designed share of instances that falls with the rung
 *     (`PRIOR_RATE`: 90% on rung 1, 10% on rung 5). Each such instance records `priorAnswer`.
 * Layouts are designed for the 48 px image (the font is 3x5 pixels: 2 x 3.3 design units).
 */
import type { Rng } from '../engine/rng.ts';
import { barChart, questionTag, until } from './families/common.ts';
import { COLORS, draw, type Mark } from './scene.ts';
import type { Draft, FamilyName, Given, Options } from './types.ts';
import { optionLetter } from './variants.ts';

export const RUNGS = [1, 2, 3, 4, 5] as const;
export type Rung = (typeof RUNGS)[number];

/** Per rung: how many values the question reads, their range, and whether the last is subtracted. */
export const LADDER_RUNGS: Readonly<Record<Rung, { readonly values: number; readonly lo: number; readonly hi: number; readonly subtract: boolean }>> = {
  1: { values: 2, lo: 100, hi: 999, subtract: false },
  2: { values: 3, lo: 10, hi: 99, subtract: false },
  3: { values: 3, lo: 10, hi: 99, subtract: true },
  4: { values: 4, lo: 10, hi: 99, subtract: false },
  5: { values: 4, lo: 10, hi: 99, subtract: true },
};

/** Share of prior-carrying instances on which the prior's answer is the right one, per rung. */
export const PRIOR_RATE: Readonly<Record<Rung, number>> = { 1: 0.9, 2: 0.8, 3: 0.5, 4: 0.2, 5: 0.1 };

/** What each family's prior says, for people (docs/tasks.md). */
export const PRIOR_DESCRIPTIONS: Partial<Record<FamilyName, string>> = {
  chart: '`bar-max`: "the last bar is the tallest" (a rising trend)',
  counting: '`most-color`: "red is the most common colour"',
  choice: '`pick-total`: "the answer is C" (a frequent option)',
};

/** Counting's grid: 4 x 4 cells, each empty, a gray distractor dot, or a dot of an asked colour. */
const GRID = 16;
const COUNT_COLORS = ['red', 'blue', 'green', 'orange'] as const;
const LETTERS = ['A', 'B', 'C', 'D'];
const NAMES = ['x', 'y', 'z', 'w'];
/** The option the choice family's prior favours (index 2: C). */
const PRIOR_OPTION = 2;
/** Distractor options: the answer plus a distinct offset from -5..-1, 1..5. */
const OFFSETS = [-5, -4, -3, -2, -1, 1, 2, 3, 4, 5];

export interface LadderDraft extends Draft {
  readonly rung: Rung;
  /** What the family's language prior answers (undefined: this kind has no prior). */
  readonly priorAnswer?: string;
}

export interface LadderFamily {
  readonly kinds: (rung: Rung) => readonly string[];
  readonly sample: (rng: Rng, rung: Rung, kind: string) => LadderDraft;
}

const signs = (n: number, subtract: boolean) => Array.from({ length: n }, (_, i) => (i > 0 && subtract && i === n - 1 ? '-' : '+'));
/** `12+45-78` and its value. */
function combine(values: readonly number[], ops: readonly string[]): [string, number] {
  let v = values[0];
  let s = String(values[0]);
  for (let i = 1; i < values.length; i++) {
    v += ops[i] === '-' ? -values[i] : values[i];
    s += ops[i] + values[i];
  }
  return [s, v];
}
const drawValues = (rng: Rng, n: number, lo: number, hi: number) => Array.from({ length: n }, () => rng.range(lo, hi));
const uniqueMax = (vs: readonly number[]) => vs.filter((v) => v === Math.max(...vs)).length === 1;
const given = (name: string, value: number, shown: Given['shown'] = 'written'): Given => ({ name, value: String(value), shown });

// ---- chart: labelled bars; their signed total, or which is tallest (prior: the last one) ----

const chart: LadderFamily = {
  kinds: () => ['bar-total', 'bar-max'],
  sample: (rng, rung, kind) => {
    const k = LADDER_RUNGS[rung];
    const n = k.values;
    const ops = signs(n, k.subtract);
    const holds = rng.bool(PRIOR_RATE[rung]);
    const values =
      kind === 'bar-max'
        ? until(
            rng,
            'bar values',
            (r) => drawValues(r, n, k.lo, k.hi),
            (vs) => uniqueMax(vs) && (vs[n - 1] === Math.max(...vs)) === holds,
          )
        : drawValues(rng, n, k.lo, k.hi);
    const [expr, total] = combine(values, ops);
    const letters = LETTERS.slice(0, n);
    const asked = letters.map((l, i) => (i ? ops[i] : '') + l).join('');
    const maxLetter = letters[values.indexOf(Math.max(...values))];
    const spec =
      kind === 'bar-max'
        ? { q: 'Which bar is tallest?', tag: 'MAX=?', answer: maxLetter, compute: `max=${maxLetter}` }
        : { q: `Find ${asked}.`, tag: `${asked}=?`.slice(0, 8), answer: String(total), compute: `${expr}=${total}` };
    return {
      kind,
      rung,
      key: { values, ops: kind === 'bar-max' ? null : ops },
      givens: values.map((v, i) => given(letters[i], v)),
      answer: spec.answer,
      ...(kind === 'bar-max' ? { priorAnswer: letters[n - 1] } : {}),
      describe: 'It is a bar chart.',
      state: (shown) => (shown.length ? `Bars: ${shown.map((g) => `${g.name}=${g.value}`).join(', ')}.` : ''),
      question: spec.q,
      imageQuestion: spec.tag,
      compute: spec.compute,
      scene: (show) => {
        const marks = barChart(values, letters, 5); // 5 wide: the ladder draws up to 4 bars
        if (show.question) marks.push(questionTag(spec.tag));
        return { marks };
      },
    };
  },
};

// ---- geometry: a segment cut into parts; the whole, or a missing part given the whole ----

const geometry: LadderFamily = {
  // Rungs 3 and 5 (the longer compositions) ask only for a missing part: whole minus the others.
  kinds: (rung) => (LADDER_RUNGS[rung].subtract ? ['seg-part'] : ['seg-whole', 'seg-part']),
  sample: (rng, rung, kind) => {
    const k = LADDER_RUNGS[rung];
    const n = k.values;
    const parts = drawValues(rng, n, k.lo, k.hi);
    const whole = parts.reduce((a, b) => a + b, 0);
    const missing = kind === 'seg-part' ? rng.int(n) : -1;
    const known = parts.filter((_, i) => i !== missing);
    const givens = kind === 'seg-whole' ? parts.map((p, i) => given(NAMES[i], p)) : [given('T', whole), ...known.map((p, i) => given(NAMES[i], p))];
    const spec =
      kind === 'seg-whole'
        ? { q: 'Find the whole length.', tag: 'WHOLE=?', answer: whole, compute: `${parts.join('+')}=${whole}` }
        : { q: 'Find the part marked ?.', tag: 'FIND ?', answer: parts[missing], compute: `${whole}-${known.join('-')}=${parts[missing]}` };
    return {
      kind,
      rung,
      key: { parts, missing },
      givens,
      answer: String(spec.answer),
      describe: 'A segment is cut into parts.',
      state: (shown) => (shown.length ? `${shown.map((g) => (g.name === 'T' ? `The whole is ${g.value}` : `${g.name}=${g.value}`)).join(', ')}.` : ''),
      question: spec.q,
      imageQuestion: spec.tag,
      compute: spec.compute,
      scene: (show) => {
        const w = 28 / n;
        const marks: Mark[] = [
          draw.line(2, 14, 30, 14, COLORS.gray),
          draw.line(2, 13, 2, 15, COLORS.gray),
          draw.line(30, 13, 30, 15, COLORS.gray),
          draw.text(16.5, 12, kind === 'seg-whole' ? '?' : String(whole), 'center', 'bottom', kind === 'seg-whole' ? COLORS.red : COLORS.black),
          draw.line(2, 21, 30, 21),
        ];
        for (let i = 0; i <= n; i++) marks.push(draw.line(2 + w * i, 19, 2 + w * i, 23));
        parts.forEach((p, i) => {
          const x = 2 + w * (i + 0.5) + 0.5;
          marks.push(i === missing ? draw.text(x, 25, '?', 'center', 'top', COLORS.red) : draw.text(x, 25, String(p), 'center', 'top'));
        });
        if (show.question) marks.push(questionTag(spec.tag));
        return { marks };
      },
    };
  },
};

// ---- counting: dots on a 4 x 4 grid; a signed total of colour counts, or the most common colour (prior: red) ----

const counting: LadderFamily = {
  kinds: () => ['count-total', 'most-color'],
  sample: (rng, rung, kind) => {
    const k = LADDER_RUNGS[rung];
    const n = k.values;
    const colors = COUNT_COLORS.slice(0, n);
    const ops = signs(n, k.subtract);
    // cell content: -1 empty, -2 gray distractor, i >= 0 colour i; uniform over the n + 2 states
    const drawCells = (r: Rng) => Array.from({ length: GRID }, () => r.int(n + 2) - 2);
    const countsOf = (cells: readonly number[]) => colors.map((_, i) => cells.filter((c) => c === i).length);
    const holds = rng.bool(PRIOR_RATE[rung]);
    const cells =
      kind === 'most-color'
        ? until(rng, 'a grid', drawCells, (cs) => {
            const c = countsOf(cs);
            return uniqueMax(c) && (c[0] === Math.max(...c)) === holds;
          })
        : drawCells(rng);
    const counts = countsOf(cells);
    const [expr, total] = combine(counts, ops);
    const most = colors[counts.indexOf(Math.max(...counts))];
    const asked = colors.map((c, i) => (i ? ops[i] : '') + c).join('');
    const spec = kind === 'most-color' ? { q: 'Which color is most common?', answer: most, compute: `max=${most}` } : { q: `Find ${asked}.`, answer: String(total), compute: `${expr}=${total}` };
    return {
      kind,
      rung,
      // the arrangement is the problem: which cell holds which colour (gray dots included)
      key: { cells, ops: kind === 'most-color' ? null : ops },
      // readings by initial (`r=3 b=5`): four colour words would push the solution past 60 characters
      givens: colors.map((c, i) => given(c[0], counts[i], 'counted')),
      answer: spec.answer,
      ...(kind === 'most-color' ? { priorAnswer: 'red' } : {}),
      describe: 'Dots on a grid.',
      state: (shown) => {
        const word = (g: Given) => colors.find((c) => c[0] === g.name)!;
        return shown.length ? `${shown.map((g, i) => `${i === 0 ? word(g)[0].toUpperCase() + word(g).slice(1) : word(g)}: ${g.value}`).join(', ')}.` : '';
      },
      question: spec.q,
      imageQuestion: kind === 'most-color' ? 'MOST?' : 'SUM',
      compute: spec.compute,
      scene: (show) => {
        const marks: Mark[] = [];
        cells.forEach((c, i) => {
          if (c === -1) return;
          const fill = c === -2 ? COLORS.gray : COLORS[colors[c]];
          marks.push(draw.circle(4 + 8 * (i % 4), 9 + 6.5 * Math.floor(i / 4), 2, { fill }));
        });
        if (show.question) {
          if (kind === 'most-color') marks.push(questionTag('MOST?'));
          else
            // colour swatches stand for the colour words: [red] + [blue] - [green]
            colors.forEach((c, i) => {
              if (i) marks.push(draw.text(8 * i - 2, 0, ops[i], 'center', 'top'));
              marks.push(draw.rect(8 * i + 1, 0, 3, 3, { fill: COLORS[c] }));
            });
        }
        return { marks };
      },
    };
  },
};

// ---- arithmetic: a column calculation; its result, or the missing last number ----

const arithmetic: LadderFamily = {
  kinds: () => ['column-total', 'column-missing'],
  sample: (rng, rung, kind) => {
    const k = LADDER_RUNGS[rung];
    const n = k.values;
    const ops = signs(n, k.subtract);
    const rows = drawValues(rng, n, k.lo, k.hi);
    const [expr, result] = combine(rows, ops);
    const last = rows[n - 1];
    const missing = kind === 'column-missing';
    const givens = missing ? [...rows.slice(0, -1).map((v, i) => given(NAMES[i], v)), given('r', result)] : rows.map((v, i) => given(NAMES[i], v));
    const [head] = combine(rows.slice(0, -1), ops);
    // the missing last row: result minus the others (or the others minus the result when it is subtracted)
    const compute = !missing ? `${expr}=${result}` : ops[n - 1] === '-' ? `${head}-${result}=${last}` : `${result}-${rows.slice(0, -1).join('-')}=${last}`;
    return {
      kind,
      rung,
      key: { rows, ops, missing },
      givens,
      answer: String(missing ? last : result),
      describe: 'The figure is a calculation.',
      state: (shown) => (shown.length ? `${shown.map((g) => `${g.name}=${g.value}`).join(', ')}.` : ''),
      question: missing ? 'Find the missing number.' : 'Find the result.',
      imageQuestion: 'FIND ?',
      compute,
      scene: (show) => {
        const right = 24;
        const marks: Mark[] = [];
        rows.forEach((v, i) => {
          const y = 6 + 5.5 * i;
          if (i) marks.push(draw.text(right - 16, y, ops[i], 'left', 'top'));
          marks.push(missing && i === n - 1 ? draw.text(right, y, '?', 'right', 'top', COLORS.red) : draw.text(right, y, String(v), 'right', 'top'));
        });
        const ruleY = 6 + 5.5 * n - 1;
        marks.push(draw.line(right - 17, ruleY, right + 1, ruleY));
        marks.push(missing ? draw.text(right, ruleY + 1.5, String(result), 'right', 'top') : draw.text(right, ruleY + 1.5, '?', 'right', 'top', COLORS.red));
        if (show.question) marks.push(questionTag('FIND ?'));
        return { marks };
      },
    };
  },
};

// ---- choice: named values in the figure, the signed total, four options (prior: C) ----

const choice: LadderFamily = {
  kinds: () => ['pick-total'],
  sample: (rng, rung, kind) => {
    const k = LADDER_RUNGS[rung];
    const n = k.values;
    const ops = signs(n, k.subtract);
    const values = drawValues(rng, n, k.lo, k.hi);
    const [expr, total] = combine(values, ops);
    const correct = rng.bool(PRIOR_RATE[rung]) ? PRIOR_OPTION : rng.pick([0, 1, 3]);
    const offsets = rng.shuffle([...OFFSETS]).slice(0, 3);
    const optionValues = [...offsets.map((o) => total + o)];
    optionValues.splice(correct, 0, total);
    const options: Options = { values: optionValues.map(String), correct };
    const names = NAMES.slice(0, n);
    const asked = names.map((x, i) => (i ? ops[i] : '') + x).join('');
    const letter = optionLetter(correct);
    return {
      kind,
      rung,
      key: { values, ops, options: optionValues },
      givens: values.map((v, i) => given(names[i], v)),
      answer: letter,
      priorAnswer: optionLetter(PRIOR_OPTION),
      options,
      describe: 'Values are shown.',
      state: (shown) => (shown.length ? `${shown.map((g) => `${g.name}=${g.value}`).join(', ')}.` : ''),
      question: `Find ${asked}.`,
      imageQuestion: `${asked}=?`.slice(0, 8),
      compute: `${expr}=${total} ${letter}`,
      scene: (show) => {
        const marks: Mark[] = values.map((v, i) => draw.text(i % 2 === 0 ? 2 : 17, i < 2 ? 7 : 13.5, `${names[i]}=${v}`, 'left', 'top'));
        if (show.options) {
          optionValues.forEach((v, i) => {
            const x = i % 2 === 0 ? 2 : 17;
            const y = i < 2 ? 21 : 27;
            marks.push(draw.text(x, y, optionLetter(i), 'left', 'top', COLORS.red), draw.text(x + 3, y, String(v), 'left', 'top'));
          });
        }
        if (show.question) marks.push(questionTag(`${asked}=?`.slice(0, 8)));
        return { marks };
      },
    };
  },
};

export const LADDER_FAMILIES: Readonly<Record<FamilyName, LadderFamily>> = { geometry, chart, counting, choice, arithmetic };

// ---- the size of the problem space, exactly, from the ranges above ----

/** Ordered n-tuples over [lo, hi] with a unique maximum: sum over the max m of n (m - lo)^(n-1). */
export function uniqueMaxTuples(n: number, lo: number, hi: number): number {
  let s = 0;
  for (let m = lo; m <= hi; m++) s += n * (m - lo) ** (n - 1);
  return s;
}

/** Grids of `cells` cells over n colours + gray + empty whose colour counts have a unique maximum. */
export function uniqueMaxGrids(n: number, cells = GRID): number {
  const fact = [1];
  for (let i = 1; i <= cells; i++) fact.push(fact[i - 1] * i);
  let s = 0;
  // counts of the n colours; the rest of the cells are empty or gray (2^rest ways)
  const walk = (i: number, left: number, counts: number[]) => {
    if (i === n) {
      if (!uniqueMax(counts)) return;
      const rest = left;
      let ways = fact[cells] / fact[rest];
      for (const c of counts) ways /= fact[c];
      s += ways * 2 ** rest;
      return;
    }
    for (let c = 0; c <= left; c++) walk(i + 1, left - c, [...counts, c]);
  };
  walk(0, cells, []);
  return Math.round(s);
}

/** Distinct problems of one kind at one rung (problems, not instances: variants reword a problem). */
export function ladderKindSpace(family: FamilyName, kind: string, rung: Rung): number {
  const { values: n, lo, hi } = LADDER_RUNGS[rung];
  const tuples = (hi - lo + 1) ** n;
  switch (`${family}/${kind}`) {
    case 'chart/bar-total':
    case 'arithmetic/column-total':
    case 'arithmetic/column-missing':
    case 'geometry/seg-whole':
      return tuples;
    case 'chart/bar-max':
      return uniqueMaxTuples(n, lo, hi);
    case 'geometry/seg-part':
      return n * tuples; // which part is missing
    case 'counting/count-total':
      return (n + 2) ** GRID;
    case 'counting/most-color':
      return uniqueMaxGrids(n);
    case 'choice/pick-total':
      return tuples * 4 * (OFFSETS.length * (OFFSETS.length - 1) * (OFFSETS.length - 2)); // answer's place x ordered distractors
    default:
      throw new Error(`ladder: no kind "${kind}" in family ${family}`);
  }
}

/** Distinct problems of a family at a rung: the sum over its kinds (a kind is part of the problem key). */
export function ladderSpaceSize(family: FamilyName, rung: Rung): number {
  return LADDER_FAMILIES[family].kinds(rung).reduce((s, kind) => s + ladderKindSpace(family, kind, rung), 0);
}
