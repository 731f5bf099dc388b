/**
 * KL penalty to a reference policy, per token from log-probs of the sampled tokens, with its
 * derivative with respect to logp (the policy being trained). x = logp_ref - logp:
 *   k1 = logp - logp_ref = -x                 d/dlogp = 1
 *   k2 = (logp - logp_ref)^2 / 2              d/dlogp = logp - logp_ref
 *   k3 = e^x - x - 1, clamped to [-kmax, kmax] d/dlogp = 1 - e^x (0 where clamped)
 * (verl's "kl", "mse" and "low_var_kl"). The paper's PGPO recipe uses no KL term; it is here
 * for GRPO-style runs.
 */
import { aggregate, aggregationWeights, assertSameShape, fullMask, type AggregationOptions, type TokenRows } from './aggregation.ts';
import { assertFinite } from './errors.ts';
import { Registry } from './registry.ts';

export type KlTokenEstimator = (logp: number, logpRef: number, clampMax: number) => { value: number; grad: number };

const X_CLAMP = 20;

export const klEstimators = new Registry<KlTokenEstimator>('KL estimator')
  .register('k1', (logp, logpRef) => ({ value: logp - logpRef, grad: 1 }))
  .register('k2', (logp, logpRef) => ({ value: 0.5 * (logp - logpRef) ** 2, grad: logp - logpRef }))
  .register('k3', (logp, logpRef, clampMax) => {
    const raw = logpRef - logp;
    const x = Math.max(-X_CLAMP, Math.min(X_CLAMP, raw));
    const value = Math.expm1(x) - x;
    if (value > clampMax || Math.abs(raw) >= X_CLAMP) return { value: Math.min(value, clampMax), grad: 0 };
    return { value, grad: -Math.expm1(x) };
  });

export const KL_ESTIMATORS = ['k1', 'k2', 'k3'] as const;
export type KlEstimatorName = (typeof KL_ESTIMATORS)[number];

export interface KlPenaltyOptions extends AggregationOptions {
  readonly estimator: KlEstimatorName;
  readonly coef: number;
  /** Upper clamp of the k3 value (verl: 10). */
  readonly clampMax: number;
}

export interface TokenTermOutput {
  /** coef * aggregated value. */
  readonly loss: number;
  /** Unweighted mean of the per-token value over unmasked tokens (for logging). */
  readonly mean: number;
  /** dLoss/dx per token. */
  readonly grad: Float64Array[];
}

/** coef * agg(KL(pi || pi_ref)) and its per-token gradient with respect to logp. */
export function referenceKlPenalty(logp: TokenRows, logpRef: TokenRows, options: KlPenaltyOptions, mask?: TokenRows): TokenTermOutput {
  assertSameShape(logp, logpRef, ['logp', 'logp_ref']);
  const m = mask ?? fullMask(logp);
  assertSameShape(logp, m, ['logp', 'mask']);
  const coef = aggregationWeights(m, options);
  const est = klEstimators.get(options.estimator);
  const values: Float64Array[] = [];
  const grad: Float64Array[] = [];
  let s = 0;
  let n = 0;
  logp.forEach((row, i) => {
    assertFinite(row, 'logp', i);
    assertFinite(logpRef[i], 'logp_ref', i);
    const v = new Float64Array(row.length);
    const g = new Float64Array(row.length);
    for (let t = 0; t < row.length; t++) {
      const out = est(row[t], logpRef[i][t], options.clampMax);
      v[t] = out.value;
      g[t] = options.coef * coef[i][t] * out.grad;
      if (m[i][t] > 0) {
        s += out.value;
        n++;
      }
    }
    values.push(v);
    grad.push(g);
  });
  return { loss: options.coef * aggregate(values, coef), mean: n ? s / n : 0, grad };
}
