/**
 * `npm run bench:kernels`: the small pieces the native engine was tuned on, each timed alone —
 * CBLAS sgemm on the model's shapes (a train batch's weight product, a decode step's, and a decode
 * step's attention scores as q k^T read in place (NT) against q kT on transposed keys (NN), as
 * decode.ts keeps them), on one thread and on the library's threads; and the attention softmax's
 * exponential (ops.ts `expNonPos`) against Math.exp. Run it with OPENBLAS_CORETYPE=PRESCOTT to see
 * OpenBLAS's generic kernels. Shapes are `small`'s (C 128, 4 heads of D 32).
 */
import { blas, blasSummary } from '../src/model/native/blas.ts';
import { expNonPos } from '../src/model/native/ops.ts';

const b = blas();
const ROW_MAJOR = 101;
const [N_, T_] = [111, 112];

/** Best microseconds per call over 7 rounds of `reps` calls, after a warm-up. */
function usPerCall(f: () => void, reps: number): number {
  for (let i = 0; i < reps; i++) f();
  let best = Infinity;
  for (let r = 0; r < 7; r++) {
    const t = performance.now();
    for (let i = 0; i < reps; i++) f();
    best = Math.min(best, ((performance.now() - t) * 1000) / reps);
  }
  return best;
}

const [C, C3, D] = [128, 384, 32];
const shapes: Array<{ what: string; M: number; N: number; K: number; transB: boolean; lda: number; ldb: number }> = [
  { what: 'train weight product (x W_fc)', M: 3784, N: 384, K: 128, transB: false, lda: 128, ldb: 384 },
  { what: 'decode weight product (x W_fc)', M: 160, N: 384, K: 128, transB: false, lda: 128, ldb: 384 },
  { what: 'decode scores, q k^T in place (NT)', M: 8, N: 317, K: D, transB: true, lda: C3, ldb: C },
  { what: 'decode scores, q kT transposed (NN)', M: 8, N: 317, K: D, transB: false, lda: C3, ldb: 573 },
  { what: 'decode output, P v (NN)', M: 8, N: D, K: 317, transB: false, lda: 317, ldb: C },
];
console.log(`\nnative: ${blasSummary()}${b.kernelNote ? `\n\n${b.kernelNote}` : ''}\n`);
console.log(`| product | M x N x K | 1 thread: us | GFLOP/s | ${b.threads} threads: us | GFLOP/s |`);
console.log('|---|---|---:|---:|---:|---:|');
for (const s of shapes) {
  const A = new Float32Array(s.M * s.lda).fill(0.01);
  const B = new Float32Array(Math.max(s.K * s.ldb, s.N * s.ldb)).fill(0.01);
  const Cm = new Float32Array(s.M * s.N);
  const call = () => b.sgemm(ROW_MAJOR, N_, s.transB ? T_ : N_, s.M, s.N, s.K, 1, A, s.lda, B, s.ldb, 0, Cm, s.N);
  const reps = Math.max(5, Math.round(2e8 / (s.M * s.N * s.K)));
  const cells: string[] = [];
  for (const th of [1, b.threads]) {
    b.setThreads?.(th);
    const us = usPerCall(call, reps);
    cells.push(us.toFixed(us < 100 ? 2 : 0), ((2 * s.M * s.N * s.K) / us / 1e3).toFixed(0));
  }
  console.log(`| ${s.what} | ${s.M} x ${s.N} x ${s.K} | ${cells.join(' | ')} |`);
}
b.setThreads?.(b.threads);

// each loop calls its function directly (as the softmax does), on the same float32 scores
const xs = Float32Array.from({ length: 1 << 16 }, (_, i) => -((i * 7919) % 65536) / 3000); // 0 .. -21.8
const out = new Float32Array(xs.length);
const nsMath =
  (usPerCall(() => {
    for (let i = 0; i < xs.length; i++) out[i] = Math.exp(xs[i]);
  }, 50) *
    1000) /
  xs.length;
const nsOurs =
  (usPerCall(() => {
    for (let i = 0; i < xs.length; i++) out[i] = expNonPos(xs[i]);
  }, 50) *
    1000) /
  xs.length;
console.log(`\nexp of a softmax score (x <= 0): Math.exp ${nsMath.toFixed(2)} ns, expNonPos ${nsOurs.toFixed(2)} ns (${(nsMath / nsOurs).toFixed(2)}x)`);
