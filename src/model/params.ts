/**
 * The policy's parameter tree, its types and its initialisation. Shapes use the legend in
 * src/model/index.ts. Initialisation follows GPT-2: N(0, 0.02) weights, residual output
 * projections scaled by 1/sqrt(2 * layers) so the residual stream does not grow with depth,
 * zero biases, unit norm gains. All randomness comes from the `Rng` passed in.
 */

import type { Rng } from '../engine/rng.ts';
import type { numpy as np } from '../engine/jax.ts';
import type { HostTensor } from '../engine/safetensors.ts';
import type { ModelConfig, TransformerConfig } from './config.ts';
import { dims, OCR_OUTPUTS } from './config.ts';

export type Linear = { w: np.Array; b: np.Array };
export type Norm = { g: np.Array; b: np.Array };

/** One pre-norm transformer block (vision and decoder share the shape). */
export type Block = {
  ln1: Norm;
  qkv: Linear; // w [C, 3C]
  out: Linear; // w [C, C]
  ln2: Norm;
  fc: Linear; // w [C, M]
  proj: Linear; // w [M, C]
};

export type VisionParams = {
  patch: Linear; // w [F, Cv]: one linear map per patch (a ViT's "patch embedding")
  pos: np.Array; // [N, Cv] learned 2-D position, one row per patch
  layers: Block[];
  lnf: Norm;
  proj: Linear; // w [Cv, C]: the projector into the decoder's width
  ocr: Linear; // w [C, O]: the reading head on the image tokens (ocr.ts), trained by SFT only
};

export type DecoderParams = {
  tok: np.Array; // [V, C]
  pos: np.Array; // [N + maxText, C]: rows 0..N-1 image tokens, N.. text
  layers: Block[];
  lnf: Norm;
  head: np.Array; // [C, headWidth(V)]: columns past V are padding, masked out (see headWidth)
  // [1]: multiplies the logits — a learned inverse temperature of the output. Starts at 1 (the
  // function the weights alone define); checkpoints written before it existed load with 1.
  scale: np.Array;
};

export type PolicyParams = { vision: VisionParams; decoder: DecoderParams };

/** The path of the logit scale, the one parameter older checkpoints lack (loaded as 1). */
export const LOGIT_SCALE = 'decoder.scale';

/**
 * Columns of the output head: V rounded up to a multiple of 16. jax-js 0.1.25's matrix product is
 * 8-14x slower when the output has a column count that is not a multiple of 4 (162, our
 * vocabulary, hits it; docs/engine-notes.md), so the head computes padded logits and
 * `headLogits` (forward.ts) masks the padding columns (probability exactly 0) rather than slicing
 * them off. Padding columns never receive a gradient.
 */
export function headWidth(V: number): number {
  return Math.ceil(V / 16) * 16;
}

/**
 * Fresh parameters as host arrays, in `paramShapes` order: the one initialisation both backends
 * use (the jax-js tree is built from it, the native engine copies it into its flat array).
 * Matrices draw N(0, 0.02) from `rng` in this order; residual output projections (a block's
 * `out` and `proj`) use 0.02 / sqrt(2 layers); the reading head draws from its own fork; biases
 * are 0 (the reading head's -4: most targets are 0, and a prior of sigmoid(-4) ~ 2% keeps the
 * first steps calm), norm gains and the logit scale 1.
 */
export function initHostParams(cfg: ModelConfig, V: number, rng: Rng): [string, HostTensor][] {
  const r = rng.fork('init');
  const out: [string, HostTensor][] = [];
  for (const [name, shape] of paramShapes(cfg, V)) {
    const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
    const last = name.slice(name.lastIndexOf('.') + 1);
    const inBlock = name.includes('.layers.');
    if (name === 'vision.ocr.w') {
      const ocr = r.fork('ocr'); // forked where the draws before it left r
      for (let i = 0; i < data.length; i++) data[i] = ocr.normal() * 0.02;
    } else if (name === 'vision.ocr.b') {
      data.fill(-4);
    } else if (name === LOGIT_SCALE || (last === 'g' && shape.length === 1)) {
      data.fill(1);
    } else if (shape.length >= 2) {
      const tower = name.startsWith('vision') ? cfg.vision : cfg.decoder;
      const residual = inBlock && (name.endsWith('.out.w') || name.endsWith('.proj.w'));
      const std = residual ? 0.02 / Math.sqrt(2 * tower.layers) : 0.02;
      for (let i = 0; i < data.length; i++) data[i] = r.normal() * std;
    }
    out.push([name, { shape, data }]);
  }
  return out;
}

/** Every parameter's path and shape, computed from the config alone (checkpoint validation). */
export function paramShapes(cfg: ModelConfig, V: number): Map<string, number[]> {
  const { N, F, C, Cv, positions } = dims(cfg);
  const m = new Map<string, number[]>();
  const block = (prefix: string, t: TransformerConfig) => {
    const c = t.width;
    m.set(`${prefix}.ln1.g`, [c]).set(`${prefix}.ln1.b`, [c]);
    m.set(`${prefix}.qkv.w`, [c, 3 * c]).set(`${prefix}.qkv.b`, [3 * c]);
    m.set(`${prefix}.out.w`, [c, c]).set(`${prefix}.out.b`, [c]);
    m.set(`${prefix}.ln2.g`, [c]).set(`${prefix}.ln2.b`, [c]);
    m.set(`${prefix}.fc.w`, [c, t.mlp]).set(`${prefix}.fc.b`, [t.mlp]);
    m.set(`${prefix}.proj.w`, [t.mlp, c]).set(`${prefix}.proj.b`, [c]);
  };
  m.set('vision.patch.w', [F, Cv]).set('vision.patch.b', [Cv]).set('vision.pos', [N, Cv]);
  for (let l = 0; l < cfg.vision.layers; l++) block(`vision.layers.${l}`, cfg.vision);
  m.set('vision.lnf.g', [Cv]).set('vision.lnf.b', [Cv]).set('vision.proj.w', [Cv, C]).set('vision.proj.b', [C]);
  m.set('vision.ocr.w', [C, OCR_OUTPUTS]).set('vision.ocr.b', [OCR_OUTPUTS]);
  m.set('decoder.tok', [V, C]).set('decoder.pos', [positions, C]);
  for (let l = 0; l < cfg.decoder.layers; l++) block(`decoder.layers.${l}`, cfg.decoder);
  m.set('decoder.lnf.g', [C])
    .set('decoder.lnf.b', [C])
    .set('decoder.head', [C, headWidth(V)]);
  m.set(LOGIT_SCALE, [1]);
  return m;
}

/** Parameter count from the config alone. */
export function countParams(cfg: ModelConfig, V: number): number {
  let n = 0;
  for (const s of paramShapes(cfg, V).values()) n += s.reduce((a, b) => a * b, 1);
  return n;
}
