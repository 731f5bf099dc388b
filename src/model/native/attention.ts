/**
 * Multi-head attention of the native engine, forward beside backward, over groups of rows that
 * share a prefix. Rows are laid out group by group:
 *
 *   group g: [ prefix: S rows | response 0: n_0 rows | response 1: n_1 rows | ... ]
 *
 * The prefix attends to itself (causally in the decoder, fully in the ViT); every response row
 * attends to the whole prefix and, causally, to its own response, under ONE softmax over both
 * segments. That is attention over the R full sequences [prefix | response r], with the prefix
 * computed and read once per group (src/model/forward.ts does the same in jax-js).
 *
 * q, k, v are read in place from the fused projection qkv [rows, 3C] (columns: q | k | v, head h
 * at h*D inside each), so no transposes: a head is a strided view with row stride 3C. The output
 * [rows, C] keeps heads side by side (head h at columns h*D), which is what the output
 * projection expects. Probabilities are kept (`probs`, laid out by `probsLayout`) for backward.
 */

import { gemm } from './blas.ts';
import { expNonPos } from '../exp.ts';
import { simdKernels } from './simd/simd.ts';
import type { HelperThreads } from './helper-threads.ts';

export interface AttnGroup {
  /** First row of the prefix. */
  readonly p0: number;
  /** Prefix rows. */
  readonly S: number;
  /** Response rows after the prefix, in order and contiguous: n rows each. */
  readonly resp: readonly number[];
}

export interface AttnSpec {
  readonly groups: readonly AttnGroup[];
  /** Causal prefix (decoder) or full (vision encoder). */
  readonly causal: boolean;
  readonly H: number;
  readonly D: number;
}

/** Floats of one (group, head) block of kept probabilities: [S, S] | [ntot, S] | [n, n] per response. */
function blockFloats(g: AttnGroup): number {
  const ntot = g.resp.reduce((a, n) => a + n, 0);
  return g.S * g.S + ntot * g.S + g.resp.reduce((a, n) => a + n * n, 0);
}

/** Floats of kept probabilities for a spec, and the largest per-(group, head) block (scratch). */
export function probsLayout(spec: AttnSpec): { total: number; block: number } {
  let total = 0;
  let block = 0;
  for (const g of spec.groups) {
    const per = blockFloats(g);
    total += spec.H * per;
    block = Math.max(block, per);
  }
  return { total, block };
}

/** Softmax in place over row i of a [rows, width] block, columns [0, len) (the rest set to 0). */
function softmaxRow(p: Float32Array, off: number, len: number, width: number): void {
  let max = -Infinity;
  for (let j = 0; j < len; j++) if (p[off + j] > max) max = p[off + j];
  let s = 0;
  for (let j = 0; j < len; j++) {
    const e = expNonPos(p[off + j] - max);
    p[off + j] = e;
    s += e;
  }
  const inv = 1 / s;
  for (let j = 0; j < len; j++) p[off + j] *= inv;
  for (let j = len; j < width; j++) p[off + j] = 0;
}

/**
 * The softmaxes of one (group, head) block in place, scores in, probabilities out. The block is
 * [S, S] (prefix rows) | [ntot, S] (response rows against the prefix) | [n, n] per response (its
 * rows against itself, causal); a response row's two segments share one softmax. The SIMD
 * kernel (simd.ts) when there is one, else these loops (float64 sums).
 */
export function softmaxBlock(block: Float32Array, S: number, causal: boolean, resp: readonly number[]): void {
  const simd = simdKernels();
  if (simd) return simd.attentionSoftmax(block, S, causal, resp);
  softmaxBlockJs(block, S, causal, resp);
}

/** softmaxBlock's JavaScript loops: the reference for the SIMD kernel, and the fallback. */
export function softmaxBlockJs(block: Float32Array, S: number, causal: boolean, resp: readonly number[]): void {
  for (let i = 0; i < S; i++) softmaxRow(block, i * S, causal ? i + 1 : S, S);
  const ntot = resp.reduce((a, n) => a + n, 0);
  let a = S * S; // response row's prefix scores
  let b = a + ntot * S; // its own scores
  for (const n of resp) {
    for (let i = 0; i < n; i++, a += S, b += n) {
      let max = -Infinity;
      for (let j = 0; j < S; j++) if (block[a + j] > max) max = block[a + j];
      for (let j = 0; j <= i; j++) if (block[b + j] > max) max = block[b + j];
      let z = 0;
      for (let j = 0; j < S; j++) z += block[a + j] = expNonPos(block[a + j] - max);
      for (let j = 0; j <= i; j++) z += block[b + j] = expNonPos(block[b + j] - max);
      const inv = 1 / z;
      for (let j = 0; j < S; j++) block[a + j] *= inv;
      for (let j = 0; j <= i; j++) block[b + j] *= inv;
      for (let j = i + 1; j < n; j++) block[b + j] = 0;
    }
  }
}

/**
 * Its backward, row by row over the same segments: grad (laid out as the block) holds dL/dP on
 * entry and dL/dscores on return, dS = P (dP - sum_j P_j dP_j).
 */
export function softmaxBlockBackward(block: Float32Array, grad: Float32Array, S: number, resp: readonly number[]): void {
  const simd = simdKernels();
  if (simd) return simd.attentionSoftmaxBackward(block, grad, S, resp);
  softmaxBlockBackwardJs(block, grad, S, resp);
}

/** softmaxBlockBackward's JavaScript loops (reference and fallback). */
export function softmaxBlockBackwardJs(block: Float32Array, grad: Float32Array, S: number, resp: readonly number[]): void {
  for (let o = 0; o < S * S; o += S) {
    let dot = 0;
    for (let j = 0; j < S; j++) dot += block[o + j] * grad[o + j];
    for (let j = 0; j < S; j++) grad[o + j] = block[o + j] * (grad[o + j] - dot);
  }
  const ntot = resp.reduce((a, n) => a + n, 0);
  let a = S * S;
  let b = a + ntot * S;
  for (const n of resp) {
    for (let i = 0; i < n; i++, a += S, b += n) {
      let dot = 0;
      for (let j = 0; j < S; j++) dot += block[a + j] * grad[a + j];
      for (let j = 0; j <= i; j++) dot += block[b + j] * grad[b + j];
      for (let j = 0; j < S; j++) grad[a + j] = block[a + j] * (grad[a + j] - dot);
      for (let j = 0; j < n; j++) grad[b + j] = j <= i ? block[b + j] * (grad[b + j] - dot) : 0;
    }
  }
}

/** Where group g0's probabilities start. */
function probsStart(spec: AttnSpec, g0: number): number {
  let po = 0;
  for (let g = 0; g < g0; g++) po += spec.H * blockFloats(spec.groups[g]);
  return po;
}

/**
 * out[rows, C] = attention of qkv [rows, 3C]; fills probs. With helpers, the groups are split
 * between this thread and them (helper-threads.ts): every buffer must then be the arena's (shared).
 */
export function attentionForward(out: Float32Array, probs: Float32Array, qkv: Float32Array, spec: AttnSpec, helpers: HelperThreads | null = null): void {
  const G = spec.groups.length;
  if (!helpers || G < 2) return attentionForwardGroups(out, probs, qkv, spec, 0, G);
  // a group's cost: its probabilities (all heads alike)
  helpers.runShares(spec.groups.map(blockFloats), (g0, g1) => ({
    message: { op: 'attentionForward', out, probs, qkv, spec, g0, g1 },
    here: () => attentionForwardGroups(out, probs, qkv, spec, g0, g1),
  }));
}

/** A helper's share of attentionForward (helper-tasks.ts): groups [g0, g1). */
export interface AttentionForwardShare {
  readonly out: Float32Array;
  readonly probs: Float32Array;
  readonly qkv: Float32Array;
  readonly spec: AttnSpec;
  readonly g0: number;
  readonly g1: number;
}

/** A helper's share of attentionBackward (helper-tasks.ts): groups [g0, g1), with its own scratch. */
export interface AttentionBackwardShare {
  readonly dqkv: Float32Array;
  readonly dout: Float32Array;
  readonly probs: Float32Array;
  readonly qkv: Float32Array;
  readonly spec: AttnSpec;
  readonly g0: number;
  readonly g1: number;
  readonly scratch: Float32Array;
}

/** attentionForward over groups [g0, g1) only. */
export function attentionForwardGroups(out: Float32Array, probs: Float32Array, qkv: Float32Array, spec: AttnSpec, g0: number, g1: number): void {
  const { H, D } = spec;
  const C = H * D;
  const C3 = 3 * C;
  const alpha = 1 / Math.sqrt(D);
  let po = probsStart(spec, g0);
  for (let gi = g0; gi < g1; gi++) {
    const { p0, S, resp } = spec.groups[gi];
    const s0 = p0 + S;
    const ntot = resp.reduce((a, n) => a + n, 0);
    const per = blockFloats(spec.groups[gi]);
    for (let h = 0; h < H; h++) {
      const q = h * D;
      const k = C + h * D;
      const v = 2 * C + h * D;
      const block = probs.subarray(po, po + per);
      po += block.length;
      // scores: prefix -> prefix [S, S]; responses -> prefix [ntot, S] in one product; each
      // response -> itself [n, n]
      const pp = block.subarray(0, S * S);
      const sp = block.subarray(S * S, S * S + ntot * S);
      gemm(false, true, S, S, D, alpha, qkv.subarray(p0 * C3 + q), C3, qkv.subarray(p0 * C3 + k), C3, 0, pp, S);
      gemm(false, true, ntot, S, D, alpha, qkv.subarray(s0 * C3 + q), C3, qkv.subarray(p0 * C3 + k), C3, 0, sp, S);
      for (let r = 0, r0 = s0, o = S * S + ntot * S; r < resp.length; o += resp[r] * resp[r], r0 += resp[r], r++) {
        const n = resp[r];
        gemm(false, true, n, n, D, alpha, qkv.subarray(r0 * C3 + q), C3, qkv.subarray(r0 * C3 + k), C3, 0, block.subarray(o, o + n * n), n);
      }
      softmaxBlock(block, S, spec.causal, resp);
      // out = P V, segment by segment
      gemm(false, false, S, D, S, 1, pp, S, qkv.subarray(p0 * C3 + v), C3, 0, out.subarray(p0 * C + q), C);
      gemm(false, false, ntot, D, S, 1, sp, S, qkv.subarray(p0 * C3 + v), C3, 0, out.subarray(s0 * C + q), C);
      for (let r = 0, r0 = s0, o = S * S + ntot * S; r < resp.length; o += resp[r] * resp[r], r0 += resp[r], r++) {
        const n = resp[r];
        gemm(false, false, n, D, n, 1, block.subarray(o, o + n * n), n, qkv.subarray(r0 * C3 + v), C3, 1, out.subarray(r0 * C + q), C);
      }
    }
  }
}

/**
 * dqkv [rows, 3C] (overwritten) from dout [rows, C], the kept probs and qkv. `scratch` holds one
 * buffer of probsLayout(spec).block floats per thread (this one, then each helper's): dL/dP of
 * one (group, head) block, laid out as the block, then (softmaxBlockBackward) dL/dscores.
 */
export function attentionBackward(
  dqkv: Float32Array,
  dout: Float32Array,
  probs: Float32Array,
  qkv: Float32Array,
  spec: AttnSpec,
  rows: number,
  scratch: readonly Float32Array[],
  helpers: HelperThreads | null = null,
): void {
  dqkv.fill(0, 0, rows * 3 * spec.H * spec.D);
  const G = spec.groups.length;
  if (!helpers || G < 2) return attentionBackwardGroups(dqkv, dout, probs, qkv, spec, 0, G, scratch[0]);
  helpers.runShares(spec.groups.map(blockFloats), (g0, g1, p) => ({
    message: { op: 'attentionBackward', dqkv, dout, probs, qkv, spec, g0, g1, scratch: scratch[p] },
    here: () => attentionBackwardGroups(dqkv, dout, probs, qkv, spec, g0, g1, scratch[p]),
  }));
}

/** attentionBackward over groups [g0, g1) only (dqkv already zeroed). */
export function attentionBackwardGroups(dqkv: Float32Array, dout: Float32Array, probs: Float32Array, qkv: Float32Array, spec: AttnSpec, g0: number, g1: number, scratch: Float32Array): void {
  const { H, D } = spec;
  const C = H * D;
  const C3 = 3 * C;
  const alpha = 1 / Math.sqrt(D);
  let po = probsStart(spec, g0);
  for (let gi = g0; gi < g1; gi++) {
    const { p0, S, resp } = spec.groups[gi];
    const s0 = p0 + S;
    const ntot = resp.reduce((a, n) => a + n, 0);
    const per = blockFloats(spec.groups[gi]);
    for (let h = 0; h < H; h++) {
      const q = h * D;
      const k = C + h * D;
      const v = 2 * C + h * D;
      const Qp = qkv.subarray(p0 * C3 + q);
      const Kp = qkv.subarray(p0 * C3 + k);
      const Vp = qkv.subarray(p0 * C3 + v);
      const dKp = dqkv.subarray(p0 * C3 + k);
      const dVp = dqkv.subarray(p0 * C3 + v);
      const block = probs.subarray(po, po + per);
      po += block.length;
      const grad = scratch.subarray(0, block.length);
      const pp = block.subarray(0, S * S);
      const sp = block.subarray(S * S, S * S + ntot * S);
      const dp = grad.subarray(0, S * S);
      const dsp = grad.subarray(S * S, S * S + ntot * S);
      const dOp = dout.subarray(p0 * C + q);
      const dOs = dout.subarray(s0 * C + q);
      // dP = dO V^T and dV += P^T dO, segment by segment
      gemm(false, true, S, S, D, 1, dOp, C, Vp, C3, 0, dp, S);
      gemm(true, false, S, D, S, 1, pp, S, dOp, C, 1, dVp, C3);
      gemm(false, true, ntot, S, D, 1, dOs, C, Vp, C3, 0, dsp, S);
      gemm(true, false, S, D, ntot, 1, sp, S, dOs, C, 1, dVp, C3);
      for (let r = 0, r0 = s0, o = S * S + ntot * S; r < resp.length; o += resp[r] * resp[r], r0 += resp[r], r++) {
        const n = resp[r];
        const dOr = dout.subarray(r0 * C + q);
        gemm(false, true, n, n, D, 1, dOr, C, qkv.subarray(r0 * C3 + v), C3, 0, grad.subarray(o, o + n * n), n);
        gemm(true, false, n, D, n, 1, block.subarray(o, o + n * n), n, dOr, C, 1, dqkv.subarray(r0 * C3 + v), C3);
      }
      softmaxBlockBackward(block, grad, S, resp);
      // dQ += alpha dS K, dK += alpha dS^T Q, segment by segment
      gemm(false, false, S, D, S, alpha, dp, S, Kp, C3, 1, dqkv.subarray(p0 * C3 + q), C3);
      gemm(true, false, S, D, S, alpha, dp, S, Qp, C3, 1, dKp, C3);
      gemm(false, false, ntot, D, S, alpha, dsp, S, Kp, C3, 1, dqkv.subarray(s0 * C3 + q), C3);
      gemm(true, false, S, D, ntot, alpha, dsp, S, qkv.subarray(s0 * C3 + q), C3, 1, dKp, C3);
      for (let r = 0, r0 = s0, o = S * S + ntot * S; r < resp.length; o += resp[r] * resp[r], r0 += resp[r], r++) {
        const n = resp[r];
        const dss = grad.subarray(o, o + n * n);
        gemm(false, false, n, D, n, alpha, dss, n, qkv.subarray(r0 * C3 + k), C3, 1, dqkv.subarray(r0 * C3 + q), C3);
        gemm(true, false, n, D, n, alpha, dss, n, qkv.subarray(r0 * C3 + q), C3, 1, dqkv.subarray(r0 * C3 + k), C3);
      }
    }
  }
}
