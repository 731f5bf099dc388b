/**
 * Small helpers the family files share: drawing a question tag for vision-only images, joining
 * the readings of a gold solution, and sampling values on a grid of steps.
 */
import type { Rng } from '../../engine/rng.ts';
import { COLORS, draw, type Mark } from '../scene.ts';
import type { Given } from '../types.ts';

/** The vision-only question, drawn across the top row of the figure (design rows 0..4). */
export function questionTag(text: string): Mark {
  if (text.length > 8) throw new Error(`image question "${text}" is longer than 8 characters and would not fit at 32 px`);
  return draw.text(16, 0, text, 'center', 'top');
}

/**
 * A bar chart on the 32-unit design grid: an axis at row 25, one blue bar per value (height
 * proportional to value / max, 13 rows at most, `barWidth` wide) with its value above it and its
 * letter below.
 */
export function barChart(values: readonly number[], letters: readonly string[], barWidth: number): Mark[] {
  const slot = 32 / values.length;
  const max = Math.max(...values);
  const marks: Mark[] = [draw.line(0, 25, 31.9, 25)];
  values.forEach((v, i) => {
    const cx = slot * (i + 0.5);
    const h = Math.max(1, Math.round((v / max) * 13));
    marks.push(draw.rect(cx - barWidth / 2, 25 - h, barWidth, h, { fill: COLORS.blue }));
    marks.push(draw.text(cx + 0.5, 25 - h - 1, String(v), 'center', 'bottom'));
    marks.push(draw.text(cx + 0.5, 27, letters[i], 'center', 'top'));
  });
  return marks;
}

/** A value in [lo, hi] on multiples of `step`. */
export function stepped(rng: Rng, lo: number, hi: number, step: number): number {
  const first = Math.ceil(lo / step);
  const last = Math.floor(hi / step);
  return rng.range(first, last) * step;
}

export function given(name: string, value: number | string, shown: Given['shown'] = 'written'): Given {
  return { name, value: String(value), shown };
}

/** Rejection sampling with a bound, so a too-narrow configuration fails loudly, not forever. */
export function until<T>(rng: Rng, what: string, draw: (rng: Rng) => T, ok: (v: T) => boolean): T {
  for (let i = 0; i < 1000; i++) {
    const v = draw(rng);
    if (ok(v)) return v;
  }
  throw new Error(`could not sample ${what} in 1000 tries; the difficulty settings leave no valid values`);
}
