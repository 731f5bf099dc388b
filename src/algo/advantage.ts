/**
 * Sequence-level advantages from scalar rewards, by name, and DAPO's dynamic-sampling filter.
 * Group estimators compare each response with the others sampled for the same prompt:
 *   grpo:    A_i = (R_i - mean_g R) / (std_g R + eps)   (unbiased std, as torch.std)
 *   drgrpo:  A_i = R_i - mean_g R                       (Dr.GRPO: no std division)
 *   rloo:    A_i = R_i - mean_{j != i in g} R_j         (leave-one-out baseline)
 *   reinforce++-baseline: (R_i - mean_g R) / (token-weighted std over the batch)
 * A group whose rewards are all equal (or of size 1) carries no signal: its advantages are 0.
 *   reinforce++: (R_i - mean) / std over the batch's tokens (batch-relative, no group
 *   baseline, so the all-equal rule does not apply to it).
 */
import { AlgoInputError, assertFinite } from './errors.ts';
import { mean, stdUnbiased } from './numeric.ts';
import { Registry } from './registry.ts';

export type GroupId = string | number;

export interface AdvantageInput {
  /** The prompt group of each response; responses of one prompt share an id. */
  readonly groups: readonly GroupId[];
  /** Scalar reward of each response. */
  readonly rewards: ArrayLike<number>;
  /** Response lengths in tokens (batch-normalised estimators weight by them; default 1 each). */
  readonly lengths?: ArrayLike<number>;
}

export interface AdvantageOptions {
  /** Added to the std in `grpo` (1e-6 as EasyR1/verl/TRL). */
  readonly eps: number;
}

export const DEFAULT_ADVANTAGE: AdvantageOptions = Object.freeze({ eps: 1e-6 });

export type AdvantageEstimator = (input: AdvantageInput, options: AdvantageOptions) => Float64Array;

/** Indices of responses per group, in first-seen order of the groups. */
export function groupIndices(groups: readonly GroupId[]): Map<GroupId, number[]> {
  const byGroup = new Map<GroupId, number[]>();
  groups.forEach((g, i) => {
    const list = byGroup.get(g);
    if (list) list.push(i);
    else byGroup.set(g, [i]);
  });
  return byGroup;
}

function allEqual(values: readonly number[]): boolean {
  return values.every((v) => v === values[0]);
}

/** Applies `perGroup` to each group's rewards; all-equal groups (and singletons) get exactly 0. */
function groupRelative(perGroup: (rewards: number[], options: AdvantageOptions) => number[]): AdvantageEstimator {
  return ({ groups, rewards }, options) => {
    const out = new Float64Array(rewards.length);
    for (const idx of groupIndices(groups).values()) {
      const r = idx.map((i) => rewards[i]);
      if (r.length < 2 || allEqual(r)) continue; // stays 0
      const a = perGroup(r, options);
      idx.forEach((i, k) => (out[i] = a[k]));
    }
    return out;
  };
}

/** Token-weighted statistics of per-response values: each response counts once per token. */
function tokenMoments(values: ArrayLike<number>, lengths: ArrayLike<number> | undefined): { mean: number; std: number; tokens: number } {
  const len = (i: number) => (lengths ? lengths[i] : 1);
  let tokens = 0;
  let s = 0;
  for (let i = 0; i < values.length; i++) {
    tokens += len(i);
    s += values[i] * len(i);
  }
  if (tokens < 2) return { mean: tokens ? s / tokens : 0, std: NaN, tokens };
  const m = s / tokens;
  let ss = 0;
  for (let i = 0; i < values.length; i++) ss += len(i) * (values[i] - m) ** 2;
  // unbiased variance, and sqrt(var + 1e-8) as verl's masked_whiten
  return { mean: m, std: Math.sqrt(ss / (tokens - 1) + 1e-8), tokens };
}

export const advantageEstimators = new Registry<AdvantageEstimator>('advantage estimator')
  .register(
    'grpo',
    groupRelative((r, { eps }) => {
      const m = mean(r);
      const s = stdUnbiased(r);
      return r.map((x) => (x - m) / (s + eps));
    }),
  )
  .register(
    'drgrpo',
    groupRelative((r) => {
      const m = mean(r);
      return r.map((x) => x - m);
    }),
  )
  .register(
    'rloo',
    groupRelative((r) => {
      const total = r.reduce((a, b) => a + b, 0);
      return r.map((x) => x - (total - x) / (r.length - 1));
    }),
  )
  // REINFORCE++: whiten the raw rewards over the batch's tokens (x - mean) / std.
  .register('reinforce++', ({ rewards, lengths }) => {
    const { mean: m, std, tokens } = tokenMoments(rewards, lengths);
    const out = new Float64Array(rewards.length);
    if (tokens < 2) return out;
    for (let i = 0; i < out.length; i++) out[i] = (rewards[i] - m) / std;
    return out;
  })
  // REINFORCE++ with a group baseline: centre by the group mean, then divide by the batch's
  // token-weighted std. Unlike verl we do not re-centre after the group baseline, so all-equal
  // groups keep advantage 0 and every group still sums to 0.
  .register('reinforce++-baseline', (input, options) => {
    const centred = advantageEstimators.get('drgrpo')(input, options);
    const { std, tokens } = tokenMoments(centred, input.lengths);
    if (tokens < 2) return new Float64Array(centred.length);
    return centred.map((x) => x / std);
  });

export const ADVANTAGE_ESTIMATORS = ['grpo', 'drgrpo', 'rloo', 'reinforce++', 'reinforce++-baseline'] as const;
export type AdvantageName = (typeof ADVANTAGE_ESTIMATORS)[number];

/** Validated entry point. */
export function computeAdvantages(name: AdvantageName, input: AdvantageInput, options: AdvantageOptions = DEFAULT_ADVANTAGE): Float64Array {
  if (input.groups.length !== input.rewards.length) {
    throw new AlgoInputError(`${input.groups.length} group ids but ${input.rewards.length} rewards`, { field: 'reward' });
  }
  if (input.lengths && input.lengths.length !== input.rewards.length) {
    throw new AlgoInputError(`${input.lengths.length} lengths but ${input.rewards.length} rewards`, { field: 'lengths' });
  }
  for (let i = 0; i < input.rewards.length; i++) {
    if (!Number.isFinite(input.rewards[i])) {
      throw new AlgoInputError(`reward of response ${i} is ${input.rewards[i]}`, { response: i, field: 'reward' });
    }
  }
  if (input.lengths) assertFinite(input.lengths, 'lengths');
  return advantageEstimators.get(name)(input, options);
}

export interface DynamicSamplingResult {
  /** Per response: true if its group is kept. */
  readonly keep: boolean[];
  readonly keptGroups: GroupId[];
  /** Groups dropped because every response scored the same value (no learning signal). */
  readonly droppedGroups: Array<{ readonly group: GroupId; readonly value: number; readonly size: number }>;
}

/**
 * DAPO dynamic sampling: drop groups whose metric (DAPO uses accuracy; rewards work too) is
 * the same for every response. The caller refills the batch with fresh prompts.
 */
export function dynamicSamplingFilter(groups: readonly GroupId[], metric: ArrayLike<number>): DynamicSamplingResult {
  if (groups.length !== metric.length) throw new AlgoInputError(`${groups.length} group ids but ${metric.length} metric values`, { field: 'metric' });
  const keep = new Array<boolean>(groups.length).fill(false);
  const keptGroups: GroupId[] = [];
  const droppedGroups: Array<{ group: GroupId; value: number; size: number }> = [];
  for (const [group, idx] of groupIndices(groups)) {
    const values = idx.map((i) => metric[i]);
    if (allEqual(values)) droppedGroups.push({ group, value: values[0], size: idx.length });
    else {
      keptGroups.push(group);
      for (const i of idx) keep[i] = true;
    }
  }
  return { keep, keptGroups, droppedGroups };
}
