/**
 * Learning rate at a step (1-based): constant, or linear warmup then cosine decay to
 * min_lr_ratio * lr at the last step. Pure, so a resumed run gets the same rate at the same step.
 */
export interface ScheduleConfig {
  readonly lr: number;
  readonly schedule: 'constant' | 'cosine';
  readonly warmup_steps: number;
  readonly min_lr_ratio: number;
}

export function learningRate(o: ScheduleConfig, step: number, totalSteps: number): number {
  if (o.warmup_steps > 0 && step <= o.warmup_steps) return (o.lr * step) / o.warmup_steps;
  if (o.schedule === 'constant') return o.lr;
  const span = Math.max(1, totalSteps - o.warmup_steps);
  const progress = Math.min(1, Math.max(0, (step - o.warmup_steps) / span));
  const floor = o.lr * o.min_lr_ratio;
  return floor + 0.5 * (o.lr - floor) * (1 + Math.cos(Math.PI * progress));
}
