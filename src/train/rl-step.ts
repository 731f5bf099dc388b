/**
 * One RL step, the paper's loop in order:
 *   1. sample B prompts x G rollouts (old-policy log-probs come with the samples);
 *   2. verifiable rewards; DAPO dynamic sampling drops all-equal groups and refills (capped);
 *   3. group advantages A_i;
 *   4. token advantages A~_{i,t}: the algorithm's extra scoring passes with the rollout policy
 *      (PGPO: text-only; VPPO: patch-blackened images), then its weighting (src/algo/algorithms);
 *   5. PPO epochs over mini-batches: current log-probs, the policy loss (worker.actor.policy_loss)
 *      + KL to the reference + entropy + the algorithm's own terms, backward, clip, optimizer.
 * All the math is src/algo's; this file only moves data between it and the policy. The
 * experiment.* switches act through experiment.ts only.
 */
import {
  algorithms,
  computeAdvantages,
  computePolicyLoss,
  dynamicSamplingFilter,
  entropyTerm,
  impliedWeightStats,
  referenceKlPenalty,
  repeatAdvantages,
  type AggregationOptions,
  type Algorithm,
  type PassSpec,
  type PolicyLossName,
  type PolicyLossOptions,
  type TokenRows,
} from '../algo/index.ts';
import type { Rng } from '../engine/rng.ts';
import type { TrainConfig } from './config.ts';
import { algorithmSettings, optimizerChoice, trainingRewards } from './experiment.ts';
import { blackenPatches } from './perturb.ts';
import { measurePgVariance } from './pg-var.ts';
import type { Policy, Rollout, Scored, ScoreItem } from '../core/policy.ts';
import type { Problem, RewardFn } from '../core/problem.ts';
import type { ProblemStream } from './problems.ts';

/** One kept rollout with everything the update and the logs need. */
export interface StepRollout {
  readonly problem: Problem;
  readonly group: number;
  readonly item: ScoreItem;
  readonly rollout: Rollout;
  readonly text: string;
  readonly reward: number;
  readonly accuracy: number;
  readonly format: number;
  readonly advantage: number;
  /** Token advantages A~_{i,t} used by the loss. */
  readonly tokenAdvantages: Float64Array;
  /** S_t (PGPO, VPPO) or null. */
  readonly dependency: Float64Array | null;
  /** w~_t (PGPO) or null. */
  readonly weights: Float64Array | null;
}

export interface StepContext {
  readonly config: TrainConfig;
  readonly policy: Policy;
  /** The frozen reference policy, when the recipe uses a KL loss. */
  readonly refPolicy: Policy | null;
  readonly reward: RewardFn;
  readonly stream: ProblemStream;
  /** Position of the next problem in the stream. */
  readonly cursor: number;
  /** Randomness of this step only (a fork of the run's root by step number). */
  readonly rng: Rng;
  readonly lr: number;
  /** Measure the policy-gradient variance (pg_var, docs/analyses.md) on this step's batch. */
  readonly measurePgVar?: boolean;
}

export interface StepResult {
  readonly cursor: number;
  readonly metrics: Record<string, number | null>;
  /** True if an update was skipped because the loss or the gradient was not finite. */
  readonly nonfinite: boolean;
  readonly nonfiniteReason: string | null;
  readonly rollouts: readonly StepRollout[];
}

interface Group {
  readonly problem: Problem;
  readonly prompt: number[];
  readonly rollouts: Rollout[];
  readonly texts: string[];
  readonly scores: Array<{ accuracy: number; format: number; reward: number }>;
}

const meanOf = (xs: readonly number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null);
const toF32 = (rows: readonly ArrayLike<number>[]) => rows.map((r) => Float32Array.from(r));
function addInto(target: Float64Array[], rows: TokenRows): void {
  target.forEach((t, i) => {
    for (let k = 0; k < t.length; k++) t[k] += rows[i][k];
  });
}
/** Index of the first row holding NaN or ±Inf, or -1. */
const firstNonFinite = (rows: readonly ArrayLike<number>[]) => rows.findIndex((row) => Array.prototype.some.call(row, (x: number) => !Number.isFinite(x)));
const zerosLike = (rows: TokenRows) => rows.map((r) => new Float64Array(r.length));

/** Samples groups until B survive the filter (or the refill cap is reached). */
async function collectGroups(ctx: StepContext): Promise<{ kept: Group[]; all: Group[]; dropped: number; cursor: number; rounds: number }> {
  const { config, policy } = ctx;
  const B = config.data.rollout_batch_size;
  const ro = config.worker.rollout;
  const filtering = config.algorithm.online_filtering;
  let cursor = ctx.cursor;
  const kept: Group[] = [];
  const all: Group[] = [];
  let dropped = 0;
  let round = 0;
  for (; ; round++) {
    const problems = Array.from({ length: B }, () => ctx.stream.at(cursor++));
    const prompts = problems.map((p) => ({ image: p.image, prompt: policy.encodePrompt(p.problem) }));
    const rollouts = await policy.sample(prompts, {
      n: ro.n,
      temperature: ro.temperature,
      topP: ro.top_p,
      maxNewTokens: ro.max_new_tokens,
      seed: ctx.rng.fork(`sample:${round}`).u32(),
      entropy: true,
    });
    const groups = problems.map((problem, i): Group => {
      const rs = rollouts.slice(i * ro.n, (i + 1) * ro.n);
      const texts = rs.map((r) => policy.decode(r.tokens));
      return { problem, prompt: prompts[i].prompt, rollouts: rs, texts, scores: texts.map((t) => ctx.reward(t, problem.answer)) };
    });
    all.push(...groups);
    if (!filtering) {
      kept.push(...groups);
      break;
    }
    const key = config.algorithm.filter_key;
    const ids = groups.flatMap((g, i) => g.rollouts.map(() => i));
    const metric = groups.flatMap((g) => g.scores.map((s) => s[key]));
    const { keptGroups, droppedGroups } = dynamicSamplingFilter(ids, metric);
    kept.push(...keptGroups.map((i) => groups[i as number]));
    dropped += droppedGroups.length;
    if (kept.length >= B || round >= config.algorithm.max_filter_rounds) break;
  }
  return { kept: kept.slice(0, B), all, dropped, cursor, rounds: round + 1 };
}

/** Splits 0..n-1 into consecutive chunks of `size` (the last may be shorter). */
function chunks(indices: readonly number[], size: number): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < indices.length; i += size) out.push(indices.slice(i, i + size));
  return out;
}

export async function rlStep(ctx: StepContext): Promise<StepResult> {
  const { config, policy } = ctx;
  const alg = config.algorithm;
  const algo = algorithms.get(alg.name);
  const settings = algorithmSettings(config);
  const t0 = performance.now();

  // 1-2. rollouts and rewards
  const sampled = await collectGroups(ctx);
  const { kept, cursor } = sampled;
  const tSampled = performance.now();
  const base = rolloutMetrics(sampled);
  const items: ScoreItem[] = kept.flatMap((g) => g.rollouts.map((r) => ({ image: g.problem.image, prompt: g.prompt, response: r.tokens })));
  const flat = kept.flatMap((g, gi) => g.rollouts.map((r, k) => ({ g, gi, r, k })));
  const logpOld = flat.map((x) => x.r.logp);
  const groups = flat.map((x) => x.gi);
  const realRewards = flat.map((x) => x.g.scores[x.k].reward);
  const rewards = trainingRewards(config, realRewards, groups, ctx.rng);

  // a step that cannot update: every group dropped with the cap reached, or a policy whose
  // weights blew up (NaN log-probs from sampling or from an extra scoring pass)
  const noUpdate = async (reason: string | null, tScore = 0): Promise<StepResult> => {
    const none = { loss: null, grad_norm: null, clip_frac: null, approx_kl: null, updates: 0, lr: ctx.lr, logit_scale: await logitScale(policy) };
    return { cursor, metrics: { ...base, ...none, time_sample: (tSampled - t0) / 1000, time_score: tScore, time_update: 0 }, nonfinite: reason !== null, nonfiniteReason: reason, rollouts: [] };
  };
  const badLogp = firstNonFinite(logpOld);
  if (badLogp >= 0) return noUpdate(`the sampling log-probs were not finite (response ${badLogp})`);
  if (items.length === 0) return noUpdate(null);

  // 3. group advantages A_i
  const advantages = computeAdvantages(alg.adv_estimator, { groups, rewards, lengths: items.map((it) => it.response.length) }, { eps: alg.adv_eps });

  // 4. token advantages A~_{i,t}: the algorithm's extra passes with the rollout policy, then its weighting
  const scored = await scorePasses(ctx, items, algo.batchPasses(settings));
  if ('bad' in scored) return noUpdate(scored.bad, (performance.now() - tSampled) / 1000);
  const weighting = algo.tokenWeights({ groups, rewards, advantages, logpOld, passes: scored.results, vocabSize: policy.vocabSize }, settings);
  const tokenAdv = weighting.tokenAdvantages;
  const tScored = performance.now();

  // 5. PPO epochs over mini-batches of prompts
  const perGroup = new Map<number, number[]>();
  groups.forEach((g, i) => perGroup.set(g, [...(perGroup.get(g) ?? []), i]));
  const batch: Batch = { items, logpOld, entropyOld: flat.map((x) => x.r.entropy ?? null), perGroup };
  const refLogp = ctx.refPolicy && alg.use_kl_loss ? (await ctx.refPolicy.score(items, { mode: 'image', temperature: config.worker.rollout.temperature })).logp : null;
  const lossViews = algo.lossPasses(settings).map((spec) => ({ spec, items: viewItems(ctx, items, spec) }));
  const analysis = ctx.measurePgVar ? await pgVarMetrics(ctx, algo, batch, tokenAdv, advantages) : {};
  const upd = await update(ctx, algo, batch, tokenAdv, refLogp, lossViews);
  const tUpdated = performance.now();

  const metrics: Record<string, number | null> = {
    ...base,
    ...weighting.metrics,
    ...analysis,
    ...upd.metrics,
    lr: ctx.lr,
    ...upd.termMetrics,
    // the policy's inverse temperature after this step's updates (model.md, the logit scale)
    logit_scale: await logitScale(policy),
    time_sample: (tSampled - t0) / 1000,
    time_score: (tScored - tSampled) / 1000,
    time_update: (tUpdated - tScored) / 1000,
  };
  if (!weighting.weights) {
    // every token carries A_i (VPPO: scaled and masked): the same weight stats, for comparison
    const w = impliedWeightStats(tokenAdv, advantages);
    Object.assign(metrics, { weight_mean: w.mean, weight_max: w.max, frac_amplified: w.fractionAmplified });
  }
  const rollouts: StepRollout[] = flat.map((x, i) => ({
    problem: x.g.problem,
    group: x.gi,
    item: items[i],
    rollout: x.r,
    text: x.g.texts[x.k],
    reward: x.g.scores[x.k].reward,
    accuracy: x.g.scores[x.k].accuracy,
    format: x.g.scores[x.k].format,
    advantage: advantages[i],
    tokenAdvantages: tokenAdv[i],
    dependency: weighting.dependency?.[i] ?? null,
    weights: weighting.weights?.[i] ?? null,
  }));
  return { cursor, metrics, nonfinite: upd.nonfiniteReason !== null, nonfiniteReason: upd.nonfiniteReason, rollouts };
}

/**
 * pg_var on this batch (docs/analyses.md); for an algorithm that reshapes the token advantages,
 * also pg_var_uniform: the same batch and chunks with A_i on every token (the GRPO/DAPO loss).
 */
async function pgVarMetrics(ctx: StepContext, algo: Algorithm, batch: Batch, tokenAdv: readonly Float64Array[], advantages: Float64Array): Promise<Record<string, number>> {
  const { config, policy } = ctx;
  if (batch.perGroup.size < 2) return {};
  const chunks = Math.min(config.experiment.pg_var_chunks, batch.perGroup.size);
  const pgBatch = { items: batch.items, logpOld: batch.logpOld, groups: [...batch.perGroup.values()] };
  const [lossName, lossOptions] = policyLossOf(config, { aggregation: 'token-mean' });
  const temperature = config.worker.rollout.temperature;
  const out: Record<string, number> = { pg_var: await measurePgVariance(policy, pgBatch, tokenAdv, chunks, lossName, lossOptions, temperature) };
  if (algo.reshapes)
    out.pg_var_uniform = await measurePgVariance(
      policy,
      pgBatch,
      repeatAdvantages(
        advantages,
        batch.items.map((it) => it.response.length),
      ),
      chunks,
      lossName,
      lossOptions,
      temperature,
    );
  return out;
}

/** Rewards, lengths and sampling counts of every sampled rollout (kept or dropped). */
function rolloutMetrics({ all, kept, dropped, rounds }: { all: Group[]; kept: Group[]; dropped: number; rounds: number }): Record<string, number | null> {
  const scores = all.flatMap((g) => g.scores);
  const rollouts = all.flatMap((g) => g.rollouts);
  return {
    reward: meanOf(scores.map((s) => s.reward)),
    accuracy: meanOf(scores.map((s) => s.accuracy)),
    format: meanOf(scores.map((s) => s.format)),
    response_length: meanOf(rollouts.map((r) => r.tokens.length)),
    truncated: meanOf(rollouts.map((r) => (r.finished ? 0 : 1))),
    entropy: meanOf(rollouts.flatMap((r) => (r.entropy ? [...r.entropy] : []))),
    sampled_groups: all.length,
    kept_groups: kept.length,
    dropped_groups: dropped,
    sampling_rounds: rounds,
  };
}

/** The configured policy loss and its options with the given aggregation. */
function policyLossOf(config: TrainConfig, agg: AggregationOptions): [PolicyLossName, PolicyLossOptions] {
  const a = config.worker.actor;
  return [a.policy_loss, { ...agg, clipLow: a.clip_ratio_low, clipHigh: a.clip_ratio_high, dualClip: a.clip_ratio_dual }];
}

/** The items a pass scores: the rollouts themselves, or with patch-blackened images. */
function viewItems(ctx: StepContext, items: readonly ScoreItem[], spec: PassSpec): ScoreItem[] {
  const b = spec.blacken;
  if (!b) return [...items];
  const rng = ctx.rng.fork(b.label);
  return items.map((it) => ({ ...it, image: blackenPatches(it.image, ctx.policy.patchSize, b.prob, rng) }));
}

/** Runs passes over every rollout in order; the first whose log-probs are not finite is reported. */
async function scorePasses(ctx: StepContext, items: readonly ScoreItem[], specs: readonly PassSpec[]): Promise<{ results: Scored[] } | { bad: string }> {
  const results: Scored[] = [];
  const temperature = ctx.config.worker.rollout.temperature;
  for (const spec of specs) results.push(await ctx.policy.score(viewItems(ctx, items, spec), { mode: spec.mode, entropy: spec.entropy, rows: spec.rows, temperature }));
  for (const [k, r] of results.entries()) {
    const bad = firstNonFinite(r.logp);
    if (bad >= 0) return { bad: `the ${specs[k].what} log-probs were not finite (response ${bad})` };
  }
  return { results };
}

interface Batch {
  readonly items: readonly ScoreItem[];
  readonly logpOld: readonly Float32Array[];
  readonly entropyOld: readonly (Float32Array | null)[];
  /** Response indices of each prompt group. */
  readonly perGroup: ReadonlyMap<number, number[]>;
}

/**
 * PPO epochs over mini-batches of prompt groups: current log-probs (the sampling ones until the
 * first update), policy loss + KL to the reference + entropy bonus + the algorithm's terms,
 * backward (also through the algorithm's loss passes), clip, optimizer step.
 */
async function update(
  ctx: StepContext,
  algo: Algorithm,
  batch: Batch,
  tokenAdv: readonly Float64Array[],
  refLogp: readonly Float32Array[] | null,
  lossViews: readonly { spec: PassSpec; items: readonly ScoreItem[] }[],
): Promise<{ metrics: Record<string, number | null>; termMetrics: Record<string, number | null>; nonfiniteReason: string | null }> {
  const { config, policy } = ctx;
  const alg = config.algorithm;
  const settings = algorithmSettings(config);
  const actor = config.worker.actor;
  const agg = { aggregation: actor.loss_agg_mode };
  const [lossName, lossOptions] = policyLossOf(config, agg);
  const groupIds = [...batch.perGroup.keys()];
  const needEntropy = actor.entropy_coef > 0 || algo.needsEntropy;
  // every pass scores the policy the rollouts were drawn from: logits / the sampling temperature
  const temperature = config.worker.rollout.temperature;
  let fresh = true; // no update since sampling: the sampling log-probs are the current ones
  const losses: number[] = [];
  const clipFracs: number[] = [];
  const kls: number[] = [];
  const gradNorms: number[] = [];
  const termMeans: Record<string, number[]> = {};
  const note = (k: string, v: number) => (termMeans[k] ??= []).push(v);
  let nonfiniteReason: string | null = null;
  let updates = 0;
  for (let epoch = 0; epoch < actor.ppo_epochs; epoch++) {
    const order = epoch === 0 ? groupIds : ctx.rng.fork(`epoch-order:${epoch}`).shuffle([...groupIds]);
    for (const mbGroups of chunks(order, actor.global_batch_size)) {
      const idx = mbGroups.flatMap((g) => batch.perGroup.get(g)!);
      const mbItems = idx.map((i) => batch.items[i]);
      let logpNew: Float32Array[];
      let entNew: Float32Array[] | null = null;
      if (fresh) {
        logpNew = idx.map((i) => batch.logpOld[i]);
        if (needEntropy) entNew = idx.map((i) => batch.entropyOld[i]!);
      } else {
        const s = await policy.score(mbItems, { mode: 'image', entropy: needEntropy, temperature });
        logpNew = s.logp;
        entNew = s.entropy ?? null;
      }
      if (firstNonFinite(logpNew) >= 0) {
        nonfiniteReason = 'the current log-probs were not finite';
        continue;
      }
      const pl = computePolicyLoss(lossName, { logpNew, logpOld: idx.map((i) => batch.logpOld[i]), advantages: idx.map((i) => tokenAdv[i]) }, lossOptions);
      let loss = pl.loss;
      const dLogp = pl.grad.map((r) => Float64Array.from(r));
      let dEnt: Float64Array[] | null = null;
      if (refLogp) {
        const kl = referenceKlPenalty(
          logpNew,
          idx.map((i) => refLogp[i]),
          { ...agg, estimator: alg.kl_penalty, coef: alg.kl_coef, clampMax: alg.kl_clamp },
        );
        loss += kl.loss;
        addInto(dLogp, kl.grad);
        note('kl_ref', kl.mean);
      }
      if (actor.entropy_coef > 0 && entNew) {
        const et = entropyTerm(entNew, -actor.entropy_coef, agg);
        loss += et.loss;
        dEnt = et.grad;
      }
      const views = lossViews.map((v) => ({ spec: v.spec, items: idx.map((i) => v.items[i]) }));
      const passes: Scored[] = [];
      for (const v of views) passes.push(await policy.score(v.items, { mode: v.spec.mode, entropy: v.spec.entropy, rows: v.spec.rows, temperature }));
      const extra = algo.extraLoss({ logpNew, entropyNew: entNew, passes, aggregation: agg }, settings);
      if (extra) {
        loss += extra.loss;
        if (extra.dLogp) addInto(dLogp, extra.dLogp);
        if (extra.dEntropy) {
          dEnt = dEnt ?? zerosLike(extra.dEntropy);
          addInto(dEnt, extra.dEntropy);
        }
        for (const [k, v] of Object.entries(extra.metrics)) note(k, v);
      }
      if (!Number.isFinite(loss)) {
        nonfiniteReason = `the loss was ${loss}`;
        policy.zeroGrad();
        continue;
      }
      await policy.backward(mbItems, toF32(dLogp), { mode: 'image', dEntropy: dEnt ? toF32(dEnt) : undefined, temperature });
      for (const [k, g] of (extra?.passGrads ?? []).entries()) {
        await policy.backward(views[k].items, toF32(g.dLogp), { mode: views[k].spec.mode, dEntropy: g.dEntropy ? toF32(g.dEntropy) : undefined, temperature });
      }
      const o = actor.optim;
      // the logit scale's own rate follows the same warmup and decay as lr; a rate of 0 freezes it
      // (its gradient then stays out of the clipping norm)
      const lrFor = policy.logitScale ? { [policy.logitScale]: o.logit_scale_lr * (ctx.lr / o.lr) } : undefined;
      const res = await policy.step({
        lr: ctx.lr,
        lrFor,
        weightDecay: o.weight_decay,
        betas: o.betas,
        eps: o.eps,
        ...optimizerChoice(config),
        maxGradNorm: actor.max_grad_norm,
      });
      gradNorms.push(res.gradNorm);
      if (!res.applied) {
        nonfiniteReason = `the gradient norm was ${res.gradNorm}`;
        continue;
      }
      fresh = false;
      updates++;
      losses.push(loss);
      clipFracs.push(pl.clipFraction);
      kls.push(pl.approxKl);
    }
  }
  return {
    metrics: { loss: meanOf(losses), grad_norm: meanOf(gradNorms.filter(Number.isFinite)), clip_frac: meanOf(clipFracs), approx_kl: meanOf(kls), updates },
    termMetrics: Object.fromEntries(Object.entries(termMeans).map(([k, v]) => [k, meanOf(v)])),
    nonfiniteReason,
  };
}

/** The policy's learned inverse temperature now (model.md, the logit scale); null without one. */
async function logitScale(policy: Policy): Promise<number | null> {
  return policy.logitScaleValue ? policy.logitScaleValue() : null;
}
