/**
 * PGPO over a batch of rollouts, model-free: rewards -> group advantages A_i; per-token
 * dependencies S_t (given, or estimated from log-probs with and without the image) -> weights
 * w~_t -> token advantages A~_{i,t} = A_i * w~_t. This is what the trainer calls after scoring
 * and what `pgpo reshape` runs over rollout files from any other trainer.
 */
import { computeAdvantages, DEFAULT_ADVANTAGE, groupIndices, type AdvantageName, type GroupId } from './advantage.ts';
import { estimateDependency } from './dependency.ts';
import { AlgoInputError, assertFinite } from './errors.ts';
import { dependencyStats, weightStats, type DependencyStats, type WeightStats } from './metrics.ts';
import { DEFAULT_RESHAPE, reshapeWeights, type ReshapeFallback, type ReshapeOptions, type ReshapeVariant } from './reshape.ts';

export interface RolloutRecord {
  readonly group: GroupId;
  readonly reward: number;
  /** S_t per token; if absent, estimated from logpImage and logpText. */
  readonly dependency?: ArrayLike<number>;
  /** log pi(x_t | s_t, I) of each generated token. */
  readonly logpImage?: ArrayLike<number>;
  /** log pi(x_t | s_t) with attention to the image masked. */
  readonly logpText?: ArrayLike<number>;
}

export interface ReshapeBatchConfig {
  readonly variant: ReshapeVariant;
  readonly advantage: AdvantageName;
  readonly estimator: 'k1' | 'k2' | 'k3';
  readonly reshape: ReshapeOptions;
  /** eps added to the group std by `grpo`. */
  readonly advantageEps: number;
}

export const DEFAULT_RESHAPE_BATCH: ReshapeBatchConfig = Object.freeze({
  variant: 'pgpo',
  advantage: 'grpo',
  estimator: 'k3',
  reshape: DEFAULT_RESHAPE,
  advantageEps: DEFAULT_ADVANTAGE.eps,
});

export interface ReshapedRollout {
  /** A_i, the sequence-level advantage. */
  readonly advantage: number;
  /** S_t. */
  readonly dependency: Float64Array;
  /** S~_t = log(1 + S_t). */
  readonly compressed: Float64Array;
  /** I_t. */
  readonly importance: Float64Array;
  /** w~_t. */
  readonly weights: Float64Array;
  /** A~_{i,t} = A_i * w~_t. */
  readonly tokenAdvantages: Float64Array;
  readonly fallback: ReshapeFallback | null;
}

export interface ReshapeBatchSummary {
  readonly responses: number;
  readonly groups: number;
  readonly tokens: number;
  /** Groups whose rewards were all equal (every advantage 0). */
  readonly zeroAdvantageGroups: number;
  /** Responses that fell back to weights 1 (all-equal dependencies, length 1, zero sum). */
  readonly fallbacks: number;
  readonly dependency: DependencyStats;
  readonly weights: WeightStats;
}

export interface ReshapeBatchResult {
  readonly rollouts: ReshapedRollout[];
  readonly summary: ReshapeBatchSummary;
}

/** The dependency row of one record, validated (or estimated from its log-probs). */
export function recordDependency(record: RolloutRecord, estimator: ReshapeBatchConfig['estimator'], index: number): Float64Array {
  if (record.dependency !== undefined) {
    assertFinite(record.dependency, 'dependency', index);
    return Float64Array.from(record.dependency);
  }
  if (record.logpImage === undefined || record.logpText === undefined) {
    throw new AlgoInputError(`response ${index} has neither "dependency" nor both "logp_image" and "logp_text"`, { response: index, field: 'dependency' });
  }
  return estimateDependency(estimator, record.logpImage, record.logpText, index);
}

export function reshapeBatch(records: readonly RolloutRecord[], config: ReshapeBatchConfig = DEFAULT_RESHAPE_BATCH): ReshapeBatchResult {
  const dependencies = records.map((r, i) => {
    const s = recordDependency(r, config.estimator, i);
    if (s.length === 0) throw new AlgoInputError(`response ${i} has no tokens: a zero-length response cannot be reshaped`, { response: i, field: 'dependency' });
    return s;
  });
  const groups = records.map((r) => r.group);
  const advantages = computeAdvantages(config.advantage, { groups, rewards: records.map((r) => r.reward), lengths: dependencies.map((d) => d.length) }, { eps: config.advantageEps });
  const rollouts = dependencies.map((s, i): ReshapedRollout => {
    const w = reshapeWeights(config.variant, s, config.reshape, i);
    const A = advantages[i];
    return {
      advantage: A,
      dependency: s,
      compressed: w.compressed,
      importance: w.importance,
      weights: w.weights,
      tokenAdvantages: w.weights.map((x) => A * x),
      fallback: w.fallback,
    };
  });
  let zeroAdvantageGroups = 0;
  const byGroup = groupIndices(groups);
  for (const idx of byGroup.values()) if (idx.every((i) => advantages[i] === 0)) zeroAdvantageGroups++;
  return {
    rollouts,
    summary: {
      responses: records.length,
      groups: byGroup.size,
      tokens: dependencies.reduce((a, d) => a + d.length, 0),
      zeroAdvantageGroups,
      fallbacks: rollouts.filter((r) => r.fallback !== null).length,
      dependency: dependencyStats(dependencies),
      weights: weightStats(rollouts.map((r) => r.weights)),
    },
  };
}
