/**
 * Policy-gradient variance on one batch, the estimator behind the `pg_var` metric
 * (docs/analyses.md). The batch's prompt groups are split into M disjoint chunks; g_m is the
 * gradient of the surrogate loss on chunk m alone (token-mean within the chunk); then
 *   g_bar  = (1/M) sum_m g_m
 *   spread = 1/(M-1) sum_m ||g_m - g_bar||^2       (unbiased trace of the chunk-gradient covariance)
 *   pg_var = spread / ||g_bar||^2                   (relative: scale-free, comparable across losses)
 * Pure math over flat Float32Array gradient vectors; accumulated in float64, one vector at a
 * time (Welford), so the trainer never has to hold M copies of the parameters' gradient.
 */

export interface GradientVariance {
  /** M, the number of chunk gradients. */
  readonly chunks: number;
  /** Length of each gradient vector. */
  readonly dim: number;
  /** ||g_bar||^2: the squared norm of the mean chunk gradient. */
  readonly meanSqNorm: number;
  /** 1/(M-1) sum_m ||g_m - g_bar||^2; NaN when M < 2. */
  readonly spread: number;
  /** spread / ||g_bar||^2: the value logged as `pg_var`; NaN when M < 2 or g_bar = 0. */
  readonly relative: number;
}

/** Streams chunk gradients in; holds one float64 mean vector and one scalar. */
export class GradientVarianceAccumulator {
  private mean: Float64Array | null = null;
  private m2 = 0;
  private count = 0;

  add(gradient: ArrayLike<number>): void {
    if (this.mean === null) this.mean = new Float64Array(gradient.length);
    const mean = this.mean;
    if (gradient.length !== mean.length) {
      throw new Error(`pg variance: chunk gradient ${this.count} has length ${gradient.length}, expected ${mean.length}`);
    }
    this.count++;
    const k = this.count;
    // Welford, summed over coordinates: M2 += (g - mean_old) . (g - mean_new).
    let m2 = 0;
    for (let i = 0; i < mean.length; i++) {
      const g = gradient[i];
      if (!Number.isFinite(g)) throw new Error(`pg variance: chunk gradient ${k - 1} holds ${g} at index ${i}`);
      const delta = g - mean[i];
      mean[i] += delta / k;
      m2 += delta * (g - mean[i]);
    }
    this.m2 += m2;
  }

  result(): GradientVariance {
    const mean = this.mean;
    const chunks = this.count;
    if (mean === null) return { chunks: 0, dim: 0, meanSqNorm: NaN, spread: NaN, relative: NaN };
    let sq = 0;
    for (let i = 0; i < mean.length; i++) sq += mean[i] * mean[i];
    const spread = chunks >= 2 ? Math.max(0, this.m2) / (chunks - 1) : NaN;
    const relative = chunks >= 2 && sq > 0 ? spread / sq : NaN;
    return { chunks, dim: mean.length, meanSqNorm: sq, spread, relative };
  }
}

/** The estimator over M chunk gradients held in memory (see the module comment). */
export function gradientVariance(gradients: readonly Float32Array[]): GradientVariance {
  const acc = new GradientVarianceAccumulator();
  for (const g of gradients) acc.add(g);
  return acc.result();
}

/**
 * Splits items 0..n-1 (prompt groups, in batch order) into m contiguous chunks whose sizes
 * differ by at most one; the first n mod m chunks get the extra item. Needs 1 <= m <= n.
 */
export function chunkRanges(n: number, m: number): Array<[start: number, end: number]> {
  if (!Number.isInteger(n) || !Number.isInteger(m) || m < 1 || m > n) {
    throw new Error(`pg variance: cannot split ${n} groups into ${m} non-empty chunks`);
  }
  const base = Math.floor(n / m);
  const extra = n % m;
  const out: Array<[number, number]> = [];
  let start = 0;
  for (let c = 0; c < m; c++) {
    const end = start + base + (c < extra ? 1 : 0);
    out.push([start, end]);
    start = end;
  }
  return out;
}
