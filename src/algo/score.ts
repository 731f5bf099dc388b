/**
 * From dependency to a bounded per-response score (PGPO.md §3):
 *   S~_t = log(1 + S_t)                                   (log compression of a long tail)
 *   I_t  = (S~_t - min_j S~_j) / (max_j S~_j - min_j S~_j + eps)   (min-max over ONE response)
 */

export const DEFAULT_EPS = 1e-8;

/**
 * S~_t = log(1 + max(S_t, 0)). Negative inputs (only the k1 estimator produces them: a
 * negative single-sample estimate of a non-negative KL) are clamped to 0 first.
 */
export function compressDependency(dependency: ArrayLike<number>): Float64Array {
  const out = new Float64Array(dependency.length);
  for (let t = 0; t < out.length; t++) out[t] = Math.log1p(Math.max(0, dependency[t]));
  return out;
}

export interface ScoredResponse {
  /** S~_t = log(1 + S_t). */
  readonly compressed: Float64Array;
  /** I_t in [0, 1). */
  readonly importance: Float64Array;
  /**
   * True when max S~ - min S~ <= eps (all tokens equally dependent, or a single token): no
   * ranking exists and the reshaper must fall back to weights 1.
   */
  readonly degenerate: boolean;
}

/** Log compression then min-max over the response. */
export function scoreResponse(dependency: ArrayLike<number>, eps = DEFAULT_EPS): ScoredResponse {
  const compressed = compressDependency(dependency);
  let min = Infinity;
  let max = -Infinity;
  for (const v of compressed) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const range = max - min;
  const importance = new Float64Array(compressed.length);
  const degenerate = !(range > eps);
  if (!degenerate) for (let t = 0; t < importance.length; t++) importance[t] = (compressed[t] - min) / (range + eps);
  return { compressed, importance, degenerate };
}
