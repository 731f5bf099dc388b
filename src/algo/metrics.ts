/**
 * Statistics of the dependency signal and of the reshaped weights, as logged every training
 * step and printed by `pgpo reshape`: sparsity (the share of total dependency carried by the
 * top 10% of tokens), the Gini coefficient, and weight min/mean/max and amplified share.
 */
import type { TokenRows } from './aggregation.ts';

/** Share of sum(values) carried by the top ceil(fraction * n) values; 0 when the sum is 0. */
export function topShare(values: ArrayLike<number>, fraction = 0.1): number {
  const n = values.length;
  if (n === 0) return 0;
  const sorted = Float64Array.from(values).sort().reverse();
  const k = Math.max(1, Math.ceil(n * fraction - 1e-12));
  let top = 0;
  let total = 0;
  for (let i = 0; i < n; i++) {
    total += sorted[i];
    if (i < k) top += sorted[i];
  }
  return total > 0 ? top / total : 0;
}

/**
 * Gini coefficient of non-negative values: 0 when all are equal, -> 1 when one value holds
 * everything. G = sum_i (2i - n - 1) x_(i) / (n sum x), x sorted ascending, i from 1.
 */
export function gini(values: ArrayLike<number>): number {
  const n = values.length;
  if (n === 0) return 0;
  const sorted = Float64Array.from(values).sort();
  let total = 0;
  let weighted = 0;
  for (let i = 0; i < n; i++) {
    total += sorted[i];
    weighted += (2 * (i + 1) - n - 1) * sorted[i];
  }
  return total > 0 ? weighted / (n * total) : 0;
}

export function flatten(rows: TokenRows): Float64Array {
  const n = rows.reduce((a, r) => a + r.length, 0);
  const out = new Float64Array(n);
  let k = 0;
  for (const r of rows) for (let t = 0; t < r.length; t++) out[k++] = r[t];
  return out;
}

export interface WeightStats {
  readonly min: number;
  readonly mean: number;
  readonly max: number;
  /** Share of tokens with w~ > 1. */
  readonly fractionAmplified: number;
  /** Share of tokens with w~ < 1. */
  readonly fractionSuppressed: number;
}

export function weightStats(weights: TokenRows): WeightStats {
  const w = flatten(weights);
  if (w.length === 0) return { min: NaN, mean: NaN, max: NaN, fractionAmplified: 0, fractionSuppressed: 0 };
  let min = Infinity;
  let max = -Infinity;
  let s = 0;
  let up = 0;
  let down = 0;
  for (const x of w) {
    if (x < min) min = x;
    if (x > max) max = x;
    s += x;
    if (x > 1) up++;
    else if (x < 1) down++;
  }
  return { min, mean: s / w.length, max, fractionAmplified: up / w.length, fractionSuppressed: down / w.length };
}

export interface DependencyStats {
  readonly tokens: number;
  /** Mean S_t. */
  readonly mean: number;
  readonly max: number;
  /** Mean log(1 + S_t). */
  readonly meanCompressed: number;
  /** Share of total S carried by the top 10% of tokens. */
  readonly top10Share: number;
  readonly gini: number;
}

export function dependencyStats(dependency: TokenRows): DependencyStats {
  const s = flatten(dependency);
  let total = 0;
  let max = s.length ? -Infinity : NaN;
  let compressed = 0;
  for (const x of s) {
    total += x;
    if (x > max) max = x;
    compressed += Math.log1p(Math.max(0, x));
  }
  const nonNegative = s.map((x) => Math.max(0, x));
  return {
    tokens: s.length,
    mean: s.length ? total / s.length : NaN,
    max,
    meanCompressed: s.length ? compressed / s.length : NaN,
    top10Share: topShare(nonNegative, 0.1),
    gini: gini(nonNegative),
  };
}

/**
 * The weight statistics of token advantages that are not a reshaping (GRPO, DAPO, PAPO, VPPO):
 * w_{i,t} = A~_{i,t} / A_i (1 where A_i = 0), so every algorithm logs comparable weight_* values.
 */
export function impliedWeightStats(tokenAdvantages: TokenRows, advantages: ArrayLike<number>): WeightStats {
  return weightStats(tokenAdvantages.map((r, i) => Float64Array.from(r, (a) => (advantages[i] === 0 ? 1 : a / advantages[i]))));
}
