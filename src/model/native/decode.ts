/**
 * KV-cache decoding on the native engine. The prefix (image + prompt) of each prompt runs once
 * through `decoderForward` (plan: one group per prompt, a one-token dummy response whose only
 * logit row is the prefix's last row: the first token's distribution); its keys and values are
 * copied into the cache (`KvCache`). Then each step feeds one token per unfinished response:
 *
 *   x [A, C] = tok[token] + pos[position]            A = responses still open
 *   per layer: ln1 -> qkv [A, 3C]; the new k, v go to the response's cache column t;
 *              attention over the group's cache block: the prefix and the responses' columns
 *              0..t, one product per group and head for the scores and one for the output,
 *              each row masked to the prefix and its own response, one softmax;
 *              out projection, MLP, residuals (blockForward's arithmetic, one row each)
 *   final norm, head, logit scale -> logits [A, V]
 *
 * Token choice is the host's (sampling.ts `pickToken`), from one seeded Rng, in the order the
 * jax-js policy uses: prompt by prompt, rollout by rollout, finished ones skipped.
 */

import type { ModelConfig } from '../config.ts';
import { dims } from '../config.ts';
import type { ScoreItem } from '../../core/policy.ts';
import { gemm } from './blas.ts';
import { type Arena, type Weights, decoderForward, visionForward } from './model.ts';
import { addInto, expNonPos, geluForward, layerNormForward, linearForward } from './ops.ts';
import { planBatches } from './plan.ts';
import { simdKernels } from './simd/simd.ts';
import { splitByCost } from './helper-threads.ts';

/**
 * Every key and value a decode step attends to, per layer, one block per group. The keys a row
 * of group g may see at step t are its prefix and columns 0..t of its group's responses; kept in
 * "time-major" order (prefix 0..S_g-1, then column j of response r at S_g + j R + r), they are
 * the first W = S_g + (t + 1) R entries of the group's block, so one product gives a head's
 * scores for all of the group's rows (the R - 1 other responses' columns are computed and
 * masked: at BLAS speed that beats a loop per row), and one more its output:
 *
 *   kT  per group and head, keys transposed: [D, Wcap] (Wcap = S_g + Tmax R), so the scores
 *       q [n, D] @ kT [D, W] are a plain (NN) product: 3.5x faster than q @ k^T (NT) at these
 *       shapes with OpenBLAS's AVX-512 kernels (`npm run bench:kernels`; the same with Prescott's)
 *   v   per group: [Wcap, C] rows, heads side by side (P [n, W] @ v [W, D] is NN already)
 */
export interface KvCache {
  readonly R: number;
  readonly Tmax: number;
  /** Per group: its prefix length, its key capacity Wcap, and the first float of its block (the same in kT[l] and v[l]: both Wcap x C floats). */
  readonly S: Int32Array;
  readonly cap: Int32Array;
  readonly base: Int32Array;
  /** Per layer: the groups' key blocks, each H x [D, Wcap]. */
  readonly kT: Float32Array[];
  /** Per layer: the groups' value blocks, each [Wcap, C]. */
  readonly v: Float32Array[];
  /** [G, V] logits of each prompt's first response token. */
  readonly first: Float32Array;
}

/** Runs every prompt's prefix once (image mode) and keeps its keys and values in a new cache. */
export function prefill(w: Weights, cfg: ModelConfig, V: number, arena: Arena, prompts: readonly ScoreItem[], R: number, Tmax: number): KvCache {
  const items = prompts.map((p) => ({ image: p.image, prompt: p.prompt, response: [0] }));
  const [mb] = planBatches(items, cfg, true, Number.MAX_SAFE_INTEGER, false); // one group per prompt, repeats included
  const vision = visionForward(w, cfg, arena, mb.patches!, mb.images);
  const run = decoderForward(w, cfg, V, arena, mb.plan, vision);
  const C = cfg.decoder.width;
  const C3 = 3 * C;
  const groups = mb.plan.spec.groups;
  const S = Int32Array.from(groups, (g) => g.S);
  const cap = Int32Array.from(groups, (g) => g.S + Tmax * R);
  const base = new Int32Array(groups.length);
  let floats = 0;
  for (let i = 0; i < groups.length; i++) {
    base[i] = floats;
    floats += cap[i] * C;
  }
  // the arena's buffers, reused call after call (fresh ones cost page faults on every first
  // write); zeroed, so that columns no row writes (finished responses') hold finite values
  const kT = run.acts.map((_, l) => arena.shared(`kv.kT.${l}`, floats).fill(0));
  const v = run.acts.map((_, l) => arena.shared(`kv.v.${l}`, floats).fill(0));
  run.acts.forEach((a, l) => {
    groups.forEach((g, i) => {
      for (let j = 0; j < g.S; j++) {
        const from = (g.p0 + j) * C3;
        for (let c = 0; c < C; c++) kT[l][base[i] + c * cap[i] + j] = a.qkv[from + C + c]; // head h, dim d: row c = h D + d
        v[l].set(a.qkv.subarray(from + 2 * C, from + 3 * C), base[i] + j * C);
      }
    });
  });
  return { R, Tmax, S, cap, base, kT, v, first: Float32Array.from(run.logits.subarray(0, groups.length * V)) };
}

/**
 * One step for the open responses `slots` (g * R + r, ascending), each fed `tokens[i]` at
 * position `positions[i]`, writing cache column t. Returns logits [A, V].
 */
export function decodeStep(w: Weights, cfg: ModelConfig, V: number, arena: Arena, cache: KvCache, slots: Int32Array, tokens: Int32Array, positions: Int32Array, t: number): Float32Array {
  const { C } = dims(cfg);
  const { heads: H, mlp: M } = cfg.decoder;
  const D = C / H;
  const C3 = 3 * C;
  const A = slots.length;
  const { R } = cache;
  const x = arena.get('dec1.x', A * C);
  for (let i = 0; i < A; i++) {
    const to = tokens[i] * C;
    const po = positions[i] * C;
    for (let j = 0; j < C; j++) x[i * C + j] = w.tok[to + j] + w.pos[po + j];
  }
  const ln = arena.get('dec1.ln', A * C);
  const mean = arena.get('dec1.m', A);
  const rstd = arena.get('dec1.r', A);
  const qkv = arena.shared('dec1.qkv', A * C3);
  const att = arena.shared('dec1.att', A * C);
  const x1 = arena.get('dec1.x1', A * C);
  const f = arena.get('dec1.f', A * M);
  // rows of each group among the open ones: [group, start, end)
  const bounds: [number, number, number][] = [];
  for (let i = 0; i < A;) {
    const g = Math.floor(slots[i] / R);
    let e = i;
    while (e < A && Math.floor(slots[e] / R) === g) e++;
    bounds.push([g, i, e]);
    i = e;
  }
  // the groups' attention split between this thread and the helpers (helper-threads.ts), by cost
  const helpers = bounds.length > 1 ? arena.helpers : null;
  const parts = helpers?.parts ?? 1;
  const cost = bounds.map(([g, a0, a1]) => (a1 - a0) * (cache.S[g] + (t + 1) * R)); // floats of a group's scores
  const ends = splitByCost(cost, parts);
  // each part's groups and scores scratch, the same for every layer
  const byPart = ends.map((end, p) => {
    const b0 = p === 0 ? 0 : ends[p - 1];
    return { bounds: bounds.slice(b0, end), scores: arena.shared(`dec1.scores${p}`, Math.max(1, ...cost.slice(b0, end))) };
  });
  const share = (p: number, l: number): DecodeShare => ({ qkv, att, kT: cache.kT[l], v: cache.v[l], S: cache.S, cap: cache.cap, base: cache.base, R, H, D, t, slots, ...byPart[p] });
  w.decoder.forEach((bw, l) => {
    layerNormForward(ln, mean, rstd, x, bw.ln1g, bw.ln1b, A, C);
    linearForward(qkv, ln, bw.qkvW, bw.qkvB, A, C, C3);
    if (helpers) {
      const tasks = Array.from({ length: parts - 1 }, (_, p) => {
        const sh = share(p + 1, l);
        return { message: { op: 'decodeAttention', share: sh }, here: () => decodeAttentionShare(sh) };
      });
      helpers.run(tasks, () => decodeAttentionShare(share(0, l)));
    } else decodeAttentionShare(share(0, l));
    linearForward(x1, att, bw.outW, bw.outB, A, C, C);
    addInto(x1, x, A * C);
    layerNormForward(ln, mean, rstd, x1, bw.ln2g, bw.ln2b, A, C);
    linearForward(f, ln, bw.fcW, bw.fcB, A, C, M);
    geluForward(f, f, A * M);
    linearForward(x, f, bw.projW, bw.projB, A, M, C);
    addInto(x, x1, A * C);
  });
  layerNormForward(ln, mean, rstd, x, w.lnfG, w.lnfB, A, C);
  const logits = arena.get('dec1.logits', A * V);
  gemm(false, false, A, V, C, w.scale[0], ln, C, w.head, w.head.length / C, 0, logits, V);
  return logits;
}

/** One thread's share of a decode step's attention for one layer: some of the groups (helper-threads.ts). */
export interface DecodeShare {
  /** [A, 3C] this step's projections; att [A, C] receives the attention's output rows. */
  readonly qkv: Float32Array;
  readonly att: Float32Array;
  /** The layer's cache blocks, and KvCache's per-group S, cap and base. */
  readonly kT: Float32Array;
  readonly v: Float32Array;
  readonly S: Int32Array;
  readonly cap: Int32Array;
  readonly base: Int32Array;
  readonly R: number;
  readonly H: number;
  readonly D: number;
  readonly t: number;
  readonly slots: Int32Array;
  /** The share's groups: [group, first row, end row) among the open rows. */
  readonly bounds: readonly (readonly [number, number, number])[];
  /** Scratch for a group's scores: at least n W floats for each of its groups. */
  readonly scores: Float32Array;
}

/**
 * For each group of the share: this step's keys and values into cache column t, then per head
 * the scores over the group's cache block (one product for all its rows), the masked softmax,
 * and the output (one more product).
 */
export function decodeAttentionShare(sh: DecodeShare): void {
  const { qkv, att, kT, v: Vc, R, H, D, t, slots } = sh;
  const C = H * D;
  const C3 = 3 * C;
  const alpha = 1 / Math.sqrt(D);
  const simd = simdKernels();
  const ownR = new Int32Array(R); // the group's rows' responses
  const own = new Float32Array(t + 1); // softmaxOwn's scratch
  // keys group by group, channel-major, so that the group's rows write neighbouring columns of
  // each transposed row
  for (const [g, a0, a1] of sh.bounds) {
    const w = sh.cap[g];
    const col0 = sh.S[g] + t * R - g * R; // + slot: the row's column
    for (let c = 0; c < C; c++) {
      const ko = sh.base[g] + c * w + col0;
      for (let i = a0; i < a1; i++) kT[ko + slots[i]] = qkv[i * C3 + C + c];
    }
    for (let i = a0; i < a1; i++) Vc.set(qkv.subarray(i * C3 + 2 * C, i * C3 + 3 * C), sh.base[g] + (col0 + slots[i]) * C);
  }
  for (const [g, a0, a1] of sh.bounds) {
    const n = a1 - a0;
    const S = sh.S[g];
    const W = S + (t + 1) * R;
    const cap = sh.cap[g];
    const sc = sh.scores.subarray(0, n * W);
    for (let i = 0; i < n; i++) ownR[i] = slots[a0 + i] - g * R;
    for (let h = 0; h < H; h++) {
      gemm(false, false, n, W, D, alpha, qkv.subarray(a0 * C3 + h * D), C3, kT.subarray(sh.base[g] + h * D * cap), cap, 0, sc, W);
      if (simd) simd.decodeSoftmax(sc, n, W, S, t, R, ownR);
      else for (let i = 0; i < n; i++) softmaxOwn(sc, i * W, S, t, R, ownR[i], own);
      gemm(false, false, n, D, W, 1, sc, W, Vc.subarray(sh.base[g] + h * D), C, 0, att.subarray(a0 * C + h * D), C);
    }
  }
}

/**
 * Softmax in place over one row of scores [prefix S | own (t + 1) x R]: the prefix columns and
 * the row's own response's columns j R + r (j <= t) share one normaliser; every other response's
 * columns are set to 0.
 */
export function softmaxOwn(sc: Float32Array, o: number, S: number, t: number, R: number, r: number, own: Float32Array): void {
  let max = -Infinity;
  for (let j = 0; j < S; j++) if (sc[o + j] > max) max = sc[o + j];
  const so = o + S + r;
  for (let j = 0; j <= t; j++) if (sc[so + j * R] > max) max = sc[so + j * R];
  let z = 0;
  for (let j = 0; j < S; j++) z += sc[o + j] = expNonPos(sc[o + j] - max);
  for (let j = 0; j <= t; j++) z += own[j] = expNonPos(sc[so + j * R] - max);
  const inv = 1 / z;
  for (let j = 0; j < S; j++) sc[o + j] *= inv;
  // the other responses' columns to 0, then this row's own ones normalised
  sc.fill(0, o + S, o + S + (t + 1) * R);
  for (let j = 0; j <= t; j++) sc[so + j * R] = own[j] * inv;
}
