/**
 * What a run writes besides metrics, for people and for the report: a few example rollouts per
 * logged step (image, text piece by piece, S_t and w~_t), and every kept rollout's per-token
 * dependencies for the analyses. Formats: docs/training.md.
 */
import sharp from 'sharp';
import type { RgbImage } from '../core/image.ts';
import type { Policy } from '../core/policy.ts';
import type { StepRollout } from './rl-step.ts';

export async function pngBase64(image: RgbImage): Promise<string> {
  const buf = await sharp(Buffer.from(image.data), { raw: { width: image.width, height: image.height, channels: 3 } })
    .png()
    .toBuffer();
  return buf.toString('base64');
}

const round = (xs: ArrayLike<number> | null) => (xs ? Array.from(xs, (x) => Math.round(x * 1e5) / 1e5) : null);

/** Up to `n` rollouts, learning signal first (non-zero advantage), one per group where possible. */
function pickExamples(rollouts: readonly StepRollout[], n: number): StepRollout[] {
  const seen = new Set<number>();
  const firstOfGroup = rollouts.filter((r) => r.advantage !== 0 && !seen.has(r.group) && seen.add(r.group));
  const rest = rollouts.filter((r) => !firstOfGroup.includes(r));
  return [...firstOfGroup, ...rest].slice(0, n);
}

export async function exampleLines(rollouts: readonly StepRollout[], policy: Policy, n: number, step: number): Promise<string[]> {
  const out: string[] = [];
  for (const r of pickExamples(rollouts, n)) {
    out.push(
      JSON.stringify({
        step,
        family: r.problem.family,
        variant: r.problem.variant,
        problem: r.problem.problem,
        answer: r.problem.answer,
        image_png: await pngBase64(r.problem.image),
        pieces: r.rollout.tokens.map((t) => policy.decode([t]) || (t === policy.eos ? '<eos>' : '')),
        dep: round(r.dependency),
        weights: round(r.weights),
        advantage: r.advantage,
        reward: r.reward,
        accuracy: r.accuracy,
        image_values: r.problem.imageValues ?? [],
        text_values: r.problem.textValues ?? [],
      }) + '\n',
    );
  }
  return out;
}

/** Every rollout with dependencies (PGPO, VPPO), for the token-level analyses. */
export function tokenLines(rollouts: readonly StepRollout[], policy: Policy): string[] {
  return rollouts
    .filter((r) => r.dependency)
    .map(
      (r) =>
        JSON.stringify({
          family: r.problem.family,
          variant: r.problem.variant,
          pieces: r.rollout.tokens.map((t) => policy.decode([t]) || (t === policy.eos ? '<eos>' : '')),
          dep: round(r.dependency),
          weights: round(r.weights),
          accuracy: r.accuracy,
          image_values: r.problem.imageValues ?? [],
          text_values: r.problem.textValues ?? [],
        }) + '\n',
    );
}
