/**
 * Token visual dependency S_t = KL( pi(.|s_t, I) || pi(.|s_t) ): how much the next-token
 * distribution changes when attention to the image is masked (PGPO.md §2). Two ways in:
 *  - single-sample estimators from the generated token's log-probs under both conditions
 *    (k1, k2, k3 of Schulman's "Approximating KL divergence"; k3 is the paper's default);
 *  - the exact KL from two full rows of logits (works for any vocabulary size).
 * Direction matters: the image-conditioned distribution comes first.
 */
import { assertFinite, assertSameLength } from './errors.ts';
import { Registry } from './registry.ts';

/**
 * Estimates S_t for each token of one response from log-probs of the generated tokens.
 * logpImage[t] = log pi(x_t | s_t, I), logpText[t] = log pi(x_t | s_t) (image masked).
 * Let log r = logpText - logpImage (r = p_text / p_image, sampling is from p_image).
 */
export type DependencyEstimator = (logpImage: ArrayLike<number>, logpText: ArrayLike<number>) => Float64Array;

/** k3 only: exp() of a log-ratio beyond ±20 is clamped first (as verl does) so r never overflows. */
const LOG_RATIO_CLAMP = 20;

function logRatio(logpImage: number, logpText: number): number {
  const d = logpText - logpImage;
  return Math.max(-LOG_RATIO_CLAMP, Math.min(LOG_RATIO_CLAMP, d));
}

/**
 * k1 = -log r = log p_image - log p_text. Unbiased, high variance, can be negative. No exp is
 * taken, so the log-ratio is not clamped (clamping would cap the most visual tokens at 20).
 */
export const k1: DependencyEstimator = (logpImage, logpText) => {
  const out = new Float64Array(logpImage.length);
  for (let t = 0; t < out.length; t++) out[t] = logpImage[t] - logpText[t]; // = -log r
  return out;
};

/** k2 = (log r)^2 / 2. Biased, low variance, non-negative. No exp, so no clamp either. */
export const k2: DependencyEstimator = (logpImage, logpText) => {
  const out = new Float64Array(logpImage.length);
  for (let t = 0; t < out.length; t++) out[t] = 0.5 * (logpText[t] - logpImage[t]) ** 2;
  return out;
};

/**
 * k3 = r - 1 - log r (the paper's estimator). Unbiased for KL(p_image || p_text) when x_t is
 * drawn from p_image, and non-negative since e^x >= 1 + x. expm1 keeps precision when r ~ 1.
 */
export const k3: DependencyEstimator = (logpImage, logpText) => {
  const out = new Float64Array(logpImage.length);
  for (let t = 0; t < out.length; t++) {
    const lr = logRatio(logpImage[t], logpText[t]);
    out[t] = Math.max(0, Math.expm1(lr) - lr);
  }
  return out;
};

export const dependencyEstimators = new Registry<DependencyEstimator>('dependency estimator').register('k1', k1).register('k2', k2).register('k3', k3);

/** Names accepted where the estimator is chosen: the single-sample ones and `exact`. */
export const DEPENDENCY_ESTIMATORS = ['k3', 'k1', 'k2', 'exact'] as const;
export type DependencyEstimatorName = (typeof DEPENDENCY_ESTIMATORS)[number];

/**
 * Exact KL(p || q) = sum_j p_j (log p_j - log q_j) between the softmaxes of two logit rows x, y
 * (rows of log-probs work too: log-softmax is idempotent). Fused into two exp passes: with
 * p_j = e^(x_j - mx) / s,
 *   KL = sum_j p_j (x_j - y_j) - lse(x) + lse(y) = u / s + (my - mx) + log(sq / s)
 * where u = sum_j e^(x_j - mx)(x_j - y_j), s and sq the shifted sums. Subtracting the maxima
 * keeps every exp in (0, 1], so any logit scale is safe. Clamped at 0 against rounding.
 * A NaN or +Inf logit (or a row that is -Inf everywhere) has no distribution: the result is NaN,
 * never a silent 0, so the caller's finiteness check (reshapeBatch) names the response and token.
 */
export function exactKl(logitsImage: ArrayLike<number>, logitsText: ArrayLike<number>): number {
  const V = logitsImage.length;
  if (V !== logitsText.length) {
    throw new Error(`exactKl: rows of different vocabulary size (${V} vs ${logitsText.length})`);
  }
  let mx = -Infinity;
  let my = -Infinity;
  for (let j = 0; j < V; j++) {
    if (logitsImage[j] > mx) mx = logitsImage[j];
    if (logitsText[j] > my) my = logitsText[j];
  }
  let s = 0;
  let u = 0;
  let sq = 0;
  for (let j = 0; j < V; j++) {
    const x = logitsImage[j];
    const e = Math.exp(x - mx);
    s += e;
    if (e > 0) u += e * (x - logitsText[j]); // p_j = 0 contributes 0 (0 log 0 = 0)
    sq += Math.exp(logitsText[j] - my);
  }
  const kl = u / s + (my - mx) + Math.log(sq / s);
  return kl > 0 || Number.isNaN(kl) ? kl : 0;
}

/**
 * Exact per-token dependency for one response from flat row-major [T, V] logit matrices
 * (as a model returns them): S_t = exactKl(image row t, text row t).
 */
export function exactDependency(logitsImage: ArrayLike<number>, logitsText: ArrayLike<number>, vocab: number): Float64Array {
  if (!Number.isInteger(vocab) || vocab <= 0) throw new Error(`exactDependency: vocab must be a positive integer, got ${vocab}`);
  if (logitsImage.length !== logitsText.length || logitsImage.length % vocab !== 0) {
    throw new Error(`exactDependency: logits must both be T x ${vocab}, got ${logitsImage.length} and ${logitsText.length} values`);
  }
  const T = logitsImage.length / vocab;
  const out = new Float64Array(T);
  const view = (a: ArrayLike<number>, t: number): ArrayLike<number> =>
    ArrayBuffer.isView(a) ? (a as unknown as Float64Array).subarray(t * vocab, (t + 1) * vocab) : Array.prototype.slice.call(a, t * vocab, (t + 1) * vocab);
  for (let t = 0; t < T; t++) out[t] = exactKl(view(logitsImage, t), view(logitsText, t));
  return out;
}

/**
 * Validated entry point: both arrays finite and equally long, then the named estimator.
 * `response` only serves error messages.
 */
export function estimateDependency(name: Exclude<DependencyEstimatorName, 'exact'>, logpImage: ArrayLike<number>, logpText: ArrayLike<number>, response?: number): Float64Array {
  assertSameLength(logpImage, logpText, ['logp_image', 'logp_text'], response);
  assertFinite(logpImage, 'logp_image', response);
  assertFinite(logpText, 'logp_text', response);
  return dependencyEstimators.get(name)(logpImage, logpText);
}
