/** Shared fixtures for the model tests: a tiny policy, random images, a few items. */
import { makeRgbImage, type RgbImage } from '../../src/core/image.ts';
import { Rng } from '../../src/engine/rng.ts';
import { VlmPolicy } from '../../src/model/index.ts';
import { NativePolicy } from '../../src/model/native/policy.ts';
import type { Backend } from '../../src/model/config.ts';
import type { ScoreItem } from '../../src/core/policy.ts';

export function randomImage(size: number, rng: Rng): RgbImage {
  return makeRgbImage(
    size,
    size,
    Uint8Array.from({ length: size * size * 3 }, () => rng.int(256)),
  );
}

/** Either backend's policy, with the host-side accessors the model tests use. */
export type TestPolicy = VlmPolicy | NativePolicy;

export async function tinyPolicy(seed = 1, backend: Backend = 'jax'): Promise<TestPolicy> {
  return backend === 'jax' ? VlmPolicy.create('tiny', seed) : NativePolicy.create('tiny', seed);
}

/** Two groups: 3 responses to one image + prompt, 1 to another; lengths vary. */
export function fixtureItems(pol: { imageSize: number; encodePrompt(s: string): number[]; encode(s: string): number[] }, rng = Rng.seeded(7)): ScoreItem[] {
  const a = randomImage(pol.imageSize, rng);
  const b = randomImage(pol.imageSize, rng);
  const pa = pol.encodePrompt('<image>\nWhat is the value of x?');
  const pb = pol.encodePrompt('<image>\nHow many red circles are there?');
  const r = (s: string) => pol.encode(s);
  return [
    { image: a, prompt: pa, response: r('<think>x=5</think> \\boxed{5}') },
    { image: a, prompt: pa, response: r('<think>A=50 B=60 180-50-60=70</think> \\boxed{70}') },
    { image: a, prompt: pa, response: r('7') },
    { image: b, prompt: pb, response: r('<think>3 red</think> \\boxed{3}') },
  ];
}

/** Random per-token values shaped like the items' responses. */
export function randomPerToken(items: readonly ScoreItem[], rng: Rng, scale = 1): Float32Array[] {
  return items.map((it) => Float32Array.from({ length: it.response.length }, () => rng.normal() * scale));
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`lengths ${a.length} and ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}
