/**
 * The BLAS loader's choice of OpenBLAS kernels: the rule from CPU flags, and, on this machine, that
 * OpenBLAS's generic Prescott fallback is replaced when the CPU runs better kernels, unless the
 * user set OPENBLAS_CORETYPE (checked in fresh processes: OpenBLAS reads it once, at load).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { cpuFlags, exactRowSplit, exactShareRows, gemm, kernelFor, kernelRank } from '../../src/model/native/blas.ts';

const AVX512 = ['avx512f', 'avx512cd', 'avx512bw', 'avx512dq', 'avx512vl'];

test('kernelFor: AVX-512 (all five subsets) -> SKYLAKEX, AVX2 + FMA -> HASWELL, less -> none', () => {
  assert.equal(kernelFor(new Set(['sse3', 'avx2', 'fma', ...AVX512]))?.name, 'SKYLAKEX');
  assert.equal(kernelFor(new Set(['sse3', 'avx2', 'fma', 'avx512f']))?.name, 'HASWELL'); // avx512f alone is not enough
  assert.equal(kernelFor(new Set(['sse3', 'avx2']))?.name, undefined); // AVX2 without FMA
  assert.equal(kernelFor(new Set(['sse3', 'ssse3'])), null);
});

test('kernelRank: Prescott below Haswell and Zen, below SkylakeX and its successors; another library is left alone', () => {
  assert.ok(kernelRank('Prescott') < kernelRank('Haswell'));
  assert.equal(kernelRank('Zen'), kernelRank('HASWELL'));
  assert.ok(kernelRank('Zen') < kernelRank('SkylakeX'));
  assert.equal(kernelRank('Cooperlake'), kernelRank('SKYLAKEX'));
  assert.equal(kernelRank(null), Infinity);
});

/** What a fresh process loads: its kernels, and the note when pgpo chose them. */
function probe(env: Record<string, string | undefined>): { kernel: string | null; note: string | null } {
  const blas = join(import.meta.dirname, '..', '..', 'src', 'model', 'native', 'blas.ts');
  const code = `const b = (await import(${JSON.stringify(blas)})).tryBlas(); console.log(JSON.stringify({ kernel: b?.kernel ?? null, note: b?.kernelNote ?? null }));`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { env: { ...process.env, ...env }, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout.trim());
}

test('on this machine: never the Prescott fallback where the CPU runs better kernels; OPENBLAS_CORETYPE still decides', (t) => {
  const auto = probe({ OPENBLAS_CORETYPE: undefined });
  if (auto.kernel === null) return t.skip('the CBLAS library here is not OpenBLAS');
  if (kernelFor(cpuFlags())) assert.notEqual(auto.kernel, 'Prescott', JSON.stringify(auto));
  if (auto.note) assert.match(auto.note, /OPENBLAS_CORETYPE=PRESCOTT/);
  const kept = probe({ OPENBLAS_CORETYPE: 'PRESCOTT' });
  assert.equal(kept.kernel, 'Prescott');
  // obeyed, and where the CPU runs better kernels the note says so
  if (kernelFor(cpuFlags())) assert.match(kept.note ?? '', /OPENBLAS_CORETYPE=PRESCOTT is set in the environment and chose Prescott kernels/);
  else assert.equal(kept.note, null);
});

test('exactRowSplit: cutting a product at any multiple of the cut it finds gives the bits of one call (decode-sized products with bias, as a decode step runs them)', (t) => {
  const g = exactRowSplit();
  if (g === null) return t.skip('no row cut is exact with this BLAS (decode steps then run on one thread)');
  let seed = 12345;
  const random = (n: number) =>
    Float32Array.from({ length: n }, () => {
      seed = (Math.imul(seed, 69069) + 1) >>> 0;
      return seed / 2 ** 32 - 0.5;
    });
  for (const [rows, K, N] of [
    [160, 128, 384],
    [100, 384, 128],
    [57, 32, 96],
  ]) {
    const [a, b, bias] = [random(rows * K), random(K * N), random(rows * N)];
    const whole = bias.slice();
    gemm(false, false, rows, N, K, 1, a, K, b, N, 1, whole, N);
    for (let r: number = g; r < rows; r += g) {
      const cut = bias.slice();
      gemm(false, false, r, N, K, 1, a, K, b, N, 1, cut, N);
      gemm(false, false, rows - r, N, K, 1, a.subarray(r * K), K, b, N, 1, cut.subarray(r * N), N);
      assert.deepEqual(new Int32Array(cut.buffer), new Int32Array(whole.buffer), `${rows} x ${K} x ${N} cut at row ${r}`);
    }
  }
});

test("exactShareRows: a cut at a multiple of exactRowSplit into shares of at least that many rows gives one call's bits, for other values at other offsets (N = 162 is a head's width: shares under 10^6 multiply-adds may run on other kernels)", (t) => {
  const g = exactRowSplit();
  if (g === null) return t.skip('no row cut is exact with this BLAS');
  let seed = 424242;
  const random = (n: number, offset: number) => {
    const a = new Float32Array(n + offset);
    for (let i = 0; i < a.length; i++) {
      seed = (Math.imul(seed, 69069) + 1) >>> 0;
      a[i] = seed / 2 ** 32 - 0.5;
    }
    return a.subarray(offset);
  };
  let [cuts, kept] = [0, 0];
  for (const [K, N] of [
    [128, 162],
    [128, 384],
    [384, 128],
    [32, 96],
  ]) {
    const floor = exactShareRows(K, N, 160);
    t.diagnostic(`${K} x ${N}: shares of at least ${floor} rows`);
    for (const M of [160, 131, 96, 57]) {
      const [a, w, bias] = [random(M * K, 3), random(K * N, 5), random(M * N, 0)];
      const whole = bias.slice();
      gemm(false, false, M, N, K, 1, a, K, w, N, 1, whole, N);
      for (let r: number = g; r < M; r += g) {
        if (r < floor || M - r < floor) continue;
        const cut = bias.slice();
        gemm(false, false, r, N, K, 1, a, K, w, N, 1, cut, N);
        gemm(false, false, M - r, N, K, 1, a.subarray(r * K), K, w, N, 1, cut.subarray(r * N), N);
        assert.deepEqual(new Int32Array(cut.buffer), new Int32Array(whole.buffer), `${M} x ${K} x ${N} cut at ${r}`);
        cuts++;
      }
    }
    if (floor <= 80) kept++;
  }
  assert.ok(kept >= 3, 'the decode shapes (N a multiple of 16) can hardly be cut at all');
  t.diagnostic(`${cuts} cuts checked`);
});
