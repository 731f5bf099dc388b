/**
 * PAPO (arXiv 2507.06448), the perception-loss baseline: advantages are unchanged; the loss
 * gains an "implicit perception" term that MAXIMISES the KL between the policy on the original
 * image and on a patch-masked copy, and a double-entropy term that keeps both branches from
 * exploding (the "loss hacking" PAPO reports):
 *   L = L_pg - gamma * agg(KL_prcp) + eta1 * agg(H_orig) + eta2 * agg(H_masked)
 *   KL_prcp_t = e^d - d - 1,  d = logp_masked - logp_orig   (k3; gradients flow into both)
 *   dKL/dlogp_masked = e^d - 1,  dKL/dlogp_orig = -(e^d - 1)
 */
import { aggregate, aggregationWeights, assertSameShape, fullMask, type AggregationOptions, type TokenRows } from '../aggregation.ts';
import { entropyTerm } from '../entropy.ts';
import { assertFinite } from '../errors.ts';

export interface PapoOptions {
  /** gamma: weight of the perception KL (0.01 for PAPO on DAPO). */
  readonly perceptionCoef: number;
  /** eta1, eta2: weights of the entropy of the original and masked branches (0.03 each). */
  readonly entropyCoefOriginal: number;
  readonly entropyCoefMasked: number;
}

const D_CLAMP = 20;

export interface PapoPerceptionOutput {
  /** -gamma * agg(KL_prcp): negative, since the KL is maximised. */
  readonly loss: number;
  /** Mean KL_prcp over unmasked tokens. */
  readonly klMean: number;
  readonly gradOriginal: Float64Array[];
  readonly gradMasked: Float64Array[];
}

export function papoPerceptionLoss(logpOriginal: TokenRows, logpMasked: TokenRows, coef: number, options: AggregationOptions, mask?: TokenRows): PapoPerceptionOutput {
  assertSameShape(logpOriginal, logpMasked, ['logp_original', 'logp_masked']);
  const m = mask ?? fullMask(logpOriginal);
  const c = aggregationWeights(m, options);
  const kl: Float64Array[] = [];
  const gradOriginal: Float64Array[] = [];
  const gradMasked: Float64Array[] = [];
  let s = 0;
  let n = 0;
  logpOriginal.forEach((row, i) => {
    assertFinite(row, 'logp_original', i);
    assertFinite(logpMasked[i], 'logp_masked', i);
    const v = new Float64Array(row.length);
    const go = new Float64Array(row.length);
    const gm = new Float64Array(row.length);
    for (let t = 0; t < row.length; t++) {
      const raw = logpMasked[i][t] - row[t];
      const d = Math.max(-D_CLAMP, Math.min(D_CLAMP, raw));
      v[t] = Math.expm1(d) - d;
      const dk = Math.abs(raw) < D_CLAMP ? Math.expm1(d) : 0;
      // the loss is -coef * agg(KL): its gradient is -coef * c * dKL/dx
      gm[t] = -coef * c[i][t] * dk;
      go[t] = coef * c[i][t] * dk;
      if (m[i][t] > 0) ((s += v[t]), n++);
    }
    kl.push(v);
    gradOriginal.push(go);
    gradMasked.push(gm);
  });
  return { loss: -coef * aggregate(kl, c), klMean: n ? s / n : 0, gradOriginal, gradMasked };
}

export interface PapoEntropyOutput {
  readonly loss: number;
  readonly entropyOriginalMean: number;
  readonly entropyMaskedMean: number;
  /** dLoss/dH per token for each branch. */
  readonly gradEntropyOriginal: Float64Array[];
  readonly gradEntropyMasked: Float64Array[];
}

export function papoDoubleEntropy(entropyOriginal: TokenRows, entropyMasked: TokenRows, options: PapoOptions, aggregation: AggregationOptions, mask?: TokenRows): PapoEntropyOutput {
  assertSameShape(entropyOriginal, entropyMasked, ['entropy_original', 'entropy_masked']);
  const a = entropyTerm(entropyOriginal, options.entropyCoefOriginal, aggregation, mask);
  const b = entropyTerm(entropyMasked, options.entropyCoefMasked, aggregation, mask);
  return {
    loss: a.loss + b.loss,
    entropyOriginalMean: a.mean,
    entropyMaskedMean: b.mean,
    gradEntropyOriginal: a.grad,
    gradEntropyMasked: b.grad,
  };
}
