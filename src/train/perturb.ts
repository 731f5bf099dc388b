/**
 * The perturbed images VPPO and PAPO score against: each model patch is blackened independently
 * with probability p (VPPO p = 0.5, PAPO p = 0.6, both with the vision encoder's patch size, as
 * their code does).
 */
import type { RgbImage } from '../core/image.ts';
import type { Rng } from '../engine/rng.ts';

export function blackenPatches(image: RgbImage, patch: number, p: number, rng: Rng): RgbImage {
  const data = Uint8Array.from(image.data);
  const across = Math.ceil(image.width / patch);
  const down = Math.ceil(image.height / patch);
  for (let py = 0; py < down; py++) {
    for (let px = 0; px < across; px++) {
      if (!rng.bool(p)) continue;
      for (let y = py * patch; y < Math.min(image.height, (py + 1) * patch); y++) {
        const row = y * image.width * 3;
        data.fill(0, row + px * patch * 3, row + Math.min(image.width, (px + 1) * patch) * 3);
      }
    }
  }
  return { width: image.width, height: image.height, data };
}
