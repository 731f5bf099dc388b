/**
 * Policy-gradient losses as functions of log-probs alone: each returns the aggregated loss
 * and dLoss/dlogp_new for every token, so any engine can back-propagate through its own
 * log-probs (the model never needs to know which RL algorithm is running).
 *
 * ppo-clip (PPO with DAPO's clip-higher and dual-clip), per token, r = exp(logp_new - logp_old):
 *   l1 = -A r,  l2 = -A clip(r, 1 - eps_low, 1 + eps_high),  l = max(l1, l2)
 *   if A < 0 and dual clip c is set: l = min(l, -A c)
 *   dl/dlogp_new = -A r where l is l1, 0 where a clipped constant was chosen (dr/dlogp = r).
 * vanilla: l = -A r, no clipping (on-policy REINFORCE when r = 1).
 */
import { aggregate, aggregationWeights, assertSameShape, fullMask, type AggregationOptions, type TokenRows } from './aggregation.ts';
import { AlgoInputError, assertFinite } from './errors.ts';
import { Registry } from './registry.ts';

export interface PolicyLossInput {
  /** log pi_theta(o_t | ...) under the policy being updated, per response token. */
  readonly logpNew: TokenRows;
  /** log pi_old(o_t | ...) from the rollout policy. */
  readonly logpOld: TokenRows;
  /** Token advantages A~_{i,t} (for GRPO/DAPO the sequence advantage repeated). */
  readonly advantages: TokenRows;
  /** 1 for tokens that count, 0 for padding; defaults to all ones. */
  readonly mask?: TokenRows;
}

export interface PolicyLossOptions extends AggregationOptions {
  readonly clipLow: number;
  readonly clipHigh: number;
  /** Dual-clip constant c > 1 for negative advantages; null disables it. */
  readonly dualClip: number | null;
}

export const DEFAULT_POLICY_LOSS: PolicyLossOptions = Object.freeze({
  aggregation: 'token-mean',
  clipLow: 0.2,
  clipHigh: 0.28,
  dualClip: 3.0,
});

export interface PolicyLossOutput {
  readonly loss: number;
  /** dLoss/dlogp_new per token (0 on masked tokens). */
  readonly grad: Float64Array[];
  /** Unaggregated per-token losses l_{i,t}. */
  readonly perToken: Float64Array[];
  /** Share of unmasked tokens where the clipped surrogate was chosen (l2 > l1). */
  readonly clipFraction: number;
  /** Share of unmasked tokens where the dual clip bound was chosen. */
  readonly dualClipFraction: number;
  /** mean(logp_old - logp_new) over unmasked tokens (k1 estimate of KL(old || new)). */
  readonly ppoKl: number;
  /** mean(r - 1 - log r) over unmasked tokens (k3 estimate of KL(old || new), >= 0). */
  readonly approxKl: number;
}

/** Per-token loss and its derivative with respect to logp_new. */
type TokenLoss = (logRatio: number, advantage: number, options: PolicyLossOptions) => { loss: number; grad: number; clipped: boolean; dual: boolean };

/** The log-ratio is clamped to ±20 before exp (verl does the same) so r stays finite. */
const LOG_RATIO_CLAMP = 20;

const ppoClip: TokenLoss = (logRatio, A, { clipLow, clipHigh, dualClip }) => {
  const inRange = Math.abs(logRatio) < LOG_RATIO_CLAMP;
  const r = Math.exp(Math.max(-LOG_RATIO_CLAMP, Math.min(LOG_RATIO_CLAMP, logRatio)));
  const dr = inRange ? r : 0; // dr/dlogp_new
  const l1 = -A * r;
  const l2 = -A * Math.min(Math.max(r, 1 - clipLow), 1 + clipHigh);
  let loss = l1;
  let grad = -A * dr;
  let clipped = false;
  if (l2 > l1) {
    // r lies outside the clip range on the side that would profit: the clipped constant wins
    loss = l2;
    grad = 0;
    clipped = true;
  }
  let dual = false;
  if (dualClip !== null && A < 0) {
    const l3 = -A * dualClip;
    if (loss > l3) {
      loss = l3;
      grad = 0;
      dual = true;
    }
  }
  return { loss, grad, clipped, dual };
};

const vanilla: TokenLoss = (logRatio, A) => {
  const inRange = Math.abs(logRatio) < LOG_RATIO_CLAMP;
  const r = Math.exp(Math.max(-LOG_RATIO_CLAMP, Math.min(LOG_RATIO_CLAMP, logRatio)));
  return { loss: -A * r, grad: inRange ? -A * r : 0, clipped: false, dual: false };
};

export type PolicyLoss = (input: PolicyLossInput, options: PolicyLossOptions) => PolicyLossOutput;

function fromTokenLoss(tokenLoss: TokenLoss): PolicyLoss {
  return (input, options) => {
    const { logpNew, logpOld, advantages } = input;
    assertSameShape(logpNew, logpOld, ['logp_new', 'logp_old']);
    assertSameShape(logpNew, advantages, ['logp_new', 'advantages']);
    const mask = input.mask ?? fullMask(logpNew);
    assertSameShape(logpNew, mask, ['logp_new', 'mask']);
    if (!(options.clipLow >= 0 && options.clipLow < 1)) throw new AlgoInputError(`clipLow must be in [0, 1), got ${options.clipLow}`, { field: 'clipLow' });
    if (!(options.clipHigh >= 0)) throw new AlgoInputError(`clipHigh must be >= 0, got ${options.clipHigh}`, { field: 'clipHigh' });
    if (options.dualClip !== null && !(options.dualClip > 1)) throw new AlgoInputError(`dualClip must be > 1 (or null), got ${options.dualClip}`, { field: 'dualClip' });
    const coef = aggregationWeights(mask, options);
    const perToken: Float64Array[] = [];
    const grad: Float64Array[] = [];
    let tokens = 0;
    let clippedCount = 0;
    let dualCount = 0;
    let k1 = 0;
    let k3 = 0;
    for (let i = 0; i < logpNew.length; i++) {
      assertFinite(logpNew[i], 'logp_new', i);
      assertFinite(logpOld[i], 'logp_old', i);
      assertFinite(advantages[i], 'advantages', i);
      const T = logpNew[i].length;
      const l = new Float64Array(T);
      const g = new Float64Array(T);
      for (let t = 0; t < T; t++) {
        const logRatio = logpNew[i][t] - logpOld[i][t];
        const out = tokenLoss(logRatio, advantages[i][t], options);
        l[t] = out.loss;
        g[t] = coef[i][t] * out.grad;
        if (mask[i][t] > 0) {
          tokens++;
          if (out.clipped) clippedCount++;
          if (out.dual) dualCount++;
          k1 -= logRatio;
          k3 += Math.expm1(logRatio) - logRatio;
        }
      }
      perToken.push(l);
      grad.push(g);
    }
    const n = Math.max(tokens, 1);
    return {
      loss: aggregate(perToken, coef),
      grad,
      perToken,
      clipFraction: clippedCount / n,
      dualClipFraction: dualCount / n,
      ppoKl: k1 / n,
      approxKl: k3 / n,
    };
  };
}

export const policyLosses = new Registry<PolicyLoss>('policy loss').register('ppo-clip', fromTokenLoss(ppoClip)).register('vanilla', fromTokenLoss(vanilla));

export const POLICY_LOSSES = ['ppo-clip', 'vanilla'] as const;
export type PolicyLossName = (typeof POLICY_LOSSES)[number];

export function computePolicyLoss(name: PolicyLossName, input: PolicyLossInput, options: PolicyLossOptions = DEFAULT_POLICY_LOSS): PolicyLossOutput {
  return policyLosses.get(name)(input, options);
}
