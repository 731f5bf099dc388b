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
import { expNonPos } from './ops.ts';

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

/** Floats of kept probabilities for a spec, and the largest per-(group, head) block (scratch). */
export function probsLayout(spec: AttnSpec): { total: number; block: number } {
  let total = 0;
  let block = 0;
  for (const g of spec.groups) {
    const ntot = g.resp.reduce((a, n) => a + n, 0);
    const own = g.resp.reduce((a, n) => a + n * n, 0);
    const per = g.S * g.S + ntot * g.S + own;
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

/** out[rows, C] = attention of qkv [rows, 3C]; fills probs. */
export function attentionForward(out: Float32Array, probs: Float32Array, qkv: Float32Array, spec: AttnSpec): void {
  const { H, D } = spec;
  const C = H * D;
  const C3 = 3 * C;
  const alpha = 1 / Math.sqrt(D);
  let po = 0;
  for (const { p0, S, resp } of spec.groups) {
    const s0 = p0 + S;
    const ntot = resp.reduce((a, n) => a + n, 0);
    for (let h = 0; h < H; h++) {
      const q = h * D;
      const k = C + h * D;
      const v = 2 * C + h * D;
      // prefix -> prefix: [S, S]
      const pp = probs.subarray(po, po + S * S);
      po += S * S;
      gemm(false, true, S, S, D, alpha, qkv.subarray(p0 * C3 + q), C3, qkv.subarray(p0 * C3 + k), C3, 0, pp, S);
      for (let i = 0; i < S; i++) softmaxRow(pp, i * S, spec.causal ? i + 1 : S, S);
      gemm(false, false, S, D, S, 1, pp, S, qkv.subarray(p0 * C3 + v), C3, 0, out.subarray(p0 * C + q), C);
      if (ntot === 0) continue;
      // responses -> prefix: [ntot, S], one product for all responses of the group
      const sp = probs.subarray(po, po + ntot * S);
      po += ntot * S;
      gemm(false, true, ntot, S, D, alpha, qkv.subarray(s0 * C3 + q), C3, qkv.subarray(p0 * C3 + k), C3, 0, sp, S);
      // each response -> itself: [n, n], causal; then one softmax over both segments per row
      let r0 = s0;
      const own: Float32Array[] = [];
      for (const n of resp) {
        const ss = probs.subarray(po, po + n * n);
        po += n * n;
        own.push(ss);
        gemm(false, true, n, n, D, alpha, qkv.subarray(r0 * C3 + q), C3, qkv.subarray(r0 * C3 + k), C3, 0, ss, n);
        for (let i = 0; i < n; i++) {
          const a = (r0 - s0 + i) * S;
          const b = i * n;
          let max = -Infinity;
          for (let j = 0; j < S; j++) if (sp[a + j] > max) max = sp[a + j];
          for (let j = 0; j <= i; j++) if (ss[b + j] > max) max = ss[b + j];
          let z = 0;
          for (let j = 0; j < S; j++) z += sp[a + j] = expNonPos(sp[a + j] - max);
          for (let j = 0; j <= i; j++) z += ss[b + j] = expNonPos(ss[b + j] - max);
          const inv = 1 / z;
          for (let j = 0; j < S; j++) sp[a + j] *= inv;
          for (let j = 0; j <= i; j++) ss[b + j] *= inv;
          for (let j = i + 1; j < n; j++) ss[b + j] = 0;
        }
        r0 += n;
      }
      gemm(false, false, ntot, D, S, 1, sp, S, qkv.subarray(p0 * C3 + v), C3, 0, out.subarray(s0 * C + q), C);
      r0 = s0;
      resp.forEach((n, r) => {
        gemm(false, false, n, D, n, 1, own[r], n, qkv.subarray(r0 * C3 + v), C3, 1, out.subarray(r0 * C + q), C);
        r0 += n;
      });
    }
  }
}

/**
 * dqkv [rows, 3C] (overwritten) from dout [rows, C], the kept probs and qkv. `scratch` holds
 * probsLayout(spec).block floats. Softmax backward per row: dS = P (dP - sum_j P_j dP_j) over
 * both segments of the row.
 */
export function attentionBackward(dqkv: Float32Array, dout: Float32Array, probs: Float32Array, qkv: Float32Array, spec: AttnSpec, rows: number, scratch: Float32Array): void {
  const { H, D } = spec;
  const C = H * D;
  const C3 = 3 * C;
  const alpha = 1 / Math.sqrt(D);
  dqkv.fill(0, 0, rows * C3);
  let po = 0;
  for (const { p0, S, resp } of spec.groups) {
    const s0 = p0 + S;
    const ntot = resp.reduce((a, n) => a + n, 0);
    for (let h = 0; h < H; h++) {
      const q = h * D;
      const k = C + h * D;
      const v = 2 * C + h * D;
      const Qp = qkv.subarray(p0 * C3 + q);
      const Kp = qkv.subarray(p0 * C3 + k);
      const Vp = qkv.subarray(p0 * C3 + v);
      const dQp = dqkv.subarray(p0 * C3 + q);
      const dKp = dqkv.subarray(p0 * C3 + k);
      const dVp = dqkv.subarray(p0 * C3 + v);
      // prefix -> prefix
      const pp = probs.subarray(po, po + S * S);
      po += S * S;
      const dp = scratch.subarray(0, S * S);
      const dOp = dout.subarray(p0 * C + q);
      gemm(false, true, S, S, D, 1, dOp, C, Vp, C3, 0, dp, S);
      gemm(true, false, S, D, S, 1, pp, S, dOp, C, 1, dVp, C3);
      for (let i = 0; i < S; i++) {
        const o = i * S;
        let dot = 0;
        for (let j = 0; j < S; j++) dot += pp[o + j] * dp[o + j];
        for (let j = 0; j < S; j++) dp[o + j] = pp[o + j] * (dp[o + j] - dot);
      }
      gemm(false, false, S, D, S, alpha, dp, S, Kp, C3, 1, dQp, C3);
      gemm(true, false, S, D, S, alpha, dp, S, Qp, C3, 1, dKp, C3);
      if (ntot === 0) continue;
      // responses: dP for both segments, then the joint softmax backward row by row
      const sp = probs.subarray(po, po + ntot * S);
      po += ntot * S;
      const dsp = scratch.subarray(0, ntot * S);
      let so = ntot * S;
      const dOs = dout.subarray(s0 * C + q);
      gemm(false, true, ntot, S, D, 1, dOs, C, Vp, C3, 0, dsp, S);
      gemm(true, false, S, D, ntot, 1, sp, S, dOs, C, 1, dVp, C3);
      let r0 = s0;
      for (const n of resp) {
        const ss = probs.subarray(po, po + n * n);
        po += n * n;
        const dss = scratch.subarray(so, so + n * n);
        so += n * n;
        const dOr = dout.subarray(r0 * C + q);
        gemm(false, true, n, n, D, 1, dOr, C, qkv.subarray(r0 * C3 + v), C3, 0, dss, n);
        gemm(true, false, n, D, n, 1, ss, n, dOr, C, 1, dqkv.subarray(r0 * C3 + v), C3);
        for (let i = 0; i < n; i++) {
          const a = (r0 - s0 + i) * S;
          const b = i * n;
          let dot = 0;
          for (let j = 0; j < S; j++) dot += sp[a + j] * dsp[a + j];
          for (let j = 0; j <= i; j++) dot += ss[b + j] * dss[b + j];
          for (let j = 0; j < S; j++) dsp[a + j] = sp[a + j] * (dsp[a + j] - dot);
          for (let j = 0; j < n; j++) dss[b + j] = j <= i ? ss[b + j] * (dss[b + j] - dot) : 0;
        }
        const Qr = qkv.subarray(r0 * C3 + q);
        gemm(false, false, n, D, n, alpha, dss, n, qkv.subarray(r0 * C3 + k), C3, 1, dqkv.subarray(r0 * C3 + q), C3);
        gemm(true, false, n, D, n, alpha, dss, n, Qr, C3, 1, dqkv.subarray(r0 * C3 + k), C3);
        r0 += n;
      }
      gemm(false, false, ntot, D, S, alpha, dsp, S, Kp, C3, 1, dqkv.subarray(s0 * C3 + q), C3);
      gemm(true, false, S, D, ntot, alpha, dsp, S, qkv.subarray(s0 * C3 + q), C3, 1, dKp, C3);
    }
  }
}
