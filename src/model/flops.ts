/**
 * Floating-point operation counts of the policy's passes (a multiply-add is 2 FLOPs; elementwise
 * work, softmax and layer norms are left out, as is usual), over the real rows of a native
 * micro-batch: no padding is counted. The model benchmark divides these by measured time to
 * report achieved GFLOP/s for either backend on the same work.
 */

import type { ModelConfig, TransformerConfig } from './config.ts';
import { dims } from './config.ts';
import type { MicroBatch } from './native/plan.ts';

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

/**
 * Forward FLOPs of one micro-batch: the images, every decoder row through every block, attention
 * (a group's prefix over itself, its responses over the prefix and over themselves: QK^T and PV),
 * and the head on the logit rows.
 */
export function forwardFlops(cfg: ModelConfig, V: number, mb: MicroBatch): number {
  const C = cfg.decoder.width;
  let f = mb.images * visionFlops(cfg) + mb.plan.rows * cfg.decoder.layers * blockWeights(cfg.decoder);
  for (const g of mb.plan.spec.groups) {
    const ntot = g.resp.reduce((a, n) => a + n, 0);
    f += cfg.decoder.layers * 4 * C * (g.S * g.S + ntot * g.S + g.resp.reduce((a, n) => a + n * n, 0));
  }
  return f + 2 * C * V * mb.plan.targets.length;
}
