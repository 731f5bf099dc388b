/**
 * The policy's forward pass, top to bottom: image patches -> ViT -> projector -> decoder over
 * [image | prompt | response]. Everything here is a pure jax-js function meant to run under
 * `jit`; src/model/policy.ts packs host data into the arrays below and compiles these.
 *
 * Shape legend
 *   G  groups in a micro-batch (one image + prompt each)     R  responses per group (rollouts)
 *   N  image tokens (patches)     F  features per patch (patch * patch * 3)
 *   P  prompt bucket (bos + prompt, LEFT-padded so every prompt ends at the same column)
 *   S  prefix length: N + P in `image` mode, P in `text-only` mode (image tokens dropped)
 *   T  response bucket (RIGHT-padded)     C  decoder width     Cv  vision width
 *   H  heads     D  head size (C / H)     V  vocabulary
 *
 * Two streams: the prefix [G, S] (image + prompt) is computed once per group, and the R
 * responses [G, R, T] attend to it (src/model/layers.ts `attendShared`). That is the same
 * computation as R full sequences, with the prefix read once instead of R times.
 *
 * Attention modes (PGPO's text-only pass, method appendix A.1): in `text-only` every image token
 * is masked for every text token while positions do not change. Since no text token can see
 * them, the image tokens are simply left out (mode `text-only`), and the text keeps its position
 * ids N, N+1, ...: the same function, about N / (N + P + T) cheaper. `text-only-masked` keeps
 * the image tokens and masks them instead; it exists to test that the two are equal.
 */

import { numpy as np, nn } from '../engine/jax.ts';
import type { ModelConfig } from './config.ts';
import { dims } from './config.ts';
import { MASKED, attend, attendShared, layerNorm, linear, mlp } from './layers.ts';
import type { Block, DecoderParams, PolicyParams, VisionParams } from './params.ts';

export type ForwardMode = 'image' | 'text-only' | 'text-only-masked';

/** What a micro-batch looks like on the device. Int arrays are int32, the rest float32. */
export interface BatchArrays {
  /** [G, N, F] pixel features in [-0.5, 0.5]; absent in `text-only` mode. */
  patches?: np.Array;
  /** [G, P] token ids (pad = 0 on the left). */
  promptIds: np.Array;
  /** [G, P] position ids (N + j for the j-th prompt token). */
  promptPos: np.Array;
  /** [G, P] 1 for a real prompt token, 0 for padding. */
  promptValid: np.Array;
  /** [G, R, T] response ids (pad on the right). */
  respIds: np.Array;
  /** [G, R, T] position ids (N + promptLength + k). */
  respPos: np.Array;
}

// ---------------------------------------------------------------------------------------------
// Vision encoder: patches [G, N, F] -> tokens in the decoder's width [G, N, C]
// ---------------------------------------------------------------------------------------------

/** q, k, v of x [B, T, C] as [B, H, T, D] each, q pre-scaled by 1/sqrt(D). */
function heads(p: Block, x: np.Array, H: number): [np.Array, np.Array, np.Array] {
  const [B, T, C] = x.shape;
  const D = C / H;
  const qkv = linear(p.qkv, x).reshape([B, T, 3, H, D]).transpose([2, 0, 3, 1, 4]); // [3, B, H, T, D]
  return [qkv.ref.slice(0).mul(1 / Math.sqrt(D)), qkv.ref.slice(1), qkv.slice(2)];
}

/**
 * [B, H, T, D] -> [B, T, C]. Heads are concatenated along the last axis rather than transposed:
 * jax-js fuses a transpose into the next matmul's reads, which made the output projection 3-10x
 * slower than on a contiguous input (docs/engine-notes.md).
 */
function merge(x: np.Array): np.Array {
  return np.concatenate(np.unstack(x, 1), -1);
}

/** One pre-norm block with full (bidirectional) attention over a [B, T, C] sequence. */
function visionBlock(p: Block, h: np.Array, H: number): np.Array {
  const [q, k, v] = heads(p, layerNorm(p.ln1, h.ref), H);
  h = h.add(linear(p.out, merge(attend(q, k, v, null))));
  return h.add(mlp(p, layerNorm(p.ln2, h.ref)));
}

/** patches [G, N, F] -> [G, N, C] (a ViT, then the projector). */
export function encodeImage(p: VisionParams, patches: np.Array, cfg: ModelConfig): np.Array {
  let h = linear(p.patch, patches).add(p.pos.ref); // [G, N, Cv]
  for (const layer of p.layers) h = visionBlock(layer, h, cfg.vision.heads);
  return linear(p.proj, layerNorm(p.lnf, h));
}

// ---------------------------------------------------------------------------------------------
// Decoder: prefix stream [G, S, C] and response stream [G, R, T, C]
// ---------------------------------------------------------------------------------------------

/**
 * Rows of a table [K, C] picked by ids [...] int32 -> [..., C], as a one-hot matrix product.
 * Not `np.take`: its gradient is a scatter, which jax-js 0.1.25 cannot compile inside `jit`
 * ("routine primitive scatter input is not imm", docs/engine-notes.md). The one-hot product is
 * differentiable everywhere and costs K multiply-adds per output value (K is a few hundred here).
 * The table is zero-padded to a multiple of 16 rows so that the gradient's matmul, whose output
 * is [K, C] (or its transpose), stays off jax-js's slow path for odd column counts.
 */
export function lookup(table: np.Array, ids: np.Array): np.Array {
  const [K, C] = table.shape;
  const Kp = Math.ceil(K / 16) * 16;
  const padded = Kp === K ? table : np.concatenate([table, np.zeros([Kp - K, C])], 0);
  const shape = ids.shape;
  return np.matmul(nn.oneHot(ids.reshape([ids.size]), Kp), padded).reshape([...shape, C]);
}

/** Token + position embedding: ids, pos [...] int32 -> [..., C]. */
function embed(p: DecoderParams, ids: np.Array, pos: np.Array): np.Array {
  return lookup(p.tok.ref, ids).add(lookup(p.pos.ref, pos));
}

/**
 * The prefix's decoder input and key mask for a mode.
 * Returns h [G, S, C] and valid [G, S] (1: the key may be attended to by text).
 */
export function prefixInput(params: PolicyParams, b: BatchArrays, mode: ForwardMode, cfg: ModelConfig): [np.Array, np.Array] {
  const d = params.decoder;
  const text = embed(d, b.promptIds, b.promptPos); // [G, P, C]
  if (mode === 'text-only') return [text, b.promptValid];
  if (!b.patches) throw new Error(`forward: mode '${mode}' needs image patches`);
  const { N } = dims(cfg);
  const G = text.shape[0];
  const img = encodeImage(params.vision, b.patches, cfg).add(d.pos.ref.slice([0, N])); // [G, N, C]
  const imgValid = mode === 'image' ? np.ones([G, N]) : np.zeros([G, N]);
  return [np.concatenate([img, text], 1), np.concatenate([imgValid, b.promptValid], 1)];
}

/**
 * Attention biases from the prefix key mask valid [G, S] (consumed):
 *   prefix -> prefix [G, 1, S, S]: causal, valid keys, and always the diagonal (so a padding row
 *                                  or a masked image row is never empty: no NaN, no effect on
 *                                  real rows, which never attend to those rows);
 *   response -> prefix [G, 1, 1, 1, S]: valid keys;
 *   response -> response [T, T]: causal (padding is at the end, so causal suffices).
 */
export function biases(valid: np.Array, T: number): { pp: np.Array; sp: np.Array; ss: np.Array } {
  const [G, S] = valid.shape;
  const causal = np.tri(S, S, 0); // [S, S] 1 on and below the diagonal
  const allowed = np.maximum(causal.mul(valid.ref.reshape([G, 1, S])), np.eye(S)); // [G, S, S]
  const pp = np.subtract(1, allowed).mul(MASKED).reshape([G, 1, S, S]);
  const sp = np.subtract(1, valid).mul(MASKED).reshape([G, 1, 1, 1, S]);
  const ss = np.subtract(1, np.tri(T, T, 0)).mul(MASKED);
  return { pp, sp, ss };
}

/** q, k, v of the response stream x [G, R, T, C] as [G, H, R, T, D], q pre-scaled. */
function groupedHeads(p: Block, x: np.Array, H: number): [np.Array, np.Array, np.Array] {
  const [G, R, T, C] = x.shape;
  const D = C / H;
  const qkv = linear(p.qkv, x).reshape([G, R, T, 3, H, D]).transpose([3, 0, 4, 1, 2, 5]); // [3, G, H, R, T, D]
  return [qkv.ref.slice(0).mul(1 / Math.sqrt(D)), qkv.ref.slice(1), qkv.slice(2)];
}

/** [G, H, R, T, D] -> [G, R, T, C] (concatenated heads, as `merge`). */
function groupedMerge(x: np.Array): np.Array {
  return np.concatenate(np.unstack(x, 1), -1);
}

/** The prefix half of a decoder block: hp [G, S, C] -> hp, and this layer's k, v [G, H, S, D]. */
export function prefixBlock(p: Block, hp: np.Array, pp: np.Array, H: number): [np.Array, np.Array, np.Array] {
  const [q, k, v] = heads(p, layerNorm(p.ln1, hp.ref), H);
  hp = hp.add(linear(p.out, merge(attend(q, k.ref, v.ref, pp))));
  hp = hp.add(mlp(p, layerNorm(p.ln2, hp.ref)));
  return [hp, k, v];
}

/**
 * The response half of a decoder block: hs [G, R, T, C] attends to this layer's prefix keys and
 * values kp, vp [G, H, S, D] and to its own causal keys, under one softmax. With a KV cache
 * (decoding, T = 1), the new key and value are first written into the cache [G, H, R, Tmax, D]
 * at the column where `write` [1, 1, 1, Tmax, 1] is true, and the row attends to the cache.
 * Returns hs and the keys and values attended to (the updated cache when there is one).
 */
export function responseBlock(
  p: Block,
  hs: np.Array,
  kp: np.Array,
  vp: np.Array,
  sp: np.Array,
  ss: np.Array,
  H: number,
  cache?: { k: np.Array; v: np.Array; write: np.Array },
): [np.Array, np.Array, np.Array] {
  let [q, k, v] = groupedHeads(p, layerNorm(p.ln1, hs.ref), H); // [G, H, R, T, D]
  if (cache) {
    // No scatter in jax-js: a one-hot column mask and `where` write the new entry.
    k = np.where(cache.write.ref, k, cache.k);
    v = np.where(cache.write, v, cache.v);
  }
  const a = attendShared(q, kp, vp, sp, k.ref, v.ref, ss);
  hs = hs.add(linear(p.out, groupedMerge(a)));
  hs = hs.add(mlp(p, layerNorm(p.ln2, hs.ref)));
  return [hs, k, v];
}

/**
 * Next-token logits (over the padded head) for every response position: row k predicts response token k, so row 0
 * comes from the prefix's last row (the last prompt token, shared by the R responses) and row k
 * from response row k - 1. Returns [G, R, T, Vp].
 */
export function responseLogits(params: PolicyParams, b: BatchArrays, mode: ForwardMode, cfg: ModelConfig): np.Array {
  const d = params.decoder;
  const [G, R, T] = b.respIds.shape;
  const H = cfg.decoder.heads;
  let [hp, valid] = prefixInput(params, b, mode, cfg);
  const S = hp.shape[1];
  const bias = biases(valid, T);
  let hs = embed(d, b.respIds, b.respPos); // [G, R, T, C]
  for (const layer of d.layers) {
    const [hp2, kp, vp] = prefixBlock(layer, hp, bias.pp.ref, H);
    const [hs2, k, v] = responseBlock(layer, hs, kp, vp, bias.sp.ref, bias.ss.ref, H);
    k.dispose();
    v.dispose();
    hp = hp2;
    hs = hs2;
  }
  bias.pp.dispose();
  bias.sp.dispose();
  bias.ss.dispose();
  const C = hp.shape[2];
  const last = hp.slice([], [S - 1, S]).reshape([G, 1, 1, C]); // [G, 1, 1, C]
  const rows = np.concatenate([np.broadcastTo(last, [G, R, 1, C]), hs.slice([], [], [0, T - 1])], 2); // [G, R, T, C]
  return headLogits(d, layerNorm(d.lnf, rows).reshape([G * R * T, C])).reshape([G, R, T, -1]);
}

/**
 * Normalised rows x [B, C] -> logits [B, Vp] over the padded head (params.ts `headWidth`), times
 * the learned logit scale (params.ts `scale`: an inverse temperature, 1 unless trained), the
 * padding columns pushed to MASKED: they get probability exactly 0 and no gradient. Masking
 * rather than slicing keeps the gradient's matmul at Vp columns (jax-js moves a slice's pad
 * after the matmul, back onto the slow path).
 */
export function headLogits(d: DecoderParams, x: np.Array): np.Array {
  const V = d.tok.shape[0];
  const Vp = d.head.shape[1];
  const logits = np.matmul(x, d.head.ref).mul(d.scale.ref);
  if (Vp === V) return logits;
  return logits.add(np.where(np.less(np.arange(0, Vp, 1, { dtype: np.int32 }), V), 0, MASKED));
}

/** log-softmax rows [..., Vp] -> (log-prob of each target [...], entropy [...] or null). */
export function tokenStats(lsm: np.Array, targets: np.Array, entropy: boolean): [np.Array, np.Array | null] {
  // A one-hot mask rather than takeAlongAxis: the latter's gradient is a scatter (see `lookup`).
  const V = lsm.shape[lsm.ndim - 1];
  const logp = lsm.ref.mul(nn.oneHot(targets, V)).sum(-1);
  // Masked padding columns: exp(lsm) is exactly 0 there, so they add 0 * (-1e9) = 0.
  if (!entropy) {
    lsm.dispose();
    return [logp, null];
  }
  const ent = np.exp(lsm.ref).mul(lsm).sum(-1).mul(-1);
  return [logp, ent];
}

/** Logits [..., Vp] divided by the sampling temperature (RL scores the tempered policy); 1: as they are. */
export function tempered(logits: np.Array, temperature: number): np.Array {
  return temperature === 1 ? logits : logits.mul(1 / temperature);
}

/**
 * The scalar whose parameter gradient `backward` and `sftBackward` need:
 *   sum over response tokens of  wLogp * logp  (+ wEnt * entropy)
 * with logp, entropy those of softmax(logits / temperature).
 * wLogp, wEnt [G, R, T] are zero on padding, so padding never contributes.
 */
export function weightedObjective(params: PolicyParams, b: BatchArrays, wLogp: np.Array, wEnt: np.Array | null, mode: ForwardMode, cfg: ModelConfig, temperature = 1): np.Array {
  const targets = b.respIds.ref;
  const lsm = nn.logSoftmax(tempered(responseLogits(params, b, mode, cfg), temperature), -1);
  const [logp, ent] = tokenStats(lsm, targets, wEnt !== null);
  let total = logp.mul(wLogp).sum();
  if (ent && wEnt) total = total.add(ent.mul(wEnt).sum());
  return total;
}
