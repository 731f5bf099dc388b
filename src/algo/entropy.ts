/**
 * Entropy of the policy's next-token distribution from a row of logits:
 *   H = -sum_j p_j log p_j = logsumexp(x) - sum_j p_j x_j
 * (the second form needs one exp per entry and is stable for any logit scale), and an
 * entropy term (bonus or penalty) aggregated like any other per-token loss.
 */
import { aggregate, aggregationWeights, assertSameShape, fullMask, type AggregationOptions, type TokenRows } from './aggregation.ts';
import type { TokenTermOutput } from './kl.ts';
import { logSumExp } from './numeric.ts';

export function entropyFromLogits(row: ArrayLike<number>): number {
  const lse = logSumExp(row);
  let s = 0;
  for (let j = 0; j < row.length; j++) {
    const logp = row[j] - lse;
    if (logp === -Infinity) continue; // 0 log 0 = 0
    s -= Math.exp(logp) * logp;
  }
  return Math.max(0, s);
}

/** Entropies of each row of a flat row-major [T, V] logit matrix. */
export function entropyRows(logits: ArrayLike<number>, vocab: number): Float64Array {
  if (!Number.isInteger(vocab) || vocab <= 0 || logits.length % vocab !== 0) throw new Error(`entropyRows: ${logits.length} values is not T x ${vocab}`);
  const T = logits.length / vocab;
  const out = new Float64Array(T);
  const rows = Float64Array.from(logits);
  for (let t = 0; t < T; t++) out[t] = entropyFromLogits(rows.subarray(t * vocab, (t + 1) * vocab));
  return out;
}

/**
 * coef * agg(H): added to the loss, a positive coef penalises entropy (PAPO's double-entropy
 * terms); a negative coef is an entropy bonus. Gradient is with respect to each token's H.
 */
export function entropyTerm(entropy: TokenRows, coef: number, options: AggregationOptions, mask?: TokenRows): TokenTermOutput {
  const m = mask ?? fullMask(entropy);
  assertSameShape(entropy, m, ['entropy', 'mask']);
  const c = aggregationWeights(m, options);
  let s = 0;
  let n = 0;
  entropy.forEach((row, i) => {
    for (let t = 0; t < row.length; t++) if (m[i][t] > 0) ((s += row[t]), n++);
  });
  return { loss: coef * aggregate(entropy, c), mean: n ? s / n : 0, grad: c.map((row) => row.map((x) => coef * x)) };
}
