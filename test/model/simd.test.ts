/**
 * The WebAssembly SIMD kernels against the JavaScript loops they replace (the reference, in
 * float64): the same values to float32 rounding, exact zeros where attention masks, on sizes that
 * are not multiples of the vector width. And the committed kernels.wasm (and its shared-memory
 * build) is kernels.wat compiled.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Rng } from '../../src/engine/rng.ts';
import { simdKernels } from '../../src/model/native/simd/simd.ts';
import { compileKernels } from '../../src/model/native/simd/compile.ts';
import {
  LN_EPS,
  addInto,
  addLayerNormForward,
  geluBackwardJs,
  geluForward,
  geluForwardJs,
  layerNormBackward,
  layerNormBackwardJs,
  layerNormForward,
  layerNormForwardJs,
} from '../../src/model/native/ops.ts';
import { softmaxBlockBackwardJs, softmaxBlockJs } from '../../src/model/native/attention.ts';
import { attentionArgs, cacheLayout, decodeAttentionJs, writeRows } from '../../src/model/native/decode.ts';

const simd = simdKernels();
const rng = Rng.seeded('simd.test');
const randn = (n: number, s = 1) => Float32Array.from({ length: n }, () => rng.normal() * s);

/** Largest |a - b| over the largest |b|: float32 rounding of the values is ~1e-7. */
function assertClose(a: Float32Array, b: Float32Array, tol: number, what: string): void {
  assert.equal(a.length, b.length, what);
  let err = 0;
  let scale = 1e-30;
  for (let i = 0; i < a.length; i++) {
    assert.ok(Number.isFinite(a[i]), `${what}[${i}] = ${a[i]}`);
    err = Math.max(err, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  assert.ok(err / scale <= tol, `${what}: relative error ${(err / scale).toExponential(2)} > ${tol}`);
}

test('kernels.wasm and kernels.shared.wasm are kernels.wat compiled (npm run build:wasm after editing the .wat)', async () => {
  const dir = new URL('../../src/model/native/simd/', import.meta.url);
  const built = await compileKernels(readFileSync(new URL('kernels.wat', dir), 'utf8'));
  assert.deepEqual(new Uint8Array(readFileSync(new URL('kernels.wasm', dir))), built.own);
  assert.deepEqual(new Uint8Array(readFileSync(new URL('kernels.shared.wasm', dir))), built.shared);
});

test('this runtime runs the SIMD kernels (Node 20 has WebAssembly SIMD)', () => {
  assert.ok(simd, 'simdKernels() returned null: PGPO_SIMD=0 set, or no WebAssembly SIMD');
});

test('GELU forward (with its gate) and backward: SIMD against the loops, n not a multiple of 4 or of a chunk', () => {
  for (const n of [1, 7, 8195]) {
    const x = randn(n, 3);
    x[0] = 9; // beyond tanh's clamp
    const [y0, g0, y1, g1] = [0, 0, 0, 0].map(() => new Float32Array(n));
    geluForwardJs(y0, x, n, g0);
    simd!.geluForward(y1, x, n, g1);
    assertClose(y1, y0, 1e-6, `gelu(${n})`);
    assertClose(g1, g0, 1e-6, `gate(${n})`);
    const dy = randn(n);
    const [d0, d1] = [new Float32Array(n), new Float32Array(n)];
    geluBackwardJs(d0, dy, x, g0, n);
    simd!.geluBackward(d1, dy, x, g0, n);
    assertClose(d1, d0, 1e-6, `gelu'(${n})`);
    simd!.geluForward(x, x, n); // in place
    assertClose(x, y0, 1e-6, `gelu in place (${n})`);
  }
});

test('layer norm forward and backward (dx set or accumulated, dg/db accumulated): SIMD against the loops', () => {
  for (const [R, C] of [
    [3, 4],
    [70, 128], // more rows than one chunk
    [5, 12],
  ]) {
    const x = randn(R * C, 2);
    const g = randn(C);
    const b = randn(C);
    const [y0, y1] = [new Float32Array(R * C), new Float32Array(R * C)];
    const [m0, m1, r0, r1] = [R, R, R, R].map((n) => new Float32Array(n));
    layerNormForwardJs(y0, m0, r0, x, g, b, R, C);
    layerNormForward(y1, m1, r1, x, g, b, R, C);
    assertClose(y1, y0, 1e-6, `ln y ${R}x${C}`);
    assertClose(r1, r0, 1e-6, `ln rstd ${R}x${C}`);
    for (const acc of [false, true]) {
      const dy = randn(R * C);
      const dx0 = randn(R * C);
      const dx1 = Float32Array.from(dx0);
      const [dg0, db0] = [randn(C), randn(C)];
      const [dg1, db1] = [Float32Array.from(dg0), Float32Array.from(db0)];
      layerNormBackwardJs(dx0, dg0, db0, dy, x, m0, r0, g, R, C, acc);
      layerNormBackward(dx1, dg1, db1, dy, x, m0, r0, g, R, C, acc);
      assertClose(dx1, dx0, 1e-5, `ln dx ${R}x${C} acc=${acc}`);
      assertClose(dg1, dg0, 1e-5, `ln dg ${R}x${C}`);
      assertClose(db1, db0, 1e-5, `ln db ${R}x${C}`);
    }
  }
});

test('a residual add fused into the layer norm after it: the bits of addInto then layerNormForward, x written back', () => {
  for (const [R, C] of [
    [70, 128], // more rows than one chunk
    [5, 12],
    [3, 6], // C not a multiple of 4: the loops
  ]) {
    const [x, add, g, b] = [randn(R * C, 2), randn(R * C), randn(C), randn(C)];
    const [x0, x1] = [Float32Array.from(x), Float32Array.from(x)];
    const [y0, y1] = [new Float32Array(R * C), new Float32Array(R * C)];
    const [m0, m1, r0, r1] = [R, R, R, R].map((n) => new Float32Array(n));
    addInto(x0, add, R * C);
    layerNormForward(y0, m0, r0, x0, g, b, R, C);
    addLayerNormForward(y1, m1, r1, x1, add, g, b, R, C);
    assert.deepEqual(x1, x0, `x ${R}x${C}`);
    assert.deepEqual(y1, y0, `y ${R}x${C}`);
    assert.deepEqual([m1, r1], [m0, r0], `mean, rstd ${R}x${C}`);
  }
});

test('C not a multiple of 4: layerNormForward runs the loops themselves', () => {
  const [R, C] = [4, 6];
  const x = randn(R * C);
  const g = randn(C);
  const b = randn(C);
  const [y0, y1, m, r] = [R * C, R * C, R, R].map((n) => new Float32Array(n));
  layerNormForwardJs(y0, m, r, x, g, b, R, C);
  layerNormForward(y1, m, r, x, g, b, R, C);
  assert.deepEqual(y1, y0);
});

test("a decode step's elementwise work in place on the cache's memory: the bits of ops.ts's layer norm, GELU and Float32Array adds", () => {
  const k = simd!.decodeKernel();
  const [R, C, M] = [7, 36, 21]; // R C not a multiple of sixteen floats, R M not one of four
  const [oX, oY, oLn, oMean, oRstd, oG, oB, oF, oGate] = [0, 256, 512, 768, 776, 784, 820, 856, 1004];
  const heap = k.floats(1152);
  const [x, y, g, b, f] = [randn(R * C), randn(R * C), randn(C), randn(C), randn(R * M, 2)];
  heap.set(x, oX);
  heap.set(y, oY);
  heap.set(g, oG);
  heap.set(b, oB);
  heap.set(f, oF);
  heap.fill(7, oF + R * M, oGate); // past the GELU's n, up to a multiple of 4: scratch
  k.add(oX, oY, R * C);
  const sum = Float32Array.from(x, (v, i) => v + y[i]);
  assert.deepEqual(heap.subarray(oX, oX + R * C), sum);
  assert.deepEqual(heap.subarray(oY, oY + R * C), y, 'add reads b only');
  k.layerNorm(oLn, oMean, oRstd, oX, oG, oB, R, C, LN_EPS);
  const [ln, mean, rstd] = [new Float32Array(R * C), new Float32Array(R), new Float32Array(R)];
  layerNormForward(ln, mean, rstd, sum, g, b, R, C);
  assert.deepEqual(heap.subarray(oLn, oLn + R * C), ln);
  assert.deepEqual(heap.subarray(oMean, oMean + R), mean);
  k.gelu(oF, oGate, R * M);
  const gelu = new Float32Array(R * M);
  geluForward(gelu, f, R * M);
  assert.deepEqual(heap.subarray(oF, oF + R * M), gelu);
});

test('attention softmax block (prefix rows, then responses: one softmax over prefix and own past) and its backward', () => {
  for (const [S, causal, resp] of [
    [7, true, [3, 5, 1]],
    [61, true, [48, 47]],
    [9, false, []],
  ] as const) {
    const ntot = resp.reduce((a, n) => a + n, 0);
    const len = S * S + ntot * S + resp.reduce((a, n) => a + n * n, 0);
    const scores = randn(len, 3);
    const [p0, p1] = [Float32Array.from(scores), Float32Array.from(scores)];
    softmaxBlockJs(p0, S, causal, resp);
    simd!.attentionSoftmax(p1, S, causal, resp);
    assertClose(p1, p0, 1e-6, `softmax S=${S} resp=${resp}`);
    for (let i = 0; i < len; i++) if (p0[i] === 0) assert.equal(p1[i], 0, `masked entry ${i} must be exactly 0`);
    const dP = randn(len);
    const [d0, d1] = [Float32Array.from(dP), Float32Array.from(dP)];
    softmaxBlockBackwardJs(p0, d0, S, resp);
    simd!.attentionSoftmaxBackward(p0, d1, S, resp);
    assertClose(d1, d0, 1e-5, `softmax backward S=${S} resp=${resp}`);
  }
});

test("decode attention: the kernel writes the step's keys and values where the JavaScript loops do, and gives their output", () => {
  // groups with prefixes of odd lengths, R responses each; some rows finished (absent); steps at
  // the start of, inside, at the end of and past a tile of sixteen columns
  for (const [H, D, S, R, Tmax, t] of [
    [2, 16, [5, 13], 3, 8, 0],
    [4, 32, [61, 7, 30], 2, 24, 6],
    [4, 32, [61, 7, 30], 2, 24, 15],
    [4, 32, [61, 7, 30], 2, 24, 17],
    [1, 48, [9], 4, 40, 33],
    [2, 16, [3, 20], 3, 32, 31], // the last column of the last tile
  ] as const) {
    const C = H * D;
    const c = cacheLayout(S, R, Tmax, H, D, 4 * H * D, 1, 2);
    const slots = Array.from({ length: S.length * R }, (_, i) => i).filter((i) => i % 3 !== 1); // g * R + r
    const A = slots.length;
    const kernel = simd!.decodeKernel();
    const heap = kernel.floats(c.total);
    heap.set(randn(c.oRows, 0.7));
    writeRows(heap, c, slots, C);
    const ref = Float32Array.from(heap.subarray(0, c.total));
    const split = Float32Array.from(heap.subarray(0, c.total));
    // rows a0..a1 on thread p's scratch, as decode.ts splits them over helper threads
    const args = (a0: number, a1: number, p: number) => attentionArgs(c, H, D, 0, t, a0, a1, p);
    kernel.attend(args(0, A, 0));
    decodeAttentionJs(ref, args(0, A, 0));
    const F2 = 2 * c.layerFloats;
    assert.deepEqual(heap.subarray(0, F2), ref.subarray(0, F2), 'the cache after the step');
    assertClose(heap.subarray(c.oAtt, c.oAtt + A * C), ref.subarray(c.oAtt, c.oAtt + A * C), 1e-5, `attention H=${H} D=${D} t=${t}`);
    // the same rows in two shares (the second on the second scratch): the same bits
    const whole = Float32Array.from(heap.subarray(0, c.oRows));
    heap.set(split);
    const k = Math.floor(A / 2);
    kernel.attend(args(k, A, 1));
    kernel.attend(args(0, k, 0));
    assert.deepEqual(heap.subarray(0, c.oRows), whole, 'split in two shares');
  }
});
