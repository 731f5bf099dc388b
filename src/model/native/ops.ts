/**
 * The native engine's elementwise and row-wise operations, each forward beside its backward, as
 * plain loops over row-major Float32Arrays (the matrix products are blas.ts's). Shapes: R rows of
 * width C. Sums run in float64; results are stored in float32, as the jax-js policy computes them.
 * GELU and layer norm dispatch to the WebAssembly SIMD kernels (simd/, float32 throughout) and
 * keep their loops here, as `...Js`, for the reference and the fallback.
 */

import { gemm } from './blas.ts';
import { simdKernels } from './simd/simd.ts';
import { expNonPos } from '../exp.ts';
import type { HelperThreads } from './helper-threads.ts';

export const LN_EPS = 1e-5;

/** A constant row of ones: column sums as one sgemm per ONES.length rows. */
const ONES = new Float32Array(8192).fill(1);

/**
 * Linear layer: y[R, O] = x[R, I] @ w[I, O] + b.
 */
export function linearForward(y: Float32Array, x: Float32Array, w: Float32Array, b: Float32Array, R: number, I: number, O: number): void {
  for (let r = 0; r < R; r++) y.set(b, r * O);
  gemm(false, false, R, O, I, 1, x, I, w, O, 1, y, O);
}

/**
 * Its backward: dw += x^T dy, db += colsum(dy), and dx = dy w^T (dx += when accumulate).
 * dx may be null when the input needs no gradient (patches, the frozen prefix).
 */
export function linearBackward(
  dx: Float32Array | null,
  dw: Float32Array,
  db: Float32Array,
  dy: Float32Array,
  x: Float32Array,
  w: Float32Array,
  R: number,
  I: number,
  O: number,
  accumulate = false,
): void {
  gemm(true, false, I, O, R, 1, x, I, dy, O, 1, dw, O);
  for (let r0 = 0; r0 < R; r0 += ONES.length) {
    const n = Math.min(ONES.length, R - r0);
    gemm(false, false, 1, O, n, 1, ONES, n, dy.subarray(r0 * O), O, 1, db, O); // db += 1^T dy: column sums
  }
  if (dx) gemm(false, true, R, I, O, 1, dy, O, w, O, accumulate ? 1 : 0, dx, I);
}

/**
 * Layer norm over rows: y = (x - mean) * rstd * g + b, rstd = 1 / sqrt(var + eps). Saves mean and
 * rstd per row for the backward pass.
 */
export function layerNormForward(y: Float32Array, mean: Float32Array, rstd: Float32Array, x: Float32Array, g: Float32Array, b: Float32Array, R: number, C: number): void {
  const simd = C % 4 === 0 ? simdKernels() : null;
  if (simd) return simd.layerNormForward(y, mean, rstd, x, g, b, R, C, LN_EPS);
  layerNormForwardJs(y, mean, rstd, x, g, b, R, C);
}

/** x += add, then layerNormForward of x: a residual add and the norm after it, in one pass with the SIMD kernels (the same bits as addInto then layerNormForward). */
export function addLayerNormForward(y: Float32Array, mean: Float32Array, rstd: Float32Array, x: Float32Array, add: Float32Array, g: Float32Array, b: Float32Array, R: number, C: number): void {
  const simd = C % 4 === 0 ? simdKernels() : null;
  if (simd) return simd.layerNormForward(y, mean, rstd, x, g, b, R, C, LN_EPS, add);
  addInto(x, add, R * C);
  layerNormForwardJs(y, mean, rstd, x, g, b, R, C);
}

/** layerNormForward's JavaScript loop, in float64: the reference for the SIMD kernel, and the fallback. */
export function layerNormForwardJs(y: Float32Array, mean: Float32Array, rstd: Float32Array, x: Float32Array, g: Float32Array, b: Float32Array, R: number, C: number): void {
  for (let r = 0; r < R; r++) {
    const o = r * C;
    let s = 0;
    for (let j = 0; j < C; j++) s += x[o + j];
    const m = Math.fround(s / C);
    let v = 0;
    for (let j = 0; j < C; j++) {
      const d = x[o + j] - m;
      v += d * d;
    }
    const rs = 1 / Math.sqrt(v / C + LN_EPS);
    mean[r] = m;
    rstd[r] = rs;
    for (let j = 0; j < C; j++) y[o + j] = (x[o + j] - m) * rs * g[j] + b[j];
  }
}

/**
 * Its backward: dx (+)= rstd * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat)) with
 * dxhat = dy * g; dg += sum dy * xhat; db += sum dy.
 */
export function layerNormBackward(
  dx: Float32Array,
  dg: Float32Array,
  db: Float32Array,
  dy: Float32Array,
  x: Float32Array,
  mean: Float32Array,
  rstd: Float32Array,
  g: Float32Array,
  R: number,
  C: number,
  accumulate: boolean,
): void {
  const simd = C % 4 === 0 ? simdKernels() : null;
  if (simd) return simd.layerNormBackward(dx, dg, db, dy, x, mean, rstd, g, R, C, accumulate);
  layerNormBackwardJs(dx, dg, db, dy, x, mean, rstd, g, R, C, accumulate);
}

/** layerNormBackward's JavaScript loop (reference and fallback). */
export function layerNormBackwardJs(
  dx: Float32Array,
  dg: Float32Array,
  db: Float32Array,
  dy: Float32Array,
  x: Float32Array,
  mean: Float32Array,
  rstd: Float32Array,
  g: Float32Array,
  R: number,
  C: number,
  accumulate: boolean,
): void {
  for (let r = 0; r < R; r++) {
    const o = r * C;
    const m = mean[r];
    const rs = rstd[r];
    let sumD = 0;
    let sumDX = 0;
    for (let j = 0; j < C; j++) {
      const xhat = (x[o + j] - m) * rs;
      const d = dy[o + j] * g[j];
      sumD += d;
      sumDX += d * xhat;
      dg[j] += dy[o + j] * xhat;
      db[j] += dy[o + j];
    }
    const mD = sumD / C;
    const mDX = sumDX / C;
    for (let j = 0; j < C; j++) {
      const xhat = (x[o + j] - m) * rs;
      const v = rs * (dy[o + j] * g[j] - mD - xhat * mDX);
      dx[o + j] = accumulate ? dx[o + j] + v : v;
    }
  }
}

// tanh as an odd rational function of degree 13/6 on [-7.9053, 7.9053] (beyond it tanh rounds
// to +-1 in float32): the approximation Eigen uses for float tanh. |error| < 3e-7 against
// Math.tanh (largest near the clamp, where tanh is 1 - 3e-7), and 3-4x faster than Math.tanh or an exp in V8 — GELU was the largest JavaScript
// cost of a forward pass.
const TANH_CLAMP = 7.90531110763549805;
const [A1, A3, A5, A7, A9, A11, A13] = [4.89352455891786e-3, 6.37261928875436e-4, 1.48572235717979e-5, 5.12229709037114e-8, -8.60467152213735e-11, 2.00018790482477e-13, -2.76076847742355e-16];
const [B0, B2, B4, B6] = [4.89352518554385e-3, 2.268434632439e-3, 1.18534705686654e-4, 1.19825839466702e-6];

export function fastTanh(v: number): number {
  const x = v > TANH_CLAMP ? TANH_CLAMP : v < -TANH_CLAMP ? -TANH_CLAMP : v;
  const x2 = x * x;
  const p = x * (A1 + x2 * (A3 + x2 * (A5 + x2 * (A7 + x2 * (A9 + x2 * (A11 + x2 * A13))))));
  return p / (B0 + x2 * (B2 + x2 * (B4 + x2 * B6)));
}

const GELU_K = Math.sqrt(2 / Math.PI);
const GELU_C = 0.044715;

/**
 * GELU, tanh approximation (jax's default): y = x/2 (1 + tanh(u)), u = k (x + c x^3). n values;
 * y may be x. When `gate` is given it receives (1 + tanh(u)) / 2, so the backward pass needs no
 * tanh of its own.
 */
export function geluForward(y: Float32Array, x: Float32Array, n: number, gate?: Float32Array): void {
  const simd = simdKernels();
  if (simd) return simd.geluForward(y, x, n, gate);
  geluForwardJs(y, x, n, gate);
}

/**
 * geluForward over n values split between this thread and the helper threads, in contiguous
 * shares of whole chunks (helper-tasks.ts runs a helper's share): y, x and gate must then be
 * shared buffers (the arena's `shared()`). Elementwise, so the same bits as on one thread; below
 * GELU_SPLIT values (a small micro-batch) all on this thread.
 */
export function geluForwardSplit(y: Float32Array, x: Float32Array, n: number, gate: Float32Array | undefined, helpers: HelperThreads | null): void {
  if (!helpers || n < GELU_SPLIT) return geluForward(y, x, n, gate);
  const chunks = Math.ceil(n / GELU_CHUNK);
  const range = (c0: number, c1: number) => [Math.min(n, c0 * GELU_CHUNK), Math.min(n, c1 * GELU_CHUNK)] as const;
  helpers.runShares(new Array<number>(chunks).fill(1), (c0, c1) => {
    const [i0, i1] = range(c0, c1);
    return {
      message: { op: 'gelu', y, x, gate: gate ?? null, i0, i1 },
      here: () => geluRange(y, x, gate ?? null, i0, i1),
    };
  });
}

/** geluForward over values [i0, i1) (a share of geluForwardSplit). */
export function geluRange(y: Float32Array, x: Float32Array, gate: Float32Array | null, i0: number, i1: number): void {
  geluForward(y.subarray(i0, i1), x.subarray(i0, i1), i1 - i0, gate?.subarray(i0, i1));
}

/** Shares of geluForwardSplit are whole chunks of this many values; fewer than GELU_SPLIT values run on one thread. */
const GELU_CHUNK = 16384;
const GELU_SPLIT = 4 * GELU_CHUNK;

/** geluForward's JavaScript loop (reference and fallback). */
export function geluForwardJs(y: Float32Array, x: Float32Array, n: number, gate?: Float32Array): void {
  for (let i = 0; i < n; i++) {
    const v = x[i];
    const s = 0.5 * (1 + fastTanh(GELU_K * (v + GELU_C * v * v * v)));
    if (gate) gate[i] = s;
    y[i] = v * s;
  }
}

/** Its backward from the kept gate s = (1 + tanh u) / 2: dy/dx = s + 2 x s (1 - s) u'(x), u' = k (1 + 3 c x^2). dx may be dy. */
export function geluBackward(dx: Float32Array, dy: Float32Array, x: Float32Array, gate: Float32Array, n: number): void {
  const simd = simdKernels();
  if (simd) return simd.geluBackward(dx, dy, x, gate, n);
  geluBackwardJs(dx, dy, x, gate, n);
}

/** geluBackward's JavaScript loop (reference and fallback). */
export function geluBackwardJs(dx: Float32Array, dy: Float32Array, x: Float32Array, gate: Float32Array, n: number): void {
  for (let i = 0; i < n; i++) {
    const v = x[i];
    const s = gate[i];
    dx[i] = dy[i] * (s + 2 * v * s * (1 - s) * GELU_K * (1 + 3 * GELU_C * v * v));
  }
}

/** a += b over n values. */
export function addInto(a: Float32Array, b: Float32Array, n: number): void {
  for (let i = 0; i < n; i++) a[i] += b[i];
}

/**
 * log sum_j exp(z_j / T) over one row of V logits (invTemp = 1 / T), in float64: logSoftmaxRow's
 * normaliser, alone when only the chosen token's log-prob is wanted (z_y / T minus it, the same
 * bits). The exponentials have arguments <= 0 (expNonPos: relative error < 3e-11, far below the
 * float32 logits').
 */
export function logSumExpRow(z: Float32Array, off: number, V: number, invTemp: number): number {
  let max = -Infinity;
  for (let j = 0; j < V; j++) max = Math.max(max, z[off + j] * invTemp);
  let s = 0;
  for (let j = 0; j < V; j++) s += expNonPos(z[off + j] * invTemp - max);
  return max + Math.log(s);
}

/**
 * Log-softmax of one row of V logits divided by a temperature, in float64: writes log-probs into
 * out[0..V) and returns the entropy of that distribution.
 */
export function logSoftmaxRow(out: Float64Array, z: Float32Array, off: number, V: number, invTemp: number): number {
  const logZ = logSumExpRow(z, off, V, invTemp);
  let ent = 0;
  for (let j = 0; j < V; j++) {
    const lp = z[off + j] * invTemp - logZ;
    out[j] = lp;
    ent -= expNonPos(lp) * lp;
  }
  return ent;
}
