/**
 * Small helpers the family files share: drawing a question tag for vision-only images, joining
 * the readings of a gold solution, and sampling values on a grid of steps.
 */
import type { Rng } from '../../engine/rng.ts';
import { draw, type Mark } from '../scene.ts';
import type { Given } from '../types.ts';

/** The vision-only question, drawn across the top row of the figure (design rows 0..4). */
export function questionTag(text: string): Mark {
  if (text.length > 8) throw new Error(`image question "${text}" is longer than 8 characters and would not fit at 32 px`);
  return draw.text(16, 0, text, 'center', 'top');
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
