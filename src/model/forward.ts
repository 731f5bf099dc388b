/**
 * The compact VLM's forward passes, top to bottom. Shapes (legend):
 *   B rows (sequences), N image tokens, F = patch*patch*3 features per patch, C decoder width,
 *   Cv vision width, H heads, D = C/H, V vocabulary, Tp prompt slots (left-padded), Tr response
 *   slots (right-padded), S = Smax cache slots.
 * Sequence: [image tokens 0..N-1 | prompt (left-padded) | response]. Every real text token has a
 * position id N + (its index among the real text tokens), so padding never shifts positions,
 * and the text-only mode can DROP the image tokens altogether: text rows then see exactly what
 * they would see with attention to the image masked (PGPO.md appendix A.1), at a lower cost.
 * Attention biases are built on the host (0 = allowed, MASKED = not): they carry causality,
 * padding and the mode, so one program serves every layout of the same shape.
 * Ownership (jax-js): parameters are borrowed (`.ref`), activations are consumed.
 */
import { nn, numpy as np } from '../engine/jax.ts';
import type { ModelConfig } from './config.ts';
import { dims } from './config.ts';
import { attend, layerNorm, linear, mergeHeads, mlp, qkvHeads } from './layers.ts';
import type { Block, PolicyParams } from './params.ts';

/** A pre-norm transformer block: x + attn(ln1 x), then + mlp(ln2 x). */
function block(p: Block, x: np.Array, bias: np.Array | null, H: number): np.Array {
  const [q, k, v] = qkvHeads(p.qkv, layerNorm(p.ln1, x.ref), H);
  const a = linear(p.out, mergeHeads(attend(q, k, v, bias)));
  const x1 = x.add(a);
  return x1.ref.add(mlp(p, layerNorm(p.ln2, x1)));
}

/** Patches [B, N, F] (pixels in [-0.5, 0.5]) -> image tokens in the decoder's width [B, N, C]. */
export function encodeImage(P: PolicyParams, cfg: ModelConfig, patches: np.Array): np.Array {
  const v = P.vision;
  let x = linear(v.patch, patches).add(v.pos.ref); // [B, N, Cv]
  for (const layer of v.layers) x = block(layer, x, null, cfg.vision.heads); // bidirectional
  return linear(v.proj, layerNorm(v.lnf, x));
}

/**
 * Token + position embeddings of text ids [B, T] at position ids [B, T] -> [B, T, C].
 * Lookups are one-hot matmuls: the gradient of a gather is a scatter, which jax-js cannot jit
 * (docs/engine-notes.md); with V and the position table in the hundreds this costs little.
 */
function embedText(P: PolicyParams, ids: np.Array, pos: np.Array): np.Array {
  const d = P.decoder;
  const [V] = d.tok.shape;
  const [S] = d.pos.shape;
  return np.matmul(nn.oneHot(ids, V), d.tok.ref).add(np.matmul(nn.oneHot(pos, S), d.pos.ref));
}

/**
 * Teacher-forced pass over [image? | prompt | response] for scoring and training.
 *   patches [B, N, F] or null (text-only: no image tokens at all), ids/pos [B, Tp+Tr],
 *   bias [B, 1, Sq, Sq] with Sq = (N or 0) + Tp + Tr, targets [B, Tr] int32
 * -> logp [B, Tr] of the targets, entropy [B, Tr], log-softmax rows [B, Tr, V].
 * The row predicting response token t sits at text index Tp - 1 + t (the prompt is left-padded,
 * so its last real token is always at Tp - 1).
 */
export function scoreForward(
  P: PolicyParams,
  cfg: ModelConfig,
  patches: np.Array | null,
  ids: np.Array,
  pos: np.Array,
  bias: np.Array,
  targets: np.Array,
  Tp: number,
): { logp: np.Array; entropy: np.Array; rows: np.Array } {
  const d = P.decoder;
  const { N } = dims(cfg);
  const Tr = targets.shape[1];
  let x = embedText(P, ids, pos); // [B, T, C]
  let off = 0;
  if (patches) {
    const B = x.shape[0];
    const img = encodeImage(P, cfg, patches).add(d.pos.ref.slice([0, N]).reshape([1, N, cfg.decoder.width]));
    x = np.concatenate([img, x], 1); // [B, N + T, C]
    off = N;
    void B;
  }
  for (const layer of d.layers) x = block(layer, x, bias.ref, cfg.decoder.heads);
  bias.dispose();
  const h = layerNorm(d.lnf, x.slice([], [off + Tp - 1, off + Tp - 1 + Tr])); // [B, Tr, C]
  const rows = nn.logSoftmax(np.matmul(h, d.head.ref), -1); // [B, Tr, V]
  const logp = rows.ref.mul(nn.oneHot(targets, rows.shape[2])).sum(-1); // [B, Tr]
  const entropy = np.exp(rows.ref).mul(rows.ref).sum(-1).mul(-1);
  return { logp, entropy, rows };
}

/**
 * Prefill of P distinct prompts: runs [image | prompt] and returns every layer's keys and values
 * [L, P, H, S0, D] (S0 = N + Tp) and the logits of the next token after the prompt [P, V].
 */
export function prefill(P: PolicyParams, cfg: ModelConfig, patches: np.Array, ids: np.Array, pos: np.Array, bias: np.Array): { k: np.Array; v: np.Array; logits: np.Array } {
  const d = P.decoder;
  const { N } = dims(cfg);
  const H = cfg.decoder.heads;
  const img = encodeImage(P, cfg, patches).add(d.pos.ref.slice([0, N]).reshape([1, N, cfg.decoder.width]));
  let x = np.concatenate([img, embedText(P, ids, pos)], 1); // [P, S0, C]
  const ks: np.Array[] = [];
  const vs: np.Array[] = [];
  for (const layer of d.layers) {
    const [q, k, v] = qkvHeads(layer.qkv, layerNorm(layer.ln1, x.ref), H);
    ks.push(k.ref);
    vs.push(v.ref);
    const a = linear(layer.out, mergeHeads(attend(q, k, v, bias.ref)));
    const x1 = x.add(a);
    x = x1.ref.add(mlp(layer, layerNorm(layer.ln2, x1)));
  }
  bias.dispose();
  const S0 = x.shape[1];
  const last = layerNorm(d.lnf, x.slice([], [S0 - 1, S0])).reshape([x.shape[0], cfg.decoder.width]);
  return { k: np.stack(ks, 0), v: np.stack(vs, 0), logits: np.matmul(last, d.head.ref) };
}

/**
 * One decoding step for B rows with a cache of S slots.
 *   kc, vc [L, B, H, S, D]; tok, pos [B] int32; slot [1, 1, S, 1] one-hot of the slot this
 *   token's key and value go to; bias [B, 1, 1, S] (0 for slots the token may see, itself included)
 * -> logits [B, V] and the updated caches. The cache is written with a one-hot mask and `where`
 * (jax-js has no dynamic_update_slice), so the slot index is data, not shape: no recompiles.
 */
export function decodeStep(
  P: PolicyParams,
  cfg: ModelConfig,
  kc: np.Array,
  vc: np.Array,
  tok: np.Array,
  pos: np.Array,
  slot: np.Array,
  bias: np.Array,
): { logits: np.Array; k: np.Array; v: np.Array } {
  const d = P.decoder;
  const H = cfg.decoder.heads;
  const L = cfg.decoder.layers;
  const B = tok.shape[0];
  const hit = slot.greater(0.5);
  let x = embedText(P, tok.reshape([B, 1]), pos.reshape([B, 1])); // [B, 1, C]
  const ks: np.Array[] = [];
  const vs: np.Array[] = [];
  for (let l = 0; l < L; l++) {
    const layer = d.layers[l];
    const [q, k, v] = qkvHeads(layer.qkv, layerNorm(layer.ln1, x.ref), H); // [B, H, 1, D]
    const kl = np.where(hit.ref, k, kc.ref.slice(l)); // [B, H, S, D]
    const vl = np.where(hit.ref, v, vc.ref.slice(l));
    ks.push(kl.ref);
    vs.push(vl.ref);
    const a = linear(layer.out, mergeHeads(attend(q, kl, vl, bias.ref)));
    const x1 = x.add(a);
    x = x1.ref.add(mlp(layer, layerNorm(layer.ln2, x1)));
  }
  kc.dispose();
  vc.dispose();
  hit.dispose();
  bias.dispose();
  const logits = np.matmul(layerNorm(d.lnf, x).reshape([B, cfg.decoder.width]), d.head.ref);
  return { logits, k: np.stack(ks, 0), v: np.stack(vs, 0) };
}
