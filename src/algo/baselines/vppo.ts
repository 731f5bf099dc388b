/**
 * VPPO (arXiv 2510.09285), the visual-perception baseline, restated from its paper and code:
 *  - dependency: k3 between the policy on the original image and on a randomly
 *    patch-blackened copy, clamped to [0, 10];
 *  - trajectory-level advantage shaping (TAS): each response's mean dependency s_i is min-max
 *    normalised over the batch to n_i in [0, 1] and mapped to [m, M] with m = 0.9 and
 *    M = m + (1 - m) / mean(n), so the factors average exactly 1: A_i <- A_i * f_i;
 *  - token-level gradient filtering (TGF): only the top ceil(40%) most dependent tokens of each
 *    response keep their gradient. Multiplying the loss by a 0/1 mask while averaging over all
 *    tokens equals zeroing those tokens' advantages, which is what we return;
 *  - an entropy penalty coef * mean(-logp) (its code's estimator of entropy).
 */
import { aggregationWeights, type AggregationOptions, type TokenRows } from '../aggregation.ts';
import { k3 } from '../dependency.ts';
import { AlgoInputError, assertFinite, assertSameLength } from '../errors.ts';
import type { TokenTermOutput } from '../kl.ts';

export interface VppoOptions {
  /** Lower end m of the trajectory factors (0.9). */
  readonly scaleMin: number;
  /** Share of each response's tokens that keep their gradient (0.4). */
  readonly topFraction: number;
  /** Upper clamp of the per-token dependency (10). */
  readonly clampMax: number;
}

export const DEFAULT_VPPO: VppoOptions = Object.freeze({ scaleMin: 0.9, topFraction: 0.4, clampMax: 10 });

/** Per-token dependency: k3(original, perturbed) clamped to [0, clampMax]. NaN/Inf log-probs are an error. */
export function vppoDependency(logpOriginal: ArrayLike<number>, logpPerturbed: ArrayLike<number>, clampMax = DEFAULT_VPPO.clampMax, response?: number): Float64Array {
  assertSameLength(logpOriginal, logpPerturbed, ['logp_original', 'logp_perturbed'], response);
  assertFinite(logpOriginal, 'logp_original', response);
  assertFinite(logpPerturbed, 'logp_perturbed', response);
  return k3(logpOriginal, logpPerturbed).map((s) => Math.min(Math.max(s, 0), clampMax));
}

/** Trajectory factors f_i (mean exactly 1 unless all responses are equally dependent: then 1). */
export function vppoTrajectoryFactors(dependencies: TokenRows, scaleMin = DEFAULT_VPPO.scaleMin): Float64Array {
  const means = dependencies.map((row) => {
    let s = 0;
    for (let t = 0; t < row.length; t++) s += row[t];
    return row.length ? s / row.length : 0;
  });
  const factors = new Float64Array(means.length).fill(1);
  if (means.length < 2) return factors;
  const lo = Math.min(...means);
  const hi = Math.max(...means);
  if (!(hi - lo > 1e-6)) return factors; // no spread: no scaling (as its code)
  const norm = means.map((s) => Math.min(1, Math.max(0, (s - lo) / (hi - lo))));
  const mu = norm.reduce((a, b) => a + b, 0) / norm.length;
  const scaleMax = scaleMin + (1 - scaleMin) / (mu + 1e-8);
  for (let i = 0; i < factors.length; i++) factors[i] = scaleMin + norm[i] * (scaleMax - scaleMin);
  return factors;
}

/** 0/1 mask keeping the top ceil(topFraction * n) tokens by dependency (ties: earlier first). */
export function vppoTokenMask(dependency: ArrayLike<number>, topFraction = DEFAULT_VPPO.topFraction): Float64Array {
  if (!(topFraction >= 0 && topFraction <= 1)) throw new AlgoInputError(`VPPO topFraction must be in [0, 1], got ${topFraction}`, { field: 'topFraction' });
  const n = dependency.length;
  const k = Math.ceil(n * topFraction - 1e-12);
  const order = Array.from({ length: n }, (_, t) => t).sort((a, b) => dependency[b] - dependency[a] || a - b);
  const mask = new Float64Array(n);
  for (let j = 0; j < k; j++) mask[order[j]] = 1;
  return mask;
}

export interface VppoTokenAdvantages {
  readonly tokenAdvantages: Float64Array[];
  readonly factors: Float64Array;
  readonly masks: Float64Array[];
}

/** A~_{i,t} = A_i * f_i * mask_{i,t}. */
export function vppoTokenAdvantages(advantages: ArrayLike<number>, dependencies: TokenRows, options: VppoOptions = DEFAULT_VPPO): VppoTokenAdvantages {
  if (advantages.length !== dependencies.length) throw new AlgoInputError(`${advantages.length} advantages but ${dependencies.length} responses`, { field: 'advantages' });
  // a NaN would silently turn every factor into 1 (min/max are NaN) and scramble the token mask
  dependencies.forEach((row, i) => assertFinite(row, 'dependency', i));
  const factors = vppoTrajectoryFactors(dependencies, options.scaleMin);
  const masks = dependencies.map((row) => vppoTokenMask(row, options.topFraction));
  const tokenAdvantages = masks.map((mask, i) => mask.map((m) => advantages[i] * factors[i] * m));
  return { tokenAdvantages, factors, masks };
}

/** coef * agg(-logp): VPPO's entropy penalty; gradient with respect to logp is -coef * c. */
export function vppoEntropyPenalty(logp: TokenRows, coef: number, options: AggregationOptions, mask?: TokenRows): TokenTermOutput {
  const m = mask ?? logp.map((row) => new Float64Array(row.length).fill(1));
  const c = aggregationWeights(m, options);
  let loss = 0;
  let s = 0;
  let n = 0;
  logp.forEach((row, i) => {
    for (let t = 0; t < row.length; t++) {
      loss -= c[i][t] * row[t];
      if (m[i][t] > 0) ((s -= row[t]), n++);
    }
  });
  return { loss: coef * loss, mean: n ? s / n : 0, grad: c.map((row) => row.map((x) => -coef * x)) };
}
