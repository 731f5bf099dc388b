/**
 * Incremental decoding with a KV cache, as two jit-able functions: `prefill` runs the prefix
 * (image + prompt) once per group and keeps every layer's keys and values; `decodeStep` feeds one
 * token per response and returns the next-token logits. Sampling itself (temperature, top-p,
 * the random draw) happens on the host in src/model/sampling.ts, from one seeded `Rng`.
 *
 * Shapes follow src/model/forward.ts; Tmax is the response cache length (a response bucket).
 * The decode position travels as an int32 array, so one program serves every step.
 */

import { numpy as np } from '../engine/jax.ts';
import type { ModelConfig } from './config.ts';
import { type BatchArrays, biases, headLogits, prefixBlock, prefixInput, responseBlock } from './forward.ts';
import { MASKED, layerNorm } from './layers.ts';
import type { PolicyParams } from './params.ts';

export type PrefixBatch = Pick<BatchArrays, 'patches' | 'promptIds' | 'promptPos' | 'promptValid'>;

export type PrefixState = {
  /** Per layer [G, H, S, D]. */
  k: np.Array[];
  v: np.Array[];
  /** Response -> prefix key bias [G, 1, 1, 1, S]. */
  sp: np.Array;
};

/** Prefix pass (image mode). Returns the cache of the prefix and the first logits [G, V]. */
export function prefill(params: PolicyParams, b: PrefixBatch, cfg: ModelConfig): [PrefixState, np.Array] {
  const d = params.decoder;
  let [hp, valid] = prefixInput(params, { ...b, respIds: null!, respPos: null! }, 'image', cfg);
  const [G, S, C] = hp.shape;
  const bias = biases(valid, 1);
  bias.ss.dispose();
  const k: np.Array[] = [];
  const v: np.Array[] = [];
  for (const layer of d.layers) {
    const [h, kl, vl] = prefixBlock(layer, hp, bias.pp.ref, cfg.decoder.heads);
    hp = h;
    k.push(kl);
    v.push(vl);
  }
  bias.pp.dispose();
  const last = hp.slice([], [S - 1, S]).reshape([G, C]);
  const V = d.tok.shape[0];
  return [{ k, v, sp: bias.sp }, headLogits(d, layerNorm(d.lnf, last)).slice([], [0, V])];
}

/**
 * One decoding step for every response.
 *   token, pos [G, R] int32: the previous token and its position id;
 *   t [1] int32: the cache column this token goes to (0 for the first response token);
 *   cacheK, cacheV per layer [G, H, R, Tmax, D] (consumed; the updated ones are returned).
 * Returns logits [G, R, V] for the next token.
 */
export function decodeStep(
  params: PolicyParams,
  prefix: PrefixState,
  cacheK: np.Array[],
  cacheV: np.Array[],
  token: np.Array,
  pos: np.Array,
  t: np.Array,
  cfg: ModelConfig,
): [np.Array, np.Array[], np.Array[]] {
  const d = params.decoder;
  const [G, R] = token.shape;
  const Tmax = cacheK[0].shape[3];
  const cols = np.arange(0, Tmax, 1, { dtype: np.int32 });
  const write = np.equal(cols.ref, t.ref).reshape([1, 1, 1, Tmax, 1]);
  const ss = np.where(np.lessEqual(cols, t), 0, MASKED).reshape([1, 1, 1, 1, Tmax]);
  let hs = np.take(d.tok.ref, token.reshape([G, R, 1]), 0).add(np.take(d.pos.ref, pos.reshape([G, R, 1]), 0)); // [G, R, 1, C]
  const newK: np.Array[] = [];
  const newV: np.Array[] = [];
  d.layers.forEach((layer, l) => {
    const [h, k, v] = responseBlock(layer, hs, prefix.k[l], prefix.v[l], prefix.sp.ref, ss.ref, cfg.decoder.heads, {
      k: cacheK[l],
      v: cacheV[l],
      write: write.ref,
    });
    hs = h;
    newK.push(k);
    newV.push(v);
  });
  write.dispose();
  ss.dispose();
  prefix.sp.dispose();
  const C = hs.shape[3];
  const V = d.tok.shape[0];
  const logits = headLogits(d, layerNorm(d.lnf, hs.reshape([G * R, C])))
    .slice([], [0, V])
    .reshape([G, R, V]);
  return [logits, newK, newV];
}
