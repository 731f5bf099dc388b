/**
 * `npm run bench:kernels`: the small pieces the native engine was tuned on, each timed alone —
 * CBLAS sgemm on the model's shapes (a train batch's weight product, a decode step's, and the
 * attention's per-head products of a train micro-batch), on one thread and on the library's
 * threads, and a decode step's weight product after other work, when OpenBLAS's threads have gone
 * to sleep (blas.ts `PARALLEL_MACS`); the softmaxes' exponential (exp.ts `expNonPos`)
 * against Math.exp; the WebAssembly SIMD kernels (simd/) against the JavaScript loops they
 * replace, on a train batch's shapes, and a decode step's attention (decode.ts); and one layer's
 * attention on this thread against split with the helper threads (helper-threads.ts). Run it with
 * OPENBLAS_CORETYPE=PRESCOTT to see OpenBLAS's generic kernels. Shapes are `small`'s (C 128,
 * 4 heads of D 32, MLP 384; a train micro-batch of 8 prompts of 97 prefix rows and 8 responses of 48).
 */
import { blas, blasSummary } from '../src/model/native/blas.ts';
import { geluBackwardJs, geluForwardJs, layerNormBackwardJs, layerNormForwardJs } from '../src/model/native/ops.ts';
import { expNonPos } from '../src/model/exp.ts';
import { type SimdKernels, simdKernels } from '../src/model/native/simd/simd.ts';
import { attentionArgs, cacheLayout, decodeAttention, decodeAttentionJs, writeRows } from '../src/model/native/decode.ts';
import { type AttnSpec, attentionBackward, attentionForward, probsLayout, softmaxBlockJs } from '../src/model/native/attention.ts';
import { HelperThreads } from '../src/model/native/helper-threads.ts';

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

const fill = (a: Float32Array, k: number) => {
  for (let i = 0; i < a.length; i++) a[i] = Math.sin(i * k);
  return a;
};

const [C, C3, D] = [128, 384, 32];
/** A sample call's decode as bench:model's: 20 prompts x 8 rollouts, prefix 61, 64 new tokens, `small`'s 4 heads. */
const DEC = { G: 20, R: 8, H: 4, Tmax: 64, S: 61 };

const shapes: Array<{ what: string; M: number; N: number; K: number; transB: boolean; lda: number; ldb: number }> = [
  { what: 'train weight product (x W_fc)', M: 3784, N: 384, K: 128, transB: false, lda: 128, ldb: 384 },
  { what: 'decode weight product (x W_fc)', M: 160, N: 384, K: 128, transB: false, lda: 128, ldb: 384 },
  { what: 'attention scores, one (group, head), q k^T (NT)', M: 97, N: 97, K: D, transB: true, lda: C3, ldb: C3 },
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

// a decode step's weight product as the decode runs it: after other work (~300 us of a step's
// loops), by which time OpenBLAS's threads sleep (OPENBLAS_THREAD_TIMEOUT, blas.ts) and must be woken
if (b.threads > 1) {
  const busy = fill(new Float32Array(4096), 0.3);
  const work = () => {
    const t = performance.now();
    let s = 0;
    while (performance.now() - t < 0.3) for (let i = 0; i < busy.length; i++) s += busy[i];
    return s;
  };
  console.log(`\n| weight product after 300 us of other work | M x N x K | 1 thread: us | ${b.threads} threads: us |`);
  console.log('|---|---|---:|---:|');
  for (const M of [160, 256, 640]) {
    const [A, B, Cm] = [new Float32Array(M * C).fill(0.01), new Float32Array(C * C3).fill(0.01), new Float32Array(M * C3)];
    const cells = [1, b.threads].map((th) => {
      b.setThreads?.(th);
      let best = Infinity;
      for (let r = 0; r < 5; r++) {
        let sum = 0;
        for (let i = 0; i < 100; i++) {
          work();
          const t = performance.now();
          b.sgemm(ROW_MAJOR, N_, N_, M, C3, C, 1, A, C, B, C3, 0, Cm, C3);
          sum += performance.now() - t;
        }
        best = Math.min(best, (sum / 100) * 1000);
      }
      return best.toFixed(0);
    });
    console.log(`| ${M === 160 ? 'decode step (160 rows)' : `${M} rows`} | ${M} x ${C3} x ${C} | ${cells.join(' | ')} |`);
  }
  b.setThreads?.(b.threads);
}

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

// ------------------------------------------------------------------ SIMD kernels against their loops
const simd = simdKernels();
const rows = 8 * (97 + 8 * 48);
const M = 384;
if (!simd) console.log('\nno WebAssembly SIMD kernels here (PGPO_SIMD=0, or none in this runtime)');
else {
  const f = fill(new Float32Array(rows * M), 0.37);
  const [y, gate] = [new Float32Array(rows * M), new Float32Array(rows * M)];
  const x = fill(new Float32Array(rows * C), 0.11);
  const [g, bb] = [fill(new Float32Array(C), 0.5), fill(new Float32Array(C), 0.3)];
  const [ln, mean, rstd] = [new Float32Array(rows * C), new Float32Array(rows), new Float32Array(rows)];
  const [dx, dg, db] = [new Float32Array(rows * C), new Float32Array(C), new Float32Array(C)];
  const S = 97;
  const resp = Array(8).fill(48) as number[];
  const blockLen = S * S + 8 * 48 * S + 8 * 48 * 48;
  const scores = fill(new Float32Array(blockLen), 0.7);
  const block = new Float32Array(blockLen);
  const pieces: Array<[string, string, () => void, () => void]> = [
    ['GELU forward (with its gate)', `${rows} x ${M}`, () => geluForwardJs(y, f, rows * M, gate), () => simd.geluForward(y, f, rows * M, gate)],
    ['GELU backward', `${rows} x ${M}`, () => geluBackwardJs(y, f, f, gate, rows * M), () => simd.geluBackward(y, f, f, gate, rows * M)],
    ['layer norm forward', `${rows} x ${C}`, () => layerNormForwardJs(ln, mean, rstd, x, g, bb, rows, C), () => simd.layerNormForward(ln, mean, rstd, x, g, bb, rows, C, 1e-5)],
    [
      'layer norm backward',
      `${rows} x ${C}`,
      () => layerNormBackwardJs(dx, dg, db, x, x, mean, rstd, g, rows, C, false),
      () => simd.layerNormBackward(dx, dg, db, x, x, mean, rstd, g, rows, C, false),
    ],
    ['attention softmax, one (group, head)', `S ${S}, 8 x 48`, () => (block.set(scores), softmaxBlockJs(block, S, true, resp)), () => (block.set(scores), simd.attentionSoftmax(block, S, true, resp))],
    decodeAttentionPiece(simd),
  ];
  console.log('\n| loop | shape | JavaScript: us | SIMD: us | speed-up |');
  console.log('|---|---|---:|---:|---:|');
  for (const [what, shape, js, wasm] of pieces) {
    const [a, w] = [usPerCall(js, 10), usPerCall(wasm, 10)];
    console.log(`| ${what} | ${shape} | ${a.toFixed(0)} | ${w.toFixed(0)} | ${(a / w).toFixed(1)}x |`);
  }
}

/**
 * One layer's attention in a decode step at column 32 of 64, for the 160 rows of 20 prompts x 8
 * rollouts (prefix 61): the SIMD kernel in its memory against the JavaScript loops on a copy.
 */
function decodeAttentionPiece(simd: SimdKernels): [string, string, () => void, () => void] {
  const t = 32;
  const { c, A, kernel, heap } = decodeFixture(simd, 1, 1, false);
  const args = attentionArgs(c, DEC.H, D, 0, t, 0, A, 0);
  const copy = Float32Array.from(heap);
  return ['decode attention, one layer (decode.ts)', `${A} rows, prefix ${DEC.S}, column ${t}`, () => decodeAttentionJs(copy, args), () => kernel.attend(args)];
}

/** A decode kernel whose cache (layers deep, scratch for `threads`) holds made-up keys, values and projections, every row open. */
function decodeFixture(simd: SimdKernels, layers: number, threads: number, shared: boolean) {
  const { G, R, H, Tmax, S } = DEC;
  const A = G * R;
  const c = cacheLayout(Array<number>(G).fill(S), R, Tmax, H, D, 3 * C, layers, threads);
  const kernel = simd.decodeKernel(shared);
  const heap = kernel.floats(c.total);
  fill(heap.subarray(0, c.oRows), 0.019);
  writeRows(
    heap,
    c,
    Array.from({ length: A }, (_, i) => i),
    C,
  );
  return { c, A, kernel, heap };
}

// ------------------------------------------------------------------ JavaScript loops over shared memory
// why the arena shares only the buffers helper threads touch (model.ts `Arena.shared`)
{
  const n = 1 << 20;
  const ns = (shared: boolean) => {
    const mk = () => new Float32Array(shared ? new SharedArrayBuffer(4 * n) : new ArrayBuffer(4 * n));
    const [a, b] = [mk(), fill(mk(), 0.5)];
    return (
      (usPerCall(() => {
        for (let i = 0; i < n; i++) a[i] += b[i];
      }, 5) *
        1000) /
      n
    );
  };
  const [plain, shared] = [ns(false), ns(true)];
  console.log(`\na[i] += b[i] over Float32Arrays: ArrayBuffer ${plain.toFixed(2)} ns, SharedArrayBuffer ${shared.toFixed(2)} ns a value (${(shared / plain).toFixed(1)}x)`);
}

// ------------------------------------------------------------------ one layer's attention, on helper threads
if (b.threads > 1) {
  const spec: AttnSpec = { groups: Array.from({ length: 8 }, (_, i) => ({ p0: i * (97 + 8 * 48), S: 97, resp: Array(8).fill(48) as number[] })), causal: true, H: 4, D };
  const shared = (n: number) => fill(new Float32Array(new SharedArrayBuffer(4 * n)), 0.013);
  const { total, block } = probsLayout(spec);
  const [qkv, out, probs, dout, dqkv] = [shared(rows * C3), shared(rows * C), shared(total), shared(rows * C), shared(rows * C3)];
  const scratch = [shared(block), shared(block)];
  const helpers = new HelperThreads(b.threads - 1);
  if (!(await helpers.whenReady())) console.log('\nthe helper threads did not start');
  else {
    console.log(`\n| attention (one layer's on a train micro-batch of ${rows} rows; a sample call's decode) | this thread: ms | with ${b.threads - 1} helper thread(s): ms | speed-up |`);
    console.log('|---|---:|---:|---:|');
    for (const [what, run] of [
      ['forward', (h: HelperThreads | null) => attentionForward(out, probs, qkv, spec, h)],
      ['backward', (h: HelperThreads | null) => attentionBackward(dqkv, dout, probs, qkv, spec, rows, scratch, h)],
    ] as const) {
      const [one, two] = [usPerCall(() => run(null), 5) / 1000, usPerCall(() => run(helpers), 5) / 1000];
      console.log(`| ${what} | ${one.toFixed(1)} | ${two.toFixed(1)} | ${(one / two).toFixed(2)}x |`);
    }
    if (simd) {
      // a sample call's decode attention (64 steps x 4 layers, 160 rows) on the shared-memory
      // kernel, on this thread alone and with its rows split with a helper (decode.ts)
      const L = 4;
      const { c, A, kernel, heap } = decodeFixture(simd, L, 2, true);
      const sampleCall = (h: HelperThreads | null) => {
        for (let t = 0; t < DEC.Tmax; t++) for (let l = 0; l < L; l++) decodeAttention(heap, c, kernel, h, DEC.H, D, l, t, A);
      };
      const [one, two] = [usPerCall(() => sampleCall(null), 1) / 1000, usPerCall(() => sampleCall(helpers), 1) / 1000];
      console.log(`| decode attention of a sample call (${A} rows, 64 steps x ${L} layers, decode.ts) | ${one.toFixed(1)} | ${two.toFixed(1)} | ${(one / two).toFixed(2)}x |`);
    }
  }
  helpers.dispose();
}
process.exit(0);
