/**
 * KV-cache decoding on the native engine. The prefix (image + prompt) of each prompt runs once
 * through `decoderForward` (plan: one group per prompt, a one-token dummy response whose only
 * logit row is the prefix's last row: the first token's distribution); its keys and values are
 * copied into the cache (`KvCache`). Then each step feeds one token per unfinished response:
 *
 *   x [A, C] = tok[token] + pos[position]            A = responses still open
 *   per layer: ln1 -> qkv [A, 3C]; the new k, v go to column t of the response's cache;
 *              each row attends to its prompt's prefix and its own response's columns 0..t
 *              (one softmax over both), in one call for all rows and heads (`attend`);
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
import { LN_EPS, addInto, geluForward, layerNormForward, linearForward } from './ops.ts';
import { expNonPos } from '../exp.ts';
import { planBatches } from './plan.ts';
import { type DecodeAttentionArgs, type DecodeKernel, simdKernels } from './simd/simd.ts';
import type { HelperThreads } from './helper-threads.ts';

/**
 * Every key and value a decode step attends to, per layer, and the step's staging, in one float
 * buffer: the memory of a WebAssembly instance (simd.ts `DecodeKernel`) when the SIMD kernels are
 * on, so that a layer's attention is one call on data already there; an arena buffer otherwise.
 * A row sees its group's prefix and its own response's columns only, so each is its own block:
 *
 *   layer l: keys at l 2 F, values at l 2 F + F (F = layerFloats), each region group by group:
 *     group g (first float group[g]): per head, the prefix's keys transposed kT [D, Sp] (Sp = S
 *       rounded up to 4, the padding zero), or its values v [Sp, D] (read by all R rows: cached);
 *     then response r of the group (first float group[g] + C Sp + r C T, T = Tmax rounded up to
 *       16): its columns in tiles of sixteen, all heads together, keys [T/16][C][16] and values
 *       [T/16][H][16][D], column t written at step t. A step reads a row's keys and values as
 *       two runs of whole tiles, front to back (one head's columns scattered over its rows
 *       measured ~15% slower: the cache is ~50 MB, so these reads come from memory).
 *   staging: qkv [Amax, 3C] (the step's projections, written there by BLAS), att [Amax, C] (the
 *   attention's output, read from there), the step's other activations (x, x1, ln [Amax, C], the
 *   norm's mean and rstd [Amax], the MLP's f [Amax, M] and GELU's unused gate, a layer norm's
 *   g | b [2C]: with the kernels, layer norms, GELU and residual adds run in place there), rows
 *   (three int32 per open row: its group's block, its response's block, its S), and per thread
 *   that runs a share of the rows (helper threads: the memory is then shared)
 *   scratch qs [4 C] and sc [H ls + H]. Regions start at multiples of four floats.
 */
export interface CacheLayout {
  readonly R: number;
  readonly T: number;
  readonly layerFloats: number;
  /** Per group: its prefix length, and the first float of its block within a layer's key (or value) region. */
  readonly S: Int32Array;
  readonly group: Int32Array;
  /** Float offsets of the staging and the first thread's scratch (thread p's: + p scratch), the score-row length, and the floats in all. */
  readonly oQkv: number;
  readonly oAtt: number;
  readonly oX: number;
  readonly oX1: number;
  readonly oLn: number;
  readonly oMean: number;
  readonly oRstd: number;
  readonly oF: number;
  readonly oGate: number;
  readonly oNorm: number;
  readonly oRows: number;
  readonly oQs: number;
  readonly oSc: number;
  readonly scratch: number;
  readonly ls: number;
  readonly total: number;
}

/** Where everything goes for groups with prefixes S, R responses each of up to Tmax tokens (M: the MLP's width). */
export function cacheLayout(S: readonly number[], R: number, Tmax: number, H: number, D: number, M: number, layers: number, threads = 1): CacheLayout {
  const C = H * D;
  const align4 = (n: number) => (n + 3) & ~3;
  const T = (Tmax + 15) & ~15;
  const group = new Int32Array(S.length);
  let F = 0;
  S.forEach((s, i) => {
    group[i] = F;
    F += C * (((s + 3) & ~3) + R * T);
  });
  const Amax = S.length * R;
  const oQkv = 2 * layers * F;
  const oAtt = oQkv + align4(Amax * 3 * C);
  const oX = oAtt + align4(Amax * C);
  const oX1 = oX + align4(Amax * C);
  const oLn = oX1 + align4(Amax * C);
  const oMean = oLn + align4(Amax * C);
  const oRstd = oMean + align4(Amax);
  const oF = oRstd + align4(Amax);
  const oGate = oF + align4(Amax * M);
  const oNorm = oGate + align4(Amax * M);
  const oRows = oNorm + align4(2 * C);
  const oQs = align4(oRows + 3 * Amax);
  const oSc = oQs + 4 * C;
  const ls = (Math.max(...S) + T + 16 + 3) & ~3;
  const scratch = (4 * C + H * ls + H + 3) & ~3;
  return { R, T, layerFloats: F, S: Int32Array.from(S), group, oQkv, oAtt, oX, oX1, oLn, oMean, oRstd, oF, oGate, oNorm, oRows, oQs, oSc, scratch, ls, total: oQs + threads * scratch };
}

/** The first float of group g's response r's block within a layer's key (or value) region. */
export function responseBlock(c: CacheLayout, g: number, r: number, C: number): number {
  return c.group[g] + C * ((c.S[g] + 3) & ~3) + r * C * c.T;
}

/** Each open row's group block, response block and prefix length into the layout's row table (`rows`): slot g R + r is group g's response r. */
export function writeRows(heap: Float32Array, c: CacheLayout, slots: ArrayLike<number>, C: number): void {
  const rows = new Int32Array(heap.buffer, heap.byteOffset + c.oRows * 4, 3 * slots.length);
  for (let i = 0; i < slots.length; i++) {
    const g = Math.floor(slots[i] / c.R);
    rows[3 * i] = c.group[g];
    rows[3 * i + 1] = responseBlock(c, g, slots[i] - g * c.R, C);
    rows[3 * i + 2] = c.S[g];
  }
}

/** Where layer l's attention at step t finds rows a0..a1 of the row table, on thread p's scratch. */
export function attentionArgs(c: CacheLayout, H: number, D: number, l: number, t: number, a0: number, a1: number, p: number): DecodeAttentionArgs {
  const C = H * D;
  const F = c.layerFloats;
  return {
    qkv: c.oQkv + a0 * 3 * C,
    att: c.oAtt + a0 * C,
    rows: c.oRows + 3 * a0,
    A: a1 - a0,
    H,
    D,
    t,
    T: c.T,
    alpha: 1 / Math.sqrt(D),
    kbase: 2 * l * F,
    vbase: 2 * l * F + F,
    qs: c.oQs + p * c.scratch,
    sc: c.oSc + p * c.scratch,
    ls: c.ls,
  };
}

/** The layout, the memory it lives in, and what prefill leaves for the first step. */
export interface KvCache extends CacheLayout {
  readonly heap: Float32Array;
  /** The WebAssembly instance the heap belongs to, or null (the JavaScript loops, `decodeAttentionJs`). */
  readonly kernel: DecodeKernel | null;
  /** [G, V] logits of each prompt's first response token. */
  readonly first: Float32Array;
}

/** Runs every prompt's prefix once (image mode) and keeps its keys and values in a new cache. */
export function prefill(w: Weights, cfg: ModelConfig, V: number, arena: Arena, prompts: readonly ScoreItem[], R: number, Tmax: number): KvCache {
  const items = prompts.map((p) => ({ image: p.image, prompt: p.prompt, response: [0] }));
  const [mb] = planBatches(items, cfg, true, Number.MAX_SAFE_INTEGER, false); // one group per prompt, repeats included
  const vision = visionForward(w, cfg, arena, mb.patches!, mb.images);
  const run = decoderForward(w, cfg, V, arena, mb.plan, vision);
  const { heads: H, width: C } = cfg.decoder;
  const D = C / H;
  const C3 = 3 * C;
  const groups = mb.plan.spec.groups;
  const layout = cacheLayout(
    groups.map((g) => g.S),
    R,
    Tmax,
    H,
    D,
    cfg.decoder.mlp,
    run.acts.length,
    arena.helpers?.parts ?? 1,
  );
  const { group, layerFloats: F } = layout;
  const simd = D % 16 === 0 ? simdKernels() : null; // the kernel works sixteen floats of a head at a time
  const kernel = simd ? arena.keep('decode.kernel', () => simd.decodeKernel(arena.helpers !== null)) : null;
  // the same memory call after call (fresh buffers cost page faults on every first write)
  const heap = kernel ? kernel.floats(layout.total) : arena.get('decode.heap', layout.total);
  run.acts.forEach((a, l) => {
    const K = 2 * l * F;
    groups.forEach((g, i) => {
      const Sp = (g.S + 3) & ~3;
      for (let h = 0; h < H; h++) {
        const kT = K + group[i] + h * D * Sp;
        const v = K + F + group[i] + h * Sp * D;
        for (let j = 0; j < g.S; j++) {
          const from = (g.p0 + j) * C3 + h * D;
          for (let d = 0; d < D; d++) heap[kT + d * Sp + j] = a.qkv[from + C + d];
          heap.set(a.qkv.subarray(from + 2 * C, from + 2 * C + D), v + j * D);
        }
        for (let d = 0; d < D; d++) heap.fill(0, kT + d * Sp + g.S, kT + (d + 1) * Sp);
        heap.fill(0, v + g.S * D, v + Sp * D);
      }
    });
  });
  return { ...layout, heap, kernel, first: Float32Array.from(run.logits.subarray(0, groups.length * V)) };
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
  const { heap, kernel } = cache;
  const at = (o: number, n: number) => heap.subarray(o, o + n);
  const [x, x1, ln, f] = [at(cache.oX, A * C), at(cache.oX1, A * C), at(cache.oLn, A * C), at(cache.oF, A * M)];
  const [qkv, att] = [at(cache.oQkv, A * C3), at(cache.oAtt, A * C)];
  for (let i = 0; i < A; i++) {
    const to = tokens[i] * C;
    const po = positions[i] * C;
    for (let j = 0; j < C; j++) x[i * C + j] = w.tok[to + j] + w.pos[po + j];
  }
  // layer norms, GELU and the residual adds: in place on the kernel's memory when there is one
  // (the same kernels as ops.ts's, so the same bits, without copies in and out), else ops.ts
  const norm = (from: number, g: Float32Array, b: Float32Array) => {
    if (!kernel) return layerNormForward(ln, at(cache.oMean, A), at(cache.oRstd, A), at(from, A * C), g, b, A, C);
    heap.set(g.subarray(0, C), cache.oNorm);
    heap.set(b.subarray(0, C), cache.oNorm + C);
    kernel.layerNorm(cache.oLn, cache.oMean, cache.oRstd, from, cache.oNorm, cache.oNorm + C, A, C, LN_EPS);
  };
  const residual = (to: number, from: number) => (kernel ? kernel.add(to, from, A * C) : addInto(at(to, A * C), at(from, A * C), A * C));
  // each open row's blocks and prefix length, the same for every layer
  writeRows(heap, cache, slots, C);
  w.decoder.forEach((bw, l) => {
    norm(cache.oX, bw.ln1g, bw.ln1b);
    linearForward(qkv, ln, bw.qkvW, bw.qkvB, A, C, C3);
    decodeAttention(heap, cache, kernel, arena.helpers, H, D, l, t, A);
    linearForward(x1, att, bw.outW, bw.outB, A, C, C);
    residual(cache.oX1, cache.oX);
    norm(cache.oX1, bw.ln2g, bw.ln2b);
    linearForward(f, ln, bw.fcW, bw.fcB, A, C, M);
    if (kernel) kernel.gelu(cache.oF, cache.oGate, A * M);
    else geluForward(f, f, A * M);
    linearForward(x, f, bw.projW, bw.projB, A, M, C);
    residual(cache.oX, cache.oX1);
  });
  norm(cache.oX, w.lnfG, w.lnfB);
  const logits = arena.get('dec1.logits', A * V);
  gemm(false, false, A, V, C, w.scale[0], ln, C, w.head, w.head.length / C, 0, logits, V);
  return logits;
}

/**
 * Layer l's attention at step t for the A rows of the row table (`writeRows`): the kernel, its
 * rows split over the helper threads by cost when its memory is shared, or without the SIMD
 * kernels the JavaScript loops.
 */
export function decodeAttention(heap: Float32Array, c: CacheLayout, kernel: DecodeKernel | null, helpers: HelperThreads | null, H: number, D: number, l: number, t: number, A: number): void {
  if (!kernel) return decodeAttentionJs(heap, attentionArgs(c, H, D, l, t, 0, A, 0));
  if (!helpers || !kernel.shared) return kernel.attend(attentionArgs(c, H, D, l, t, 0, A, 0));
  const rows = new Int32Array(heap.buffer, heap.byteOffset + c.oRows * 4, 3 * A);
  const memory = kernel.shared;
  helpers.runShares(
    Array.from({ length: A }, (_, i) => rows[3 * i + 2] + t + 1), // a row's cost: the keys it reads
    (a0, a1, p) => {
      const args = attentionArgs(c, H, D, l, t, a0, a1, p);
      return { message: { op: 'decodeAttention', memory, args }, here: () => kernel.attend(args) };
    },
  );
}

/**
 * One layer's attention for a decode step's open rows, in JavaScript (the reference for
 * kernels.wat's `decode_attn`, and the path when the SIMD kernels are off): row i's new key and
 * value into column t of its response's tiles, then per head the scores alpha q.k over its
 * prefix's S keys and its response's columns 0..t, one softmax over both, and the output
 * sum_j p_j v_j into att. Layout: KvCache.
 */
export function decodeAttentionJs(heap: Float32Array, o: DecodeAttentionArgs): void {
  const { A, H, D, t, alpha } = o;
  if (A === 0) return;
  const C = H * D;
  const rows = new Int32Array(heap.buffer, heap.byteOffset + o.rows * 4, 3 * A);
  const s = new Float64Array(Math.max(...Array.from({ length: A }, (_, i) => rows[3 * i + 2])) + t + 1);
  // a response's column j lives in tile j >> 4 (16 C floats): key channel c at 16 c + j % 16,
  // head h's value at (16 h + j % 16) D
  const tile = (j: number) => (j >> 4) * 16 * C;
  const key = (j: number, c: number) => tile(j) + 16 * c + (j & 15);
  const value = (j: number, h: number) => tile(j) + (16 * h + (j & 15)) * D;
  for (let i = 0; i < A; i++) {
    const S = rows[3 * i + 2];
    const Sp = (S + 3) & ~3;
    const n = S + t + 1;
    const q = o.qkv + i * 3 * C;
    const kr = o.kbase + rows[3 * i + 1];
    const vr = o.vbase + rows[3 * i + 1];
    for (let c = 0; c < C; c++) heap[kr + key(t, c)] = heap[q + C + c];
    for (let h = 0; h < H; h++) heap.copyWithin(vr + value(t, h), q + 2 * C + h * D, q + 2 * C + (h + 1) * D);
    for (let h = 0; h < H; h++) {
      const kp = o.kbase + rows[3 * i] + h * D * Sp;
      const vp = o.vbase + rows[3 * i] + h * Sp * D;
      let max = -Infinity;
      for (let j = 0; j < n; j++) {
        let dot = 0;
        if (j < S) for (let d = 0; d < D; d++) dot += heap[q + h * D + d] * heap[kp + d * Sp + j];
        else for (let d = 0; d < D; d++) dot += heap[q + h * D + d] * heap[kr + key(j - S, h * D + d)];
        s[j] = alpha * dot;
        if (s[j] > max) max = s[j];
      }
      let z = 0;
      for (let j = 0; j < n; j++) z += s[j] = expNonPos(s[j] - max);
      const out = o.att + i * C + h * D;
      for (let d = 0; d < D; d++) {
        let acc = 0;
        for (let j = 0; j < S; j++) acc += s[j] * heap[vp + j * D + d];
        for (let j = 0; j <= t; j++) acc += s[S + j] * heap[vr + value(j, h) + d];
        heap[out + d] = acc / z;
      }
    }
  }
}
