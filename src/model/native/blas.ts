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

// ---------------------------------------------------------------------------------------------
// Where a product may be cut into row shares with the bits of one call (decode.ts splits a decode
// step's rows between threads only there, so that a run's results do not depend on whether
// helper threads run). Found by trying, once per process (per thread), on fixed random values:
// what a BLAS does depends on the sizes of its calls, not on the values.
// ---------------------------------------------------------------------------------------------

let rowSplit: number | null | undefined;

/**
 * The cut width g: the smallest of a few candidates such that a 109-row product (two, with odd
 * inner sizes) cut at any multiple of g gives the bits of one call, or null if none does. An sgemm
 * kernel computes its rows in blocks and sums a block's rows in one order, a narrower last block
 * in another (OpenBLAS's Haswell/Zen kernels: blocks of twelve), so a cut inside a block can
 * change the last bits of its rows.
 */
export function exactRowSplit(): number | null {
  if (rowSplit !== undefined) return rowSplit;
  const rows = 2 * 48 + 13;
  const products = [
    [67, 83],
    [128, 40],
  ] as const;
  const cutsAt = (r: number) =>
    products.every(([K, N]) => {
      const two = new Float32Array(rows * N);
      two.set(probeProduct(K, N, rows, 0, r));
      two.set(probeProduct(K, N, rows, r, rows), r * N);
      return sameBits(two, probeProduct(K, N, rows, 0, rows));
    });
  const everyCut = (g: number) => {
    for (let r = g; r < rows; r += g) if (!cutsAt(r)) return false;
    return true;
  };
  return (rowSplit = [1, 2, 4, 8, 12, 16, 24, 32, 48].find(everyCut) ?? null);
}

const shareFloors = new Map<string, number>();

/**
 * The fewest rows a share of a weight product (C[M, N] = bias + A[M, K] W[K, N], as linearForward
 * runs it) may have for its cut at a multiple of `exactRowSplit()` to keep the bits of one call of
 * up to `rows` rows (rounded up to a power of two; at most what runs on one BLAS thread, below
 * PARALLEL_MACS); Infinity when none may be cut.
 * A BLAS can switch kernels with a call's size: OpenBLAS 0.3.21's SkylakeX kernels run products
 * of at most 10^6 multiply-adds on other kernels, which round some values differently when N is
 * not a multiple of 16 (a one-off check: 78 values of a 48-row share of a 160-row, 162-column
 * product). So an n-row call is compared with the first n rows of the largest one-thread call,
 * for n from the largest multiple of g down, and the floor is where they first differ (one switch,
 * at a size, is assumed; operand alignment made no difference in a check of six offsets).
 */
export function exactShareRows(K: number, N: number, rows: number): number {
  const rowsMax = Math.min(2 ** Math.ceil(Math.log2(Math.max(rows, 1))), Math.floor((PARALLEL_MACS - 1) / (K * N)));
  const key = `${K}x${N}x${rowsMax}`;
  const known = shareFloors.get(key);
  if (known !== undefined) return known;
  const g = exactRowSplit();
  let floor = Infinity;
  if (g !== null && rowsMax >= 2 * g) {
    const whole = probeProduct(K, N, rowsMax, 0, rowsMax);
    floor = g;
    for (let n = rowsMax - (rowsMax % g); n >= g; n -= g)
      if (!sameBits(probeProduct(K, N, rowsMax, 0, n), whole.subarray(0, n * N))) {
        floor = n + g;
        break;
      }
  }
  shareFloors.set(key, floor);
  return floor;
}

let probe = new Float32Array(0);

/**
 * Rows [r0, r1) of bias + a w in one call, a [rows, K], w [K, N] and the bias [rows, N] fixed
 * random values (the same for every call with these sizes).
 */
function probeProduct(K: number, N: number, rows: number, r0: number, r1: number): Float32Array {
  const [oW, oB] = [rows * K, rows * K + K * N];
  if (probe.length < oB + rows * N) {
    let seed = 0x9e3779b9;
    probe = Float32Array.from({ length: oB + rows * N }, () => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed / 2 ** 32 - 0.5;
    });
  }
  const c = probe.slice(oB + r0 * N, oB + r1 * N);
  gemm(false, false, r1 - r0, N, K, 1, probe.subarray(r0 * K, r1 * K), K, probe.subarray(oW, oW + K * N), N, 1, c, N);
  return c;
}

function sameBits(x: Float32Array, y: Float32Array): boolean {
  const [a, b] = [new Int32Array(x.buffer, x.byteOffset, x.length), new Int32Array(y.buffer, y.byteOffset, y.length)];
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
