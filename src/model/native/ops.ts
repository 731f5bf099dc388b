/**
 * The native engine's elementwise and row-wise operations, each forward beside its backward, as
 * plain loops over row-major Float32Arrays (the matrix products are blas.ts's). Shapes: R rows of
 * width C. Sums run in float64; results are stored in float32, as the jax-js policy computes them.
 */

import { gemm } from './blas.ts';

export const LN_EPS = 1e-5;

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
  for (let r = 0; r < R; r++) {
    const o = r * O;
    for (let j = 0; j < O; j++) db[j] += dy[o + j];
  }
  if (dx) gemm(false, true, R, I, O, 1, dy, O, w, O, accumulate ? 1 : 0, dx, I);
}

/**
 * Layer norm over rows: y = (x - mean) * rstd * g + b, rstd = 1 / sqrt(var + eps). Saves mean and
 * rstd per row for the backward pass.
 */
export function layerNormForward(y: Float32Array, mean: Float32Array, rstd: Float32Array, x: Float32Array, g: Float32Array, b: Float32Array, R: number, C: number): void {
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

const GELU_K = Math.sqrt(2 / Math.PI);
const GELU_C = 0.044715;

/**
 * GELU, tanh approximation (jax's default): y = x/2 (1 + tanh(u)), u = k (x + c x^3), computed as
 * x sigmoid(2u) = x / (1 + exp(-2u)) — the same function, one exp instead of a tanh (2x faster
 * in V8). n values; y may be x. When `gate` is given it receives sigmoid(2u), so the backward
 * pass needs no exp of its own.
 */
export function geluForward(y: Float32Array, x: Float32Array, n: number, gate?: Float32Array): void {
  for (let i = 0; i < n; i++) {
    const v = x[i];
    const s = 1 / (1 + Math.exp(-2 * GELU_K * (v + GELU_C * v * v * v)));
    if (gate) gate[i] = s;
    y[i] = v * s;
  }
}

/** Its backward from the kept gate s = sigmoid(2u): dy/dx = s + 2 x s (1 - s) u'(x), u' = k (1 + 3 c x^2). dx may be dy. */
export function geluBackward(dx: Float32Array, dy: Float32Array, x: Float32Array, gate: Float32Array, n: number): void {
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
 * Log-softmax of one row of V logits divided by a temperature, in float64: writes log-probs into
 * out[0..V) and returns the entropy of that distribution.
 */
export function logSoftmaxRow(out: Float64Array, z: Float32Array, off: number, V: number, invTemp: number): number {
  let max = -Infinity;
  for (let j = 0; j < V; j++) max = Math.max(max, z[off + j] * invTemp);
  let s = 0;
  for (let j = 0; j < V; j++) s += Math.exp(z[off + j] * invTemp - max);
  const logZ = max + Math.log(s);
  let ent = 0;
  for (let j = 0; j < V; j++) {
    const lp = z[off + j] * invTemp - logZ;
    out[j] = lp;
    ent -= Math.exp(lp) * lp;
  }
  return ent;
}
