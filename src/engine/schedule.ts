/**
 * Learning-rate schedules as pure functions of the optimizer step (0-based): no state, so a run
 * resumed from a checkpoint at step s continues with exactly the rate it would have had.
 */

export type Schedule =
  | { readonly kind: 'constant'; readonly lr: number }
  /** Linear warmup from 0 to lr over `warmup` steps, then cosine decay to `minLr` at `total`. */
  | { readonly kind: 'warmup-cosine'; readonly lr: number; readonly warmup: number; readonly total: number; readonly minLr?: number };

export function learningRate(s: Schedule, step: number): number {
  if (!Number.isInteger(step) || step < 0) throw new Error(`learningRate: step must be a non-negative integer, got ${step}`);
  if (s.kind === 'constant') return s.lr;
  const minLr = s.minLr ?? 0;
  if (s.warmup > 0 && step < s.warmup) return (s.lr * (step + 1)) / s.warmup;
  const span = Math.max(1, s.total - s.warmup);
  const t = Math.min(1, (step - s.warmup) / span);
  return minLr + 0.5 * (s.lr - minLr) * (1 + Math.cos(Math.PI * t));
}
