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
 *
 * Rows are independent through a step, so with helper threads each thread runs every layer on a
 * share of them (`decodeStep`), cut only where BLAS computes the same bits as one call.
 */

import type { ModelConfig } from '../config.ts';
import { dims } from '../config.ts';
import type { ScoreItem } from '../../core/policy.ts';
import { PARALLEL_MACS, exactRowSplit, exactShareRows, gemm } from './blas.ts';
import { type Arena, ParamLayout, type Weights, decoderForward, visionForward } from './model.ts';
import { LN_EPS, addInto, geluForward, layerNormForward, linearForward } from './ops.ts';
import { expNonPos } from '../exp.ts';
import { planBatches } from './plan.ts';
import { type DecodeAttentionArgs, type DecodeKernel, type SharedDecodeMemory, simdKernels } from './simd/simd.ts';
import { type HelperThreads, splitByCost } from './helper-threads.ts';

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
 *   norm's mean and rstd [Amax], the MLP's f [Amax, M] and GELU's unused gate: with the kernels,
 *   layer norms, GELU and residual adds run in place there), a copy
 *   of the parameters (ParamLayout's flat array: a helper thread reads the weights there, and the
 *   kernels find the norms' g and b), rows (three int32 per open row: its group's block, its
 *   response's block, its S), and per thread that runs a share of the rows (helper threads: the
 *   memory is then shared) scratch qs [4 C] and sc [H ls + H]. Regions start at multiples of
 *   four floats.
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
  readonly oTheta: number;
  /** The parameters' floats at oTheta. */
  readonly params: number;
  readonly oRows: number;
  readonly oQs: number;
  readonly oSc: number;
  readonly scratch: number;
  readonly ls: number;
  readonly total: number;
}

/** Where everything goes for groups with prefixes S, R responses each of up to Tmax tokens (M: the MLP's width, params the parameters' floats). */
export function cacheLayout(S: readonly number[], R: number, Tmax: number, H: number, D: number, M: number, layers: number, threads = 1, params = 0): CacheLayout {
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
  const oTheta = oGate + align4(Amax * M);
  const oRows = oTheta + align4(params);
  const oQs = align4(oRows + 3 * Amax);
  const oSc = oQs + 4 * C;
  const ls = (Math.max(...S) + T + 16 + 3) & ~3;
  const scratch = (4 * C + H * ls + H + 3) & ~3;
  return {
    R,
    T,
    layerFloats: F,
    S: Int32Array.from(S),
    group,
    oQkv,
    oAtt,
    oX,
    oX1,
    oLn,
    oMean,
    oRstd,
    oF,
    oGate,
    oTheta,
    params,
    oRows,
    oQs,
    oSc,
    scratch,
    ls,
    total: oQs + threads * scratch,
  };
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
export interface KvCache {
  /** Plain data, so a helper thread is sent it as it is (decodeRows's messages). */
  readonly layout: CacheLayout;
  readonly heap: Float32Array;
  /** The WebAssembly instance the heap belongs to, or null (the JavaScript loops, `decodeAttentionJs`). */
  readonly kernel: DecodeKernel | null;
  /** [G, V] logits of each prompt's first response token. */
  readonly first: Float32Array;
  /** The weights the steps read: views of the parameters' copy in the heap. */
  readonly w: Weights;
}

/** Runs every prompt's prefix once (image mode) and keeps its keys and values, and the parameters theta (laid out by `params`), in a new cache. */
export function prefill(params: ParamLayout, theta: Float32Array, cfg: ModelConfig, V: number, arena: Arena, prompts: readonly ScoreItem[], R: number, Tmax: number): KvCache {
  const w = params.weights(theta, cfg);
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
    params.total,
  );
  const { group, layerFloats: F } = layout;
  const simd = D % 16 === 0 ? simdKernels() : null; // the kernel works sixteen floats of a head at a time
  const kernel = simd ? arena.keep('decode.kernel', () => simd.decodeKernel(arena.helpers !== null)) : null;
  // the same memory call after call (fresh buffers cost page faults on every first write)
  const heap = kernel ? kernel.floats(layout.total) : arena.get('decode.heap', layout.total);
  heap.set(theta, layout.oTheta);
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
  const cached = params.weights(heap.subarray(layout.oTheta, layout.oTheta + params.total), cfg);
  return { layout, heap, kernel, first: Float32Array.from(run.logits.subarray(0, groups.length * V)), w: cached };
}

/**
 * One step for the open responses `slots` (g * R + r, ascending), each fed `tokens[i]` at
 * position `positions[i]`, writing cache column t. Returns logits [A, V].
 *
 * With helper threads on a shared cache, the rows are split between the threads, each running
 * every layer and the final norm on its share (`decodeRows`): one parallel section per step; the
 * head then runs here on every row. The cuts fall where BLAS computes a product's rows as one call
 * would (blas.ts: at multiples of `exactRowSplit`, into shares of at least `exactShareRows` of the
 * step's products), and only when each of the step's products would run on one BLAS thread
 * anyway (gemm's PARALLEL_MACS), so the results are those of one thread. Otherwise this thread
 * runs every row, each layer's attention split between the threads.
 */
export function decodeStep(cfg: ModelConfig, V: number, arena: Arena, cache: KvCache, slots: Int32Array, tokens: Int32Array, positions: Int32Array, t: number): Float32Array {
  const { C } = dims(cfg);
  const A = slots.length;
  const { layout, heap, kernel, w } = cache;
  writeRows(heap, layout, slots, C);
  const x = heap.subarray(layout.oX, layout.oX + A * C);
  for (let i = 0; i < A; i++) {
    const to = tokens[i] * C;
    const po = positions[i] * C;
    for (let j = 0; j < C; j++) x[i * C + j] = w.tok[to + j] + w.pos[po + j];
  }
  const helpers = arena.helpers;
  const memory = kernel?.shared;
  const ends = helpers && memory ? rowShares(cfg, cache, helpers.parts, A, t) : null;
  if (helpers && memory && ends) {
    // steps come every few milliseconds: both sides poll for 5 ms instead of sleeping between them
    // (waking a sleeping thread cost a few percent of a step on a 2-vCPU VM)
    helpers.runSharesAt(
      ends,
      (a0, a1, p) => ({
        message: { op: 'decodeRows', memory, layout, cfg, V, t, a0, a1, p },
        here: () => decodeRows(cfg, cache, null, t, a0, a1, p),
      }),
      5,
    );
  } else decodeRows(cfg, cache, helpers, t, 0, A, 0);
  const logits = arena.get('dec1.logits', A * V);
  gemm(false, false, A, V, C, w.scale[0], heap.subarray(layout.oLn, layout.oLn + A * C), C, w.head, w.head.length / C, 0, logits, V);
  return logits;
}

/**
 * Where a step's A rows are cut between `parts` threads (the end of each share), or null where
 * they are not: unless every cut keeps the bits of one thread (`decodeStep`), and GELU in place,
 * which rounds a share's floats up to four, stays inside its share (M % 4).
 */
function rowShares(cfg: ModelConfig, cache: KvCache, parts: number, A: number, t: number): number[] | null {
  const { C } = dims(cfg);
  const M = cfg.decoder.mlp;
  if (M % 4 !== 0 || A * C * Math.max(3 * C, M) >= PARALLEL_MACS) return null;
  const step = exactRowSplit();
  if (step === null || A < 2 * step) return null;
  // a row's cost in multiply-adds: the weight products, and per layer its attention over S + t + 1
  // keys (2C each, counted twice: it runs at about half BLAS's speed)
  const rows = new Int32Array(cache.heap.buffer, cache.heap.byteOffset + cache.layout.oRows * 4, 3 * A);
  const products = 4 * C * C + 2 * C * M;
  const ends = splitByCost(
    Array.from({ length: A }, (_, i) => products + 4 * C * (rows[3 * i + 2] + t + 1)),
    parts,
    step,
  );
  // every share (an empty one aside) large enough for BLAS to compute its rows as the whole call does
  const Amax = cache.layout.S.length * cache.layout.R;
  const floor = Math.max(exactShareRows(C, 3 * C, Amax), exactShareRows(C, C, Amax), exactShareRows(C, M, Amax), exactShareRows(M, C, Amax));
  return ends.every((e, i) => e === (ends[i - 1] ?? 0) || e - (ends[i - 1] ?? 0) >= floor) ? ends : null;
}

/**
 * Rows a0..a1 of a decode step through every layer and the final norm (into the ln rows), on
 * thread p's attention scratch; their inputs x (token + position embeddings) are in place.
 * helpers: the threads each layer's attention is split over, when this thread runs every row.
 */
export function decodeRows(cfg: ModelConfig, cache: KvCache, helpers: HelperThreads | null, t: number, a0: number, a1: number, p: number): void {
  const n = a1 - a0;
  if (n === 0) return;
  if (helpers && (a0 !== 0 || p !== 0)) throw new Error('decodeRows: attention is split between threads only when this thread runs every row');
  const { C } = dims(cfg);
  const { heads: H, mlp: M } = cfg.decoder;
  const D = C / H;
  const C3 = 3 * C;
  const { layout, heap, kernel, w } = cache;
  // rows a0..a1 of a region of rows `width` floats wide: their first float, their view
  const off = (o: number, width: number) => o + a0 * width;
  const at = (o: number, width: number) => heap.subarray(off(o, width), off(o, width) + n * width);
  const [x, x1, ln, f] = [at(layout.oX, C), at(layout.oX1, C), at(layout.oLn, C), at(layout.oF, M)];
  const [qkv, att] = [at(layout.oQkv, C3), at(layout.oAtt, C)];
  // where a weight's copy starts in the heap (the kernels take offsets)
  const inHeap = (v: Float32Array) => (v.byteOffset - heap.byteOffset) >> 2;
  // layer norms, GELU and the residual adds: in place on the kernel's memory when there is one
  // (the same kernels as ops.ts's, so the same bits, without copies in and out), else ops.ts
  const norm = (from: number, g: Float32Array, b: Float32Array) => {
    if (!kernel) return layerNormForward(ln, at(layout.oMean, 1), at(layout.oRstd, 1), at(from, C), g, b, n, C);
    kernel.layerNorm(off(layout.oLn, C), off(layout.oMean, 1), off(layout.oRstd, 1), off(from, C), inHeap(g), inHeap(b), n, C, LN_EPS);
  };
  const residual = (to: number, from: number) => (kernel ? kernel.add(off(to, C), off(from, C), n * C) : addInto(at(to, C), at(from, C), n * C));
  const attention = (l: number) => {
    if (helpers) return decodeAttention(heap, layout, kernel, helpers, H, D, l, t, n);
    const args = attentionArgs(layout, H, D, l, t, a0, a1, p);
    return kernel ? kernel.attend(args) : decodeAttentionJs(heap, args);
  };
  w.decoder.forEach((bw, l) => {
    norm(layout.oX, bw.ln1g, bw.ln1b);
    linearForward(qkv, ln, bw.qkvW, bw.qkvB, n, C, C3);
    attention(l);
    linearForward(x1, att, bw.outW, bw.outB, n, C, C);
    residual(layout.oX1, layout.oX);
    norm(layout.oX1, bw.ln2g, bw.ln2b);
    linearForward(f, ln, bw.fcW, bw.fcB, n, C, M);
    if (kernel) kernel.gelu(off(layout.oF, M), off(layout.oGate, M), n * M);
    else geluForward(f, f, n * M);
    linearForward(x, f, bw.projW, bw.projB, n, M, C);
    residual(layout.oX, layout.oX1);
  });
  norm(layout.oX, w.lnfG, w.lnfB);
}

/** A helper thread's share of a decode step (helper-tasks.ts): `decodeRows` on the cache's shared memory, its weights read from the parameters' copy there. */
export function decodeRowsShared(memory: SharedDecodeMemory, layout: CacheLayout, cfg: ModelConfig, V: number, t: number, a0: number, a1: number, p: number): void {
  const kernel = simdKernels()!.sharedDecodeKernel(memory);
  const heap = new Float32Array(memory.memory.buffer);
  const w = helperWeights(memory, layout, cfg, V, heap);
  decodeRows(cfg, { layout, heap, kernel, w, first: new Float32Array(0) }, null, t, a0, a1, p);
}

// a helper's views of the weights in the cache it was last sent (the same step after step; a
// shared memory keeps its place when it grows, so the views stay valid)
let lastWeights: { id: number; oTheta: number; w: Weights } | null = null;
function helperWeights(memory: SharedDecodeMemory, layout: CacheLayout, cfg: ModelConfig, V: number, heap: Float32Array): Weights {
  if (lastWeights?.id !== memory.id || lastWeights.oTheta !== layout.oTheta) {
    const params = new ParamLayout(cfg, V);
    if (params.total !== layout.params) throw new Error(`decode: the cache holds ${layout.params} parameters, the model has ${params.total}`);
    lastWeights = { id: memory.id, oTheta: layout.oTheta, w: params.weights(heap.subarray(layout.oTheta, layout.oTheta + layout.params), cfg) };
  }
  return lastWeights.w;
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
