/**
 * The policy-gradient variance of one rollout batch (the `pg_var` metric, docs/analyses.md):
 * the batch's prompt groups split into M chunks, one surrogate-loss gradient per chunk at the
 * rollout policy (ratio 1), the estimator of src/algo/pg-variance.ts over those gradients. Leaves
 * the policy's gradient buffer empty.
 */
import { chunkRanges, computePolicyLoss, GradientVarianceAccumulator, type PolicyLossName, type PolicyLossOptions } from '../algo/index.ts';
import type { Policy, ScoreItem } from '../core/policy.ts';

export interface PgVarBatch {
  readonly items: readonly ScoreItem[];
  readonly logpOld: readonly Float32Array[];
  /** Response indices of each prompt group, groups in batch order. */
  readonly groups: readonly (readonly number[])[];
}

/** Relative variance of the M chunk gradients of `loss` with token advantages `advantages`. */
export async function measurePgVariance(
  policy: Policy,
  batch: PgVarBatch,
  advantages: readonly Float64Array[],
  chunks: number,
  loss: PolicyLossName,
  options: PolicyLossOptions,
  temperature = 1,
): Promise<number> {
  const acc = new GradientVarianceAccumulator();
  for (const [a, b] of chunkRanges(batch.groups.length, chunks)) {
    const idx = batch.groups.slice(a, b).flat();
    const lo = idx.map((i) => batch.logpOld[i]);
    const pl = computePolicyLoss(loss, { logpNew: lo, logpOld: lo, advantages: idx.map((i) => advantages[i]) }, options);
    await policy.backward(
      idx.map((i) => batch.items[i]),
      pl.grad.map((r) => Float32Array.from(r)),
      { mode: 'image', temperature },
    );
    acc.add(await policy.gradVector());
    policy.zeroGrad();
  }
  return acc.result().relative;
}
