/**
 * The transformer's building blocks as pure jax-js functions: linear, layer norm, MLP, and the
 * two attention cores (one segment; and a query segment attending to a shared
 * prefix plus its own keys, which is what lets R rollouts share one image + prompt).
 *
 * Ownership convention for the whole model: parameters are BORROWED (every use takes `.ref`),
 * activations are OWNED (consumed by the function they are passed to). Backward passes come from
 * jax-js autodiff, so there are no hand-written gradients to pair here.
 */

import { numpy as np, nn } from '../engine/jax.ts';
import type { Linear, Norm, Block } from './params.ts';

/** A finite stand-in for -inf in attention biases: exp(-1e9 - max) is exactly 0 in float32, and
 * a row whose every entry is masked would give a uniform softmax instead of NaN. */
export const MASKED = -1e9;

/** x [..., Cin] @ w [Cin, Cout] + b  ->  [..., Cout]. Flattened to one 2-D matmul (fastest). */
export function linear(p: Linear, x: np.Array): np.Array {
  const shape = x.shape;
  const cin = shape[shape.length - 1];
  const cout = p.w.shape[1];
  const rows = x.size / cin;
  const y = np.matmul(x.reshape([rows, cin]), p.w.ref).add(p.b.ref);
  return y.reshape([...shape.slice(0, -1), cout]);
}

/** Layer norm over the last axis. eps keeps rsqrt finite for a constant row. */
export function layerNorm(p: Norm, x: np.Array, eps = 1e-5): np.Array {
  const mu = x.ref.mean(-1, { keepdims: true });
  const xc = x.sub(mu);
  const variance = np.square(xc.ref).mean(-1, { keepdims: true });
  return xc
    .mul(np.reciprocal(np.sqrt(variance.add(eps))))
    .mul(p.g.ref)
    .add(p.b.ref);
}

/** Position-wise MLP: [..., C] -> [..., M] -> gelu -> [..., C]. */
export function mlp(p: Block, x: np.Array): np.Array {
  return linear(p.proj, nn.gelu(linear(p.fc, x)));
}

/**
 * Plain attention. q [B, H, Tq, D] (pre-scaled), k, v [B, H, Tk, D], bias broadcastable to
 * [B, H, Tq, Tk] or null  ->  [B, H, Tq, D].
 */
export function attend(q: np.Array, k: np.Array, v: np.Array, bias: np.Array | null): np.Array {
  let s = np.matmul(q, k.transpose([0, 1, 3, 2])); // [B, H, Tq, Tk]
  if (bias) s = s.add(bias);
  return np.matmul(nn.softmax(s, -1), v);
}

/**
 * Attention of R query rows per group over a shared prefix and their own keys, with ONE softmax
 * over both segments (so it equals attention over the concatenated sequence).
 *   q        [G, H, R, Tq, D] (pre-scaled)     kp, vp [G, H, Tp, D]  shared by the R rows
 *   ks, vs   [G, H, R, Ts, D]                  biasP  broadcastable to [G, 1, 1, 1, Tp]
 *   biasS    broadcastable to [G, H, R, Tq, Ts]
 *   ->       [G, H, R, Tq, D]
 * The prefix is read once per group rather than once per rollout: that is the point.
 */
export function attendShared(q: np.Array, kp: np.Array, vp: np.Array, biasP: np.Array, ks: np.Array, vs: np.Array, biasS: np.Array): np.Array {
  const [G, H, R, Tq, D] = q.shape;
  const Tp = kp.shape[2];
  const sp = np
    .matmul(q.ref.reshape([G, H, R * Tq, D]), kp.transpose([0, 1, 3, 2])) // [G, H, R*Tq, Tp]
    .reshape([G, H, R, Tq, Tp])
    .add(biasP);
  const ss = np.matmul(q, ks.transpose([0, 1, 2, 4, 3])).add(biasS); // [G, H, R, Tq, Ts]
  // One softmax over both segments without concatenating them (a concatenation is two extra
  // full copies in jax-js): a shared max, then exp and the normaliser per segment.
  const m = np.maximum(sp.ref.max(-1, { keepdims: true }), ss.ref.max(-1, { keepdims: true }));
  const ep = np.exp(sp.sub(m.ref));
  const es = np.exp(ss.sub(m));
  const z = ep.ref.sum(-1, { keepdims: true }).add(es.ref.sum(-1, { keepdims: true }));
  const fromPrefix = np.matmul(ep.reshape([G, H, R * Tq, Tp]), vp).reshape([G, H, R, Tq, D]);
  return fromPrefix.add(np.matmul(es, vs)).div(z);
}
