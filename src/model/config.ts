/**
 * Every size of the vision-language policy in one object, with named presets: `tiny` for tests
 * (compiles in a second or two), `small`, the default, sized for RL on a 2-core CPU with jax-js,
 * and `medium`, sized for the native engine. The
 * reasoning behind `small` is in docs/model.md. Configs are plain JSON: checkpoints store them.
 */

import { DEFAULT_PIECES } from './tokenizer.ts';

export interface ImageConfig {
  /** Square input side in pixels; images of another size are rejected (render at this size). */
  readonly size: number;
  /** Square patch side in pixels; `size` must be a multiple. N = (size / patch)^2 image tokens. */
  readonly patch: number;
}

export interface TransformerConfig {
  /** Residual width C. */
  readonly width: number;
  readonly layers: number;
  /** Attention heads H; width must be a multiple (head size D = C / H). */
  readonly heads: number;
  /** MLP hidden width M. */
  readonly mlp: number;
}

export interface DecoderConfig extends TransformerConfig {
  /** Longest text (bos + prompt + response) the position table covers. */
  readonly maxText: number;
}

/**
 * Fixed micro-batch shapes, so jit compiles a handful of programs per process and no single call
 * holds more intermediates than the wasm heap (4 GiB) allows. A batch is cut into micro-batches
 * of G groups x R rollouts; lengths are padded up to the next bucket.
 */
export interface BatchingConfig {
  /** Prompt buckets (bos included), ascending; the last one is the longest prompt accepted. */
  readonly promptBuckets: readonly number[];
  /** Response buckets, ascending; the last one is the longest response accepted. */
  readonly responseBuckets: readonly number[];
  /** Upper bound on G x (prefix + R x response) tokens in one scoring micro-batch. */
  readonly tokensPerMicroBatch: number;
  /**
   * The same bound for gradient micro-batches, which hold every intermediate of the backward
   * pass: jax-js keeps a jitted call's intermediates in the wasm heap, and a PAPO run (two image
   * modes, entropy terms: more programs) at 4,096 tokens crossed the heap's 4 GiB. Absent in
   * checkpoints written before it existed: the preset's value applies (gradTokens()).
   */
  readonly gradTokensPerMicroBatch?: number;
  /** Upper bound on prompts x rollouts decoded together by `sample`. */
  readonly maxDecodeRows: number;
}

export interface ModelConfig {
  readonly preset: string;
  readonly image: ImageConfig;
  readonly vision: TransformerConfig;
  readonly decoder: DecoderConfig;
  /** Multi-character tokens, matched greedily longest-first (see tokenizer.ts). */
  readonly pieces: readonly string[];
  readonly batching: BatchingConfig;
}

export const PRESETS = {
  tiny: {
    preset: 'tiny',
    image: { size: 48, patch: 16 },
    vision: { width: 16, layers: 1, heads: 2, mlp: 32 },
    decoder: { width: 32, layers: 2, heads: 2, mlp: 64, maxText: 192 },
    pieces: DEFAULT_PIECES,
    batching: { promptBuckets: [32, 64, 96], responseBuckets: [16, 32, 48, 64, 96], tokensPerMicroBatch: 1024, gradTokensPerMicroBatch: 1024, maxDecodeRows: 64 },
  },
  small: {
    preset: 'small',
    image: { size: 48, patch: 8 },
    vision: { width: 64, layers: 2, heads: 2, mlp: 128 },
    decoder: { width: 128, layers: 4, heads: 4, mlp: 384, maxText: 192 },
    pieces: DEFAULT_PIECES,
    batching: { promptBuckets: [32, 64, 96], responseBuckets: [16, 32, 48, 64, 96], tokensPerMicroBatch: 4096, gradTokensPerMicroBatch: 2048, maxDecodeRows: 160 },
  },
  // sized for the native engine (docs/model.md, "Presets"): ~3.3x small's parameters and
  // FLOPs per token, a deeper and wider encoder for reading
  medium: {
    preset: 'medium',
    image: { size: 48, patch: 8 },
    vision: { width: 128, layers: 3, heads: 4, mlp: 256 },
    decoder: { width: 192, layers: 6, heads: 6, mlp: 576, maxText: 192 },
    pieces: DEFAULT_PIECES,
    batching: { promptBuckets: [32, 64, 96], responseBuckets: [16, 32, 48, 64, 96], tokensPerMicroBatch: 4096, gradTokensPerMicroBatch: 1024, maxDecodeRows: 160 },
  },
} as const satisfies Record<string, ModelConfig>;

export type PresetName = keyof typeof PRESETS;

/** The policy's engines (src/model/backends.ts), chosen by `worker.actor.backend`. */
export const BACKENDS = ['native', 'jax'] as const;
export type Backend = (typeof BACKENDS)[number];

/** A preset by name, optionally with some fields replaced. */
export function modelConfig(name: PresetName = 'small', overrides: Partial<ModelConfig> = {}): ModelConfig {
  const base = PRESETS[name];
  if (!base) throw new Error(`unknown model preset '${name}' (have: ${Object.keys(PRESETS).join(', ')})`);
  const cfg = { ...base, ...overrides } as ModelConfig;
  validateConfig(cfg);
  return cfg;
}

/** Derived sizes used throughout the model. */
export function dims(cfg: ModelConfig) {
  const side = cfg.image.size / cfg.image.patch;
  return {
    /** image tokens */
    N: side * side,
    /** features per patch */
    F: cfg.image.patch * cfg.image.patch * 3,
    C: cfg.decoder.width,
    Cv: cfg.vision.width,
    H: cfg.decoder.heads,
    D: cfg.decoder.width / cfg.decoder.heads,
    /** positions in the decoder's table: N image tokens then maxText text tokens */
    positions: side * side + cfg.decoder.maxText,
  };
}

/** The gradient micro-batch budget: the config's, else its preset's, else the scoring budget. */
export function gradTokens(cfg: ModelConfig): number {
  const presets: Record<string, ModelConfig> = PRESETS;
  return cfg.batching.gradTokensPerMicroBatch ?? presets[cfg.preset]?.batching.gradTokensPerMicroBatch ?? cfg.batching.tokensPerMicroBatch;
}

export function validateConfig(cfg: ModelConfig): void {
  const bad = (msg: string) => {
    throw new Error(`model config '${cfg.preset}': ${msg}`);
  };
  const { size, patch } = cfg.image;
  if (!(Number.isInteger(size) && Number.isInteger(patch) && patch > 0 && size % patch === 0)) {
    bad(`image.size (${size}) must be a positive multiple of image.patch (${patch})`);
  }
  for (const [name, t] of [
    ['vision', cfg.vision],
    ['decoder', cfg.decoder],
  ] as const) {
    if (t.width % t.heads !== 0) bad(`${name}.width (${t.width}) must be a multiple of ${name}.heads (${t.heads})`);
    if (t.layers < 1 || t.mlp < 1) bad(`${name} needs at least one layer and a positive mlp width`);
  }
  const b = cfg.batching;
  const asc = (xs: readonly number[]) => xs.length > 0 && xs.every((x, i) => Number.isInteger(x) && x > 0 && (i === 0 || x > xs[i - 1]));
  if (!asc(b.promptBuckets) || !asc(b.responseBuckets)) bad('batching buckets must be ascending positive integers');
  const budgets: Array<[string, number | undefined]> = [
    ['tokensPerMicroBatch', b.tokensPerMicroBatch],
    ['gradTokensPerMicroBatch', b.gradTokensPerMicroBatch],
  ];
  for (const [name, v] of budgets) if (v !== undefined && !(Number.isInteger(v) && v > 0)) bad(`batching.${name} (${v}) must be a positive integer`);
  const longest = b.promptBuckets[b.promptBuckets.length - 1] + b.responseBuckets[b.responseBuckets.length - 1];
  if (longest > cfg.decoder.maxText) bad(`longest prompt + response bucket (${longest}) exceeds decoder.maxText (${cfg.decoder.maxText})`);
}

/** The vision encoder's reading head (ocr.ts): K characters x 2 halves of a patch per image token. */
/** The characters the reading head names: what the task figures write. Others are not targets. */
export const OCR_CLASSES = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ%()*+,-./:=?';
export const OCR_SLOTS = 2;
export const OCR_OUTPUTS = OCR_SLOTS * OCR_CLASSES.length;
