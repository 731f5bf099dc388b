/**
 * Loss aggregation: how per-token losses l_{i,t} of a batch become one scalar. Every mode is
 * linear, loss = sum_{i,t} c_{i,t} * l_{i,t}, so we return the coefficients c and every loss
 * (policy, KL, entropy, PAPO) gets its gradient as c * dl/dx. With m the token mask, B the
 * number of responses with at least one unmasked token, L a constant length:
 *   token-mean               c = m / sum(m)                 (DAPO: every token counts equally)
 *   seq-mean-token-mean      c = m / (B * sum_t m_{i,t})    (GRPO: every response counts equally)
 *   seq-mean-token-sum       c = m / B
 *   seq-mean-token-sum-norm  c = m / (B * L)                (Dr.GRPO: L constant, e.g. max length)
 */
import { AlgoInputError } from './errors.ts';

/** Ragged per-token values: one row per response. */
export type TokenRows = readonly ArrayLike<number>[];

export const LOSS_AGGREGATIONS = ['token-mean', 'seq-mean-token-mean', 'seq-mean-token-sum', 'seq-mean-token-sum-norm'] as const;
export type LossAggregation = (typeof LOSS_AGGREGATIONS)[number];

export interface AggregationOptions {
  readonly aggregation: LossAggregation;
  /**
   * L for `seq-mean-token-sum-norm`. Dr.GRPO wants it constant through training (the maximum
   * response length); when omitted, the longest row of the batch is used, as verl does.
   */
  readonly normLength?: number;
}

/** A mask row of ones for each row of `like`. */
export function fullMask(like: TokenRows): Float64Array[] {
  return like.map((row) => new Float64Array(row.length).fill(1));
}

/** Coefficients c_{i,t} (see the module comment). Rows of zeros get zero coefficients. */
export function aggregationWeights(mask: TokenRows, options: AggregationOptions): Float64Array[] {
  const { aggregation } = options;
  const rowSums = mask.map((row) => {
    let s = 0;
    for (let t = 0; t < row.length; t++) {
      const m = row[t];
      if (!(m >= 0) || !Number.isFinite(m)) throw new AlgoInputError(`mask values must be finite and >= 0, got ${m}`, { field: 'mask', position: t });
      s += m;
    }
    return s;
  });
  const total = rowSums.reduce((a, b) => a + b, 0);
  const seqs = rowSums.filter((s) => s > 0).length;
  const maxLen = mask.reduce((a, row) => Math.max(a, row.length), 0);
  const L = options.normLength ?? maxLen;
  if (aggregation === 'seq-mean-token-sum-norm' && !(L > 0)) throw new AlgoInputError(`normLength must be > 0, got ${L}`, { field: 'normLength' });
  return mask.map((row, i) => {
    const out = new Float64Array(row.length);
    if (rowSums[i] === 0) return out;
    let scale: number;
    switch (aggregation) {
      case 'token-mean':
        scale = 1 / total;
        break;
      case 'seq-mean-token-mean':
        scale = 1 / (seqs * rowSums[i]);
        break;
      case 'seq-mean-token-sum':
        scale = 1 / seqs;
        break;
      case 'seq-mean-token-sum-norm':
        scale = 1 / (seqs * L);
        break;
      default:
        throw new AlgoInputError(`unknown loss aggregation "${aggregation as string}" (known: ${LOSS_AGGREGATIONS.join(', ')})`, { field: 'aggregation' });
    }
    for (let t = 0; t < row.length; t++) out[t] = row[t] * scale;
    return out;
  });
}

/** sum_{i,t} c_{i,t} * v_{i,t}. */
export function aggregate(values: TokenRows, coefficients: TokenRows): number {
  let s = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    const c = coefficients[i];
    for (let t = 0; t < v.length; t++) if (c[t] !== 0) s += c[t] * v[t];
  }
  return s;
}

/** Checks that every row of `rows` matches the shape of `reference` row for row. */
export function assertSameShape(reference: TokenRows, rows: TokenRows, names: [string, string]): void {
  if (reference.length !== rows.length) {
    throw new AlgoInputError(`${names[0]} has ${reference.length} responses but ${names[1]} has ${rows.length}`, { field: names[1] });
  }
  for (let i = 0; i < rows.length; i++) {
    if (reference[i].length !== rows[i].length) {
      throw new AlgoInputError(`response ${i}: ${names[0]} has ${reference[i].length} tokens but ${names[1]} has ${rows[i].length}`, {
        response: i,
        field: names[1],
      });
    }
  }
}
