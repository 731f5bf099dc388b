/**
 * Threshold-gated, mass-conserving reshaping of a response's advantage (PGPO.md §4):
 *   w(I) = I / (tau + eps)                          if I <  tau   (suppress: [0, 1))
 *   w(I) = 1 + beta * (I - tau) / (1 - tau + eps)   if I >= tau   (amplify: [1, 1 + beta])
 *   w~_t = w(I_t) * |o| / sum_j w(I_j)              (sum of weights = response length)
 *   A~_t = A * w~_t
 * and the named variants the paper ablates (plus unofficial ones: a quantile threshold, a floor, the inverse control). Weights are never
 * negative, so the sign of A is kept.
 */
import { AlgoInputError, assertFinite } from './errors.ts';
import { quantile } from './numeric.ts';
import { Registry } from './registry.ts';
import { DEFAULT_EPS, scoreResponse } from './score.ts';

export interface ReshapeOptions {
  /** Gate threshold on the importance I in [0, 1]. Paper default 0.4. */
  readonly tau: number;
  /** Maximum extra weight on the most visual token: weights reach 1 + beta. Paper default 2.0. */
  readonly beta: number;
  /** Stabiliser in the min-max and gate denominators; also the "all equal" threshold. */
  readonly eps: number;
  /** `pgpo-quantile` only: tau is this quantile of the response's own I values. */
  readonly quantile: number;
  /** `pgpo-floor` only: gated weights below this are raised to it (before normalisation). */
  readonly floor: number;
}

export const DEFAULT_RESHAPE: ReshapeOptions = Object.freeze({
  tau: 0.4,
  beta: 2.0,
  eps: DEFAULT_EPS,
  quantile: 0.5,
  floor: 0.1,
});

/** Why a response got plain GRPO weights (all 1) instead of reshaped ones. */
export type ReshapeFallback = 'degenerate' | 'zero-sum';

export interface ReshapedWeights {
  /** w~_t, one per token. */
  readonly weights: Float64Array;
  /** S~_t = log(1 + S_t). */
  readonly compressed: Float64Array;
  /** I_t, the min-max normalised score. */
  readonly importance: Float64Array;
  /** The tau actually used (differs from the option for `pgpo-quantile`, suppress/boost-only). */
  readonly tau: number;
  /** Set when the weights fell back to 1: all dependencies equal, or weights summing to 0. */
  readonly fallback: ReshapeFallback | null;
}

/** The piecewise gate w(I). Monotone non-decreasing in I (the jump at tau goes up). */
export function gateWeight(importance: number, tau: number, beta: number, eps: number): number {
  return importance < tau ? importance / (tau + eps) : 1 + (beta * (importance - tau)) / (1 - tau + eps);
}

/** w~_t = w_t * n / sum(w). Returns null when the sum is not positive (no mass to spread). */
export function normalizeWeights(weights: ArrayLike<number>): Float64Array | null {
  let s = 0;
  for (let t = 0; t < weights.length; t++) s += weights[t];
  if (!(s > 0)) return null;
  const scale = weights.length / s;
  const out = new Float64Array(weights.length);
  for (let t = 0; t < out.length; t++) out[t] = weights[t] * scale;
  return out;
}

export function validateReshapeOptions(o: ReshapeOptions): void {
  const bad = (field: string, why: string, v: number) => {
    throw new AlgoInputError(`reshape option ${field} ${why}, got ${v}`, { field });
  };
  if (!(o.tau >= 0 && o.tau <= 1)) bad('tau', 'must be in [0, 1]', o.tau);
  if (!(o.beta >= 0) || !Number.isFinite(o.beta)) bad('beta', 'must be a finite number >= 0', o.beta);
  if (!(o.eps > 0) || !Number.isFinite(o.eps)) bad('eps', 'must be a finite number > 0', o.eps);
  if (!(o.quantile >= 0 && o.quantile <= 1)) bad('quantile', 'must be in [0, 1]', o.quantile);
  if (!(o.floor >= 0) || !Number.isFinite(o.floor)) bad('floor', 'must be a finite number >= 0', o.floor);
}

/** A reshaper maps one response's dependencies S_t to token weights w~_t. */
export type Reshaper = (dependency: ArrayLike<number>, options: ReshapeOptions) => ReshapedWeights;

interface GateSpec {
  /** Where tau comes from: the option, a constant (ablations), or the response's quantile. */
  readonly tau: 'option' | number | 'quantile';
  readonly normalize: boolean;
  readonly floor: boolean;
  /** Gate 1 - I_t instead of I_t: credit the tokens the image decides least (a control, not the method). */
  readonly invert?: boolean;
}

function ones(n: number): Float64Array {
  return new Float64Array(n).fill(1);
}

function gated(spec: GateSpec): Reshaper {
  return (dependency, options) => {
    const { compressed, importance, degenerate } = scoreResponse(dependency, options.eps);
    const tau = spec.tau === 'option' ? options.tau : spec.tau === 'quantile' ? (degenerate ? options.tau : quantile(importance, options.quantile)) : spec.tau;
    if (degenerate) return { weights: ones(importance.length), compressed, importance, tau, fallback: 'degenerate' };
    const raw = new Float64Array(importance.length);
    for (let t = 0; t < raw.length; t++) {
      const w = gateWeight(spec.invert ? 1 - importance[t] : importance[t], tau, options.beta, options.eps);
      raw[t] = spec.floor ? Math.max(w, options.floor) : w;
    }
    if (!spec.normalize) return { weights: raw, compressed, importance, tau, fallback: null };
    const weights = normalizeWeights(raw);
    if (weights === null) return { weights: ones(raw.length), compressed, importance, tau, fallback: 'zero-sum' };
    return { weights, compressed, importance, tau, fallback: null };
  };
}

/** GRPO/DAPO: every token carries the sequence advantage unchanged (scores kept for metrics). */
const none: Reshaper = (dependency, options) => {
  const { compressed, importance } = scoreResponse(dependency, options.eps);
  return { weights: ones(importance.length), compressed, importance, tau: options.tau, fallback: null };
};

export const reshapers = new Registry<Reshaper>('reshaping variant')
  .register('none', none)
  .register('pgpo', gated({ tau: 'option', normalize: true, floor: false }))
  .register('pgpo-no-norm', gated({ tau: 'option', normalize: false, floor: false }))
  .register('suppress-only', gated({ tau: 1, normalize: true, floor: false }))
  .register('boost-only', gated({ tau: 0, normalize: true, floor: false }))
  .register('pgpo-quantile', gated({ tau: 'quantile', normalize: true, floor: false }))
  .register('pgpo-floor', gated({ tau: 'option', normalize: true, floor: true }))
  .register('pgpo-inverse', gated({ tau: 'option', normalize: true, floor: false, invert: true }));

/** The paper's method and its ablations (PGPO.md §4, §7). */
export const PAPER_VARIANTS = ['pgpo', 'none', 'pgpo-no-norm', 'suppress-only', 'boost-only'] as const;
/** Not the paper's: the authors' reported snapshot (quantile tau, floor) and our inverse control. */
export const UNOFFICIAL_VARIANTS = ['pgpo-quantile', 'pgpo-floor', 'pgpo-inverse'] as const;
export const RESHAPE_VARIANTS = [...PAPER_VARIANTS, ...UNOFFICIAL_VARIANTS] as const;
export type ReshapeVariant = (typeof RESHAPE_VARIANTS)[number];

/** Validated entry point for one response. Zero-length responses and NaN/Inf values are errors. */
export function reshapeWeights(variant: ReshapeVariant, dependency: ArrayLike<number>, options: ReshapeOptions = DEFAULT_RESHAPE, response?: number): ReshapedWeights {
  if (dependency.length === 0) {
    throw new AlgoInputError(`response${response === undefined ? '' : ` ${response}`} has no tokens: a zero-length response cannot be reshaped`, {
      response,
      field: 'dependency',
    });
  }
  assertFinite(dependency, 'dependency', response);
  validateReshapeOptions(options);
  return reshapers.get(variant)(dependency, options);
}
