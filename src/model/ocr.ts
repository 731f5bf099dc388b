/**
 * The vision encoder's reading loss: a linear head on the image tokens — what the decoder sees —
 * predicts, for each patch and each half of it (left, right), which characters are written there.
 *
 * Why it exists: trained only through the decoder, the encoder of a policy trained from scratch
 * never learned to read. Its first features are noise to the decoder, which learns to ignore them
 * faster than they become useful, and once it does no gradient reaches the encoder any more (on
 * reading drills the encoder's gradient fell ~400x in 150 SFT steps and the image stopped changing
 * any log-prob; docs/model.md). Real VLMs start from a pretrained encoder; this loss is our stand-in:
 * a direct, dense signal, computed from what the renderer drew, that makes the image tokens carry
 * what is written where before the decoder has a chance to give up on them.
 *
 * Shapes: G images, N patches, F features per patch, C decoder width, K = OCR_CLASSES.length,
 * SLOTS = 2 halves of a patch. A glyph (3 pixels wide, 4 apart) belongs to the patch and half that
 * hold its centre, so two neighbouring characters of a number never share a slot.
 */

import { numpy as np, nn } from '../engine/jax.ts';
import type { ModelConfig } from './config.ts';
import { dims, OCR_CLASSES, OCR_OUTPUTS } from './config.ts';
import { encodeImage } from './forward.ts';
import { linear } from './layers.ts';
import type { PolicyParams } from './params.ts';

/** A character drawn in an image, at the pixel of its glyph's centre. */
export interface GlyphAt {
  readonly ch: string;
  readonly cx: number;
  readonly cy: number;
}

/** Multi-hot targets [N, SLOTS, K] (flattened) for one image of the config's size. */
export function ocrTargets(glyphs: readonly GlyphAt[], cfg: ModelConfig): Float32Array {
  const { N } = dims(cfg);
  const { size, patch } = cfg.image;
  const side = size / patch;
  const K = OCR_CLASSES.length;
  const out = new Float32Array(N * OCR_OUTPUTS);
  for (const g of glyphs) {
    const c = OCR_CLASSES.indexOf(g.ch.toUpperCase());
    if (c < 0 || g.cx < 0 || g.cy < 0 || g.cx >= size || g.cy >= size) continue;
    const px = Math.floor(g.cx / patch);
    const py = Math.floor(g.cy / patch);
    const slot = g.cx - px * patch < patch / 2 ? 0 : 1;
    out[(py * side + px) * OCR_OUTPUTS + slot * K + c] = 1;
  }
  return out;
}

/** Reading logits of the image tokens: patches [G, N, F] -> [G, N, SLOTS * K]. */
export function ocrLogits(params: PolicyParams, patches: np.Array, cfg: ModelConfig): np.Array {
  return linear(params.vision.ocr, encodeImage(params.vision, patches, cfg));
}

/**
 * Sum over images, patches and outputs of the binary cross-entropy of the reading logits,
 * softplus(z) - y z (= -log sigmoid(z) for y = 1, -log(1 - sigmoid(z)) for y = 0), times the
 * per-image weight w [G] (0 for padding images).
 */
export function ocrLoss(params: PolicyParams, patches: np.Array, targets: np.Array, w: np.Array, cfg: ModelConfig): np.Array {
  const z = ocrLogits(params, patches, cfg); // [G, N, O]
  const G = z.shape[0];
  const bce = nn.softplus(z.ref).sub(z.mul(targets)); // [G, N, O]
  return bce
    .sum([1, 2])
    .mul(w.reshape([G]))
    .sum();
}
