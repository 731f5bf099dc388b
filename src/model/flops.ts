/**
 * Floating-point operation counts of the policy's passes, from the config and the padded shapes
 * actually run (a multiply-add is 2 FLOPs; elementwise work, softmax and layer norms are left
 * out, as is usual). The benchmark divides these by measured time to report achieved GFLOP/s.
 */

import type { ModelConfig, TransformerConfig } from './config.ts';
import { dims } from './config.ts';

/** Matrix-product FLOPs of one token through one transformer block's weights. */
function blockWeights(t: TransformerConfig): number {
  const C = t.width;
  return 2 * (3 * C * C + C * C + 2 * C * t.mlp);
}

/** One image through patch embedding, the ViT and the projector. */
export function visionFlops(cfg: ModelConfig): number {
  const { N, F, C, Cv } = dims(cfg);
  const perToken = 2 * F * Cv + cfg.vision.layers * blockWeights(cfg.vision) + 2 * Cv * C;
  const attention = cfg.vision.layers * 4 * Cv * N * N;
  return N * perToken + attention;
}

export interface PassShape {
  /** Groups, responses per group, prompt bucket, response bucket. */
  readonly G: number;
  readonly R: number;
  readonly P: number;
  readonly T: number;
}

/**
 * Forward FLOPs of a scoring micro-batch (src/model/forward.ts `responseLogits`): the prefix of
 * S = N + P (image) or P (text-only) rows with causal attention over S keys, R x T response rows
 * attending to S + T keys, one-hot embeddings, and the head on the response rows.
 */
export function scoreFlops(cfg: ModelConfig, V: number, s: PassShape, withImage: boolean): number {
  const { N, C, positions } = dims(cfg);
  const L = cfg.decoder.layers;
  const S = s.P + (withImage ? N : 0);
  const embed = 2 * (V + positions) * C;
  const perToken = L * blockWeights(cfg.decoder) + embed;
  const prefix = s.G * S * (perToken + L * 4 * C * S);
  const responses = s.G * s.R * s.T * (perToken + L * 4 * C * (S + s.T) + 2 * C * V);
  return prefix + responses + (withImage ? s.G * visionFlops(cfg) : 0);
}

/** A gradient pass: forward plus a backward of about twice the forward. */
export function trainFlops(cfg: ModelConfig, V: number, s: PassShape, withImage: boolean): number {
  return 3 * scoreFlops(cfg, V, s, withImage);
}

/** One decoding step for `rows` responses over a prefix of S keys and a cache of Tmax columns. */
export function decodeStepFlops(cfg: ModelConfig, V: number, rows: number, S: number, Tmax: number): number {
  const C = cfg.decoder.width;
  const L = cfg.decoder.layers;
  return rows * (L * blockWeights(cfg.decoder) + L * 4 * C * (S + Tmax) + 2 * C * V);
}
