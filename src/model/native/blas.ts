/**
 * The one foreign call of the native engine: CBLAS `sgemm`, loaded through the `koffi` FFI from
 * the first library of a list of known names (Debian's OpenBLAS first; PGPO_BLAS names another,
 * e.g. macOS Accelerate, which exports the same `cblas_sgemm`). Every matrix product of the
 * native policy goes through `gemm` below, row-major, on Float32Array views (offsets are
 * subarrays, so a head's columns of a [rows, 3C] matrix are read in place with lda = 3C).
 *
 * Threads: PGPO_THREADS, else the machine's cores (OpenBLAS's own default). A product's result
 * does not depend on the run, so the same seed gives the same numbers run after run on the same
 * machine, library, kernels, thread count and config (another CPU's kernels, or other micro-batch
 * shapes, may round differently in the last bit).
 *
 * Kernels: OpenBLAS picks them from a table of the CPUs it knows; on a newer one (Debian's 0.3.21
 * on a Sapphire Rapids Xeon, say) it falls back to its generic SSE3 "Prescott" kernels, 4-5x
 * slower here than the AVX-512 ones the CPU runs. When that happens and the user has not set
 * OPENBLAS_CORETYPE, the library is loaded again with the best kernels the CPU's flags allow
 * (`kernelFor`); OPENBLAS_CORETYPE=PRESCOTT keeps OpenBLAS's own choice. An OPENBLAS_CORETYPE
 * set in the environment is always obeyed; where it names kernels below what the CPU runs (this
 * project's AMD EPYC machines set OPENBLAS_CORETYPE=Haswell on an AVX-512 CPU, where OpenBLAS by
 * itself chooses Cooperlake), `kernelNote` says so. The benches print the kernels (`kernel`,
 * `kernelNote`): they decide the last bit of every product.
 */

import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

const LIBRARIES = [
  'libopenblas.so.0',
  'libopenblas.so',
  '/usr/lib/x86_64-linux-gnu/libopenblas.so.0',
  '/usr/lib/aarch64-linux-gnu/libopenblas.so.0',
  'libcblas.so.3',
  'libblis.so.4',
  '/System/Library/Frameworks/Accelerate.framework/Accelerate',
  'libopenblas.dylib',
  'libopenblas.dll',
];

/** Where the library comes from when none is found (one line, shown to the user). */
export const BLAS_HINT = 'install a CBLAS library: apt-get install libopenblas0-pthread (Debian/Ubuntu), or set PGPO_BLAS=/path/to/libcblas';

const SGEMM_DECL = 'void cblas_sgemm(int, int, int, int, int, int, float, const float *, int, const float *, int, float, float *, int)';

type Sgemm = (
  order: number,
  transA: number,
  transB: number,
  M: number,
  N: number,
  K: number,
  alpha: number,
  A: Float32Array,
  lda: number,
  B: Float32Array,
  ldb: number,
  beta: number,
  C: Float32Array,
  ldc: number,
) => void;

export interface Blas {
  /** The library file that was loaded. */
  readonly library: string;
  /** OpenBLAS's name for the kernels it runs (`openblas_get_corename`), or null for another library. */
  readonly kernel: string | null;
  /** Set when pgpo chose the kernels instead of OpenBLAS: one line saying why. */
  readonly kernelNote: string | null;
  readonly threads: number;
  readonly sgemm: Sgemm;
  /** Sets the library's thread count, where it has a setter. */
  readonly setThreads: ((n: number) => void) | null;
}

let loaded: Blas | null | undefined;
let failure = '';

/** The threads BLAS runs with: PGPO_THREADS if set (a positive integer), else the cores. */
export function blasThreads(): number {
  const env = process.env.PGPO_THREADS;
  if (env !== undefined && env !== '') {
    const n = Number(env);
    if (!Number.isInteger(n) || n < 1) throw new Error(`PGPO_THREADS must be a positive integer, got '${env}'`);
    return n;
  }
  return availableParallelism();
}

/** The CBLAS library, loaded once per process; null (with `blasFailure()` saying why) if none. */
export function tryBlas(): Blas | null {
  if (loaded !== undefined) return loaded;
  let koffi: typeof import('koffi');
  try {
    koffi = createRequire(import.meta.url)('koffi');
  } catch (err) {
    failure = `the koffi package could not be loaded (${(err as Error).message.split('\n')[0]}); run npm ci`;
    return (loaded = null);
  }
  // OpenBLAS's idle threads spin for 2^28 cycles (~0.1 s) after each product before they sleep:
  // between products, that spinning takes the core from the engine's own work (its helper
  // thread's attention, helper-threads.ts; and, where cores are hyperthreads, this thread's loops).
  // 2^4 cycles: they sleep at once (read by OpenBLAS when it loads; a user's value is kept).
  process.env.OPENBLAS_THREAD_TIMEOUT ??= '4';
  const names = process.env.PGPO_BLAS ? [process.env.PGPO_BLAS] : LIBRARIES;
  const tried: string[] = [];
  for (const name of names) {
    let lib: ReturnType<typeof koffi.load>;
    try {
      lib = koffi.load(name);
    } catch {
      tried.push(name);
      continue;
    }
    let sgemm: Sgemm;
    try {
      sgemm = lib.func(SGEMM_DECL) as Sgemm;
    } catch {
      tried.push(`${name} (no cblas_sgemm in it)`);
      continue;
    }
    let kernel = coreName(lib);
    let kernelNote: string | null = null;
    const better = kernel === 'Prescott' && !process.env.OPENBLAS_CORETYPE ? kernelFor(cpuFlags()) : null;
    if (better) {
      // OpenBLAS reads OPENBLAS_CORETYPE once, when it is loaded: unload, set it, load again
      lib.unload();
      process.env.OPENBLAS_CORETYPE = better.name;
      try {
        lib = koffi.load(name);
      } finally {
        delete process.env.OPENBLAS_CORETYPE;
      }
      sgemm = lib.func(SGEMM_DECL) as Sgemm;
      kernel = coreName(lib);
      kernelNote = `OpenBLAS does not know this CPU and chose its generic Prescott kernels; pgpo uses ${kernel} (the CPU has ${better.because}); OPENBLAS_CORETYPE=PRESCOTT keeps OpenBLAS's choice`;
    }
    const best = process.env.OPENBLAS_CORETYPE ? kernelFor(cpuFlags()) : null;
    if (best && kernelRank(kernel) < kernelRank(best.name)) {
      // the user's (or the machine image's) choice, kept; but say what it costs
      kernelNote = `OPENBLAS_CORETYPE=${process.env.OPENBLAS_CORETYPE} is set in the environment and chose ${kernel} kernels; this CPU runs better ones (it has ${best.because}): unset it to let OpenBLAS choose (see docs/performance.md)`;
    }
    const threads = blasThreads();
    let setThreads: ((n: number) => void) | null = null;
    for (const setter of ['openblas_set_num_threads', 'bli_thread_set_num_threads']) {
      try {
        setThreads = lib.func(`void ${setter}(int)`) as (n: number) => void;
        if (!inHelper) setThreads(threads);
        break;
      } catch {
        // not this library's name for it
      }
    }
    return (loaded = { library: name, kernel, kernelNote, threads, sgemm, setThreads });
  }
  failure = `no CBLAS library found (tried ${tried.join(', ')}); ${BLAS_HINT}`;
  return (loaded = null);
}

/**
 * How much of the CPU an OpenBLAS x86-64 kernel set uses: SSE3 (Prescott and the other pre-AVX2
 * ones) 0, AVX2 + FMA (Haswell, Zen) 1, AVX-512 (SkylakeX and its successors) 2; Infinity for a
 * library that is not OpenBLAS.
 */
export function kernelRank(name: string | null): number {
  if (name === null) return Infinity;
  const n = name.toUpperCase();
  if (['SKYLAKEX', 'COOPERLAKE', 'SAPPHIRERAPIDS'].includes(n)) return 2;
  if (['HASWELL', 'ZEN'].includes(n)) return 1;
  return 0;
}

/** OpenBLAS's kernel name, or null when the library is not OpenBLAS. */
function coreName(lib: { func: (decl: string) => unknown }): string | null {
  try {
    return (lib.func('const char *openblas_get_corename()') as () => string)();
  } catch {
    return null;
  }
}

/** The CPU's feature flags (Linux's /proc/cpuinfo; empty elsewhere, where nothing is changed). */
export function cpuFlags(): Set<string> {
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8')
      .split('\n')
      .find((l) => /^flags\s*:/.test(l));
    return new Set(line ? line.split(':')[1].trim().split(/\s+/) : []);
  } catch {
    return new Set();
  }
}

/**
 * The best OpenBLAS x86-64 kernels a CPU with these flags runs: SKYLAKEX needs the AVX-512
 * subsets its kernels use, HASWELL AVX2 and FMA. Null when neither (Prescott is then right).
 */
export function kernelFor(flags: ReadonlySet<string>): { name: string; because: string } | null {
  if (['avx512f', 'avx512cd', 'avx512bw', 'avx512dq', 'avx512vl'].every((f) => flags.has(f))) return { name: 'SKYLAKEX', because: 'AVX-512' };
  if (flags.has('avx2') && flags.has('fma')) return { name: 'HASWELL', because: 'AVX2 and FMA' };
  return null;
}

/** One line for reports and benches: the library, its kernels and threads, or why there is none. */
export function blasSummary(): string {
  const b = tryBlas();
  return b ? `${b.library}${b.kernel ? `, ${b.kernel} kernels` : ''} (${b.threads} threads)` : `no CBLAS (${failure})`;
}

/** Why `tryBlas()` returned null. */
export function blasFailure(): string {
  return failure;
}

/** The CBLAS library, or an error naming the package to install. */
export function blas(): Blas {
  const b = tryBlas();
  if (!b) throw new Error(`native backend: ${blasFailure()}`);
  return b;
}

/**
 * Products below this many multiply-adds (~170 us on one core) run on one thread: waking the
 * others costs more than they save on the attention's per-head products (a 97x97x32 product took
 * 30 us on one thread, several times that on two) and on a decode step's weight products (160 x
 * 384 x 128, 7.9M: as fast on one thread as on two once OpenBLAS's thread has gone to sleep
 * between products; 256 rows gain 15%: `npm run bench:kernels`), while the weight products of a
 * batch (thousands of rows) scale with threads.
 */
export const PARALLEL_MACS = 1 << 23;

// Per thread (each worker has its own copy of this module): the BLAS thread count last set from
// this thread, and whether this is a helper thread (helper-threads.ts), which never sets it: BLAS's
// thread count is global to the process, and the main thread owns it.
let threadsNow = 0;
let inHelper = false;

/** Marks this thread as a helper: its products run on the calling thread only (helper-threads.ts). */
export function helperThread(): void {
  inHelper = true;
}

/** Before a parallel section (helper-threads.ts): BLAS on one thread, so that concurrent callers do not share its pool. */
export function singleThreaded(): void {
  const b = blas();
  if (threadsNow !== 1 && b.setThreads) {
    b.setThreads(1);
    threadsNow = 1;
  }
}

const ROW_MAJOR = 101;
const NO_TRANS = 111;
const TRANS = 112;

/**
 * C[M, N] = alpha * op(A) op(B) + beta * C, row-major, where op(A) is [M, K] (A itself, or A^T
 * when transA: A is then [K, M]) and op(B) is [K, N]. lda, ldb, ldc are the row strides.
 */
export function gemm(
  transA: boolean,
  transB: boolean,
  M: number,
  N: number,
  K: number,
  alpha: number,
  A: Float32Array,
  lda: number,
  B: Float32Array,
  ldb: number,
  beta: number,
  C: Float32Array,
  ldc: number,
): void {
  if (M === 0 || N === 0) return;
  if (K === 0) {
    // BLAS leaves C alone when K = 0 only if beta = 1; do what the formula says
    for (let i = 0; i < M; i++) for (let j = 0; j < N; j++) C[i * ldc + j] = beta === 0 ? 0 : C[i * ldc + j] * beta;
    return;
  }
  const b = blas();
  const want = b.threads > 1 && M * N * K >= PARALLEL_MACS ? b.threads : 1;
  if (want !== threadsNow && b.setThreads && !inHelper) {
    b.setThreads(want);
    threadsNow = want;
  }
  b.sgemm(ROW_MAJOR, transA ? TRANS : NO_TRANS, transB ? TRANS : NO_TRANS, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

let rowSplit: number | null | undefined;

/**
 * The row counts at which a one-thread product may be cut into two calls (rows [0, r) and [r, M))
 * with the same bits as one call: the smallest g of a few candidates such that every multiple of
 * g cuts exactly, or null if none does. An sgemm kernel computes its rows in blocks (OpenBLAS's
 * Haswell/Zen kernels twelve at a time, the last block narrower and summed in another order; its
 * SkylakeX ones row by row), so a cut inside a block can change the last bits of its rows. Found
 * once per thread by trying it on products with bias-filled outputs, as linearForward runs them,
 * with odd inner sizes; decode.ts splits a step's rows between threads only at these cuts, so
 * that a run's results do not depend on whether helper threads run.
 */
export function exactRowSplit(): number | null {
  if (rowSplit !== undefined) return rowSplit;
  const rows = 2 * 48 + 13;
  const shapes = [
    [67, 83],
    [128, 40],
  ] as const;
  let seed = 0x2545f491;
  const random = (n: number) =>
    Float32Array.from({ length: n }, () => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed / 2 ** 32 - 0.5;
    });
  const cases = shapes.map(([K, N]) => {
    const [a, b, c] = [random(rows * K), random(K * N), random(rows * N)];
    const whole = c.slice();
    gemm(false, false, rows, N, K, 1, a, K, b, N, 1, whole, N);
    return { K, N, a, b, c, whole };
  });
  const cutsExactly = (r: number) =>
    cases.every(({ K, N, a, b, c, whole }) => {
      const two = c.slice();
      gemm(false, false, r, N, K, 1, a, K, b, N, 1, two, N);
      gemm(false, false, rows - r, N, K, 1, a.subarray(r * K), K, b, N, 1, two.subarray(r * N), N);
      const [x, y] = [new Int32Array(two.buffer), new Int32Array(whole.buffer)];
      for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
      return true;
    });
  for (const g of [1, 2, 4, 8, 12, 16, 24, 32, 48]) {
    let exact = true;
    for (let r = g; r < rows && exact; r += g) exact = cutsExactly(r);
    if (exact) return (rowSplit = g);
  }
  return (rowSplit = null);
}

/** A weight product as linearForward runs it: C[M, N] = bias + A[M, K] W[K, N] (beta 1). */
export interface BiasProduct {
  readonly K: number;
  readonly N: number;
}

const splitVerdicts = new Map<string, boolean>();
let pool = new Float32Array(0);

/**
 * Whether each of these products, computed in calls of rows [ends[i - 1], ends[i]) (ends[0]'s
 * share from row 0, the last ending at M), gives the bits of one call over all M rows.
 * `exactRowSplit` says where to cut; this says whether the cut holds at the sizes at hand, since
 * a BLAS can switch kernels with a call's size: OpenBLAS 0.3.21's SkylakeX kernels run products
 * of at most 10^6 multiply-adds on other kernels, which round some values differently when N is
 * not a multiple of 16 (a 48-row share of a 160-row head product: 78 values). Tried once per
 * (products, M, ends) on random values and remembered (operand alignment made no difference in
 * a check of six offsets); a few products' calls, ~0.5 ms, for each new row count.
 */
export function splitIsExact(products: readonly BiasProduct[], M: number, ends: readonly number[]): boolean {
  const key = `${products.map((p) => `${p.K}x${p.N}`).join(',')}|${M}|${ends.join(',')}`;
  const known = splitVerdicts.get(key);
  if (known !== undefined) return known;
  let exact = true;
  for (const { K, N } of products) {
    const need = M * K + K * N + 2 * M * N;
    if (pool.length < need) {
      let seed = 0x9e3779b9;
      pool = Float32Array.from({ length: need }, () => {
        seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
        return seed / 2 ** 32 - 0.5;
      });
    }
    const a = pool.subarray(0, M * K);
    const w = pool.subarray(M * K, M * K + K * N);
    const bias = pool.subarray(M * K + K * N, M * K + K * N + M * N);
    const whole = bias.slice();
    gemm(false, false, M, N, K, 1, a, K, w, N, 1, whole, N);
    const cut = bias.slice();
    let r0 = 0;
    for (const r1 of ends) {
      gemm(false, false, r1 - r0, N, K, 1, a.subarray(r0 * K), K, w, N, 1, cut.subarray(r0 * N), N);
      r0 = r1;
    }
    const [x, y] = [new Int32Array(cut.buffer), new Int32Array(whole.buffer)];
    for (let i = 0; i < x.length && exact; i++) exact = x[i] === y[i];
    if (!exact) break;
  }
  splitVerdicts.set(key, exact);
  return exact;
}
