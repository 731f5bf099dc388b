/**
 * What an RL algorithm is, as data and pure functions over arrays (verl core_algos.py style):
 *   - the extra scoring passes it needs, once per rollout batch with the rollout policy
 *     (`batchPasses`: PGPO's text-only pass, VPPO's patch-blackened image) and on every
 *     mini-batch with the current policy (`lossPasses`: PAPO's masked image);
 *   - its token advantages A~_{i,t} from the group advantages and those passes (`tokenWeights`);
 *   - its extra loss terms and their gradients (`extraLoss`);
 *   - its metrics.
 * The trainer runs the passes (it owns the policy and the images); nothing here touches a model.
 */
import type { AdvantageName, GroupId } from '../advantage.ts';
import type { AggregationOptions, TokenRows } from '../aggregation.ts';
import type { DependencyEstimatorName } from '../dependency.ts';
import type { ReshapeVariant } from '../reshape.ts';

/** The config's algorithm.* section, as far as the algorithms read it. */
export interface AlgorithmSettings {
  readonly adv_estimator: AdvantageName;
  readonly adv_eps: number;
  readonly pgpo: {
    readonly variant: ReshapeVariant;
    readonly tau: number;
    readonly beta: number;
    readonly eps: number;
    readonly quantile: number;
    readonly floor: number;
    readonly estimator: DependencyEstimatorName;
  };
  readonly vppo: { readonly mask_prob: number; readonly scale_min: number; readonly top_fraction: number; readonly clamp_max: number; readonly entropy_penalty: number };
  readonly papo: { readonly mask_prob: number; readonly perception_coef: number; readonly entropy_coef_original: number; readonly entropy_coef_masked: number };
}

/** One scoring pass over every rollout of the batch. */
export interface PassSpec {
  /** `image`: the normal pass; `text-only`: every image token masked (PGPO). */
  readonly mode: 'image' | 'text-only';
  /** Score against a copy of each image with every patch blackened with probability `prob`,
   *  drawn from the step's random stream forked by `label` (VPPO, PAPO). */
  readonly blacken?: { readonly prob: number; readonly label: string };
  readonly entropy?: boolean;
  /** Full log-softmax rows (the exact dependency estimator). */
  readonly rows?: boolean;
  /** Names the log-probs in the error when they are not finite: "the <what> log-probs ...". */
  readonly what: string;
}

/** What a pass returned: per response, log-probs (and entropies, rows when asked). */
export interface PassResult {
  readonly logp: readonly Float32Array[];
  readonly entropy?: readonly Float32Array[];
  readonly rows?: readonly Float32Array[];
}

export interface BatchInput {
  /** Group of each response (prompt index in the batch). */
  readonly groups: readonly GroupId[];
  /** Rewards used for the advantages (placebo: shuffled within groups). */
  readonly rewards: readonly number[];
  /** A_i from the advantage estimator. */
  readonly advantages: Float64Array;
  /** Rollout-policy log-probs of the sampled tokens. */
  readonly logpOld: readonly Float32Array[];
  /** The results of `batchPasses`, in order. */
  readonly passes: readonly PassResult[];
  readonly vocabSize: number;
}

export interface TokenWeighting {
  /** A~_{i,t}, what the policy loss multiplies. */
  readonly tokenAdvantages: Float64Array[];
  /** S_t per response (PGPO, VPPO) or null. */
  readonly dependency: Float64Array[] | null;
  /** w~_t per response (PGPO) or null. */
  readonly weights: Float64Array[] | null;
  readonly metrics: Record<string, number | null>;
}

export interface LossInput {
  /** Current-policy log-probs and entropies of the mini-batch's responses. */
  readonly logpNew: TokenRows;
  readonly entropyNew: TokenRows | null;
  /** The results of `lossPasses` on the mini-batch, in order. */
  readonly passes: readonly PassResult[];
  readonly aggregation: AggregationOptions;
}

export interface LossTerms {
  /** Added to the policy loss. */
  readonly loss: number;
  /** dLoss/dlogp_new, added to the policy loss's gradient. */
  readonly dLogp?: TokenRows;
  /** dLoss/dH of the mini-batch's own entropies. */
  readonly dEntropy?: TokenRows;
  /** Gradients with respect to each loss pass's log-probs and entropies, in order. */
  readonly passGrads?: readonly { readonly dLogp: TokenRows; readonly dEntropy?: TokenRows }[];
  /** Per-mini-batch values, averaged over the step's updates. */
  readonly metrics: Record<string, number>;
}

export interface Algorithm {
  readonly name: string;
  /** True if its token advantages differ from A_i repeated (pg_var_uniform is then measured). */
  readonly reshapes: boolean;
  /** True if its loss needs the current policy's entropies. */
  readonly needsEntropy: boolean;
  batchPasses(s: AlgorithmSettings): readonly PassSpec[];
  tokenWeights(input: BatchInput, s: AlgorithmSettings): TokenWeighting;
  lossPasses(s: AlgorithmSettings): readonly PassSpec[];
  /** Null when it adds nothing to the policy loss. */
  extraLoss(input: LossInput, s: AlgorithmSettings): LossTerms | null;
}

/** A_i on every token of response i. */
export function repeatAdvantages(advantages: ArrayLike<number>, lengths: readonly number[]): Float64Array[] {
  return lengths.map((n, i) => new Float64Array(n).fill(advantages[i]));
}

/** The token weights of an algorithm that leaves A_i on every token (GRPO, DAPO, PAPO). */
export const uniformTokenWeights: Algorithm['tokenWeights'] = ({ advantages, logpOld }) => ({
  tokenAdvantages: repeatAdvantages(
    advantages,
    logpOld.map((r) => r.length),
  ),
  dependency: null,
  weights: null,
  metrics: {},
});
