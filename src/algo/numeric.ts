/**
 * Small numerically careful helpers shared by the algorithm layer: log-sum-exp and
 * log-softmax over one row of logits (any vocabulary size), sums, means, quantiles.
 */

/** log(sum_j exp(x_j)), stable: the max is subtracted first so no exp overflows. */
export function logSumExp(row: ArrayLike<number>): number {
  let max = -Infinity;
  for (let j = 0; j < row.length; j++) if (row[j] > max) max = row[j];
  if (max === -Infinity) return -Infinity;
  if (max === Infinity) return Infinity;
  let s = 0;
  for (let j = 0; j < row.length; j++) s += Math.exp(row[j] - max);
  return max + Math.log(s);
}

/** log p_j = x_j - logsumexp(x): a row of logits (or already log-probs) to log-probs. */
export function logSoftmax(row: ArrayLike<number>): Float64Array {
  const lse = logSumExp(row);
  const out = new Float64Array(row.length);
  for (let j = 0; j < row.length; j++) out[j] = row[j] - lse;
  return out;
}

export function sum(values: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < values.length; i++) s += values[i];
  return s;
}

export function mean(values: ArrayLike<number>): number {
  return values.length === 0 ? NaN : sum(values) / values.length;
}

/** Sample standard deviation with Bessel's correction (n - 1), as torch.std; NaN for n < 2. */
export function stdUnbiased(values: ArrayLike<number>): number {
  const n = values.length;
  if (n < 2) return NaN;
  const m = mean(values);
  let s = 0;
  for (let i = 0; i < n; i++) s += (values[i] - m) ** 2;
  return Math.sqrt(s / (n - 1));
}

/** The q-quantile with linear interpolation between order statistics (numpy/torch default). */
export function quantile(values: ArrayLike<number>, q: number): number {
  if (values.length === 0) throw new Error('quantile of an empty array');
  if (!(q >= 0 && q <= 1)) throw new Error(`quantile q must be in [0, 1], got ${q}`);
  const sorted = Float64Array.from(values).sort();
  const pos = q * (sorted.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}
