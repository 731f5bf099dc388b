/**
 * One RL step, the paper's loop in order:
 *   1. sample B prompts x G rollouts (old-policy log-probs come with the samples);
 *   2. verifiable rewards; DAPO dynamic sampling drops all-equal groups and refills (capped);
 *   3. group advantages A_i;
 *   4. token weights: PGPO scores the rollouts once more with the image masked (text-only pass)
 *      and reshapes A_i into A~_{i,t}; VPPO scores against patch-blackened images; GRPO, DAPO
 *      and PAPO keep A_i on every token;
 *   5. PPO epochs over mini-batches: current log-probs, clipped surrogate (+ KL to the reference,
 *      entropy, VPPO's and PAPO's extra terms), backward, clip, AdamW.
 * All the math is src/algo's; this file only moves data between it and the policy.
 */
import {
  computeAdvantages,
  computePolicyLoss,
  dependencyStats,
  dynamicSamplingFilter,
  entropyTerm,
  exactDependency,
  papoDoubleEntropy,
  papoPerceptionLoss,
  referenceKlPenalty,
  reshapeBatch,
  shuffleWithinGroups,
  vppoDependency,
  vppoEntropyPenalty,
  vppoTokenAdvantages,
  weightStats,
  type TokenRows,
} from '../algo/index.ts';
import { chunkRanges, GradientVarianceAccumulator } from '../algo/pg-variance.ts';
import type { RgbImage } from '../data/image.ts';
import type { Rng } from '../engine/rng.ts';
import type { TrainConfig } from './config.ts';
import { blackenPatches } from './perturb.ts';
import type { Policy, Rollout, ScoreItem } from './policy.ts';
import type { Problem, ProblemStream, RewardFn } from './problems.ts';

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
  const actor = config.worker.actor;
  const t0 = performance.now();

  // 1-2. rollouts and rewards
  const { kept, all, dropped, cursor, rounds } = await collectGroups(ctx);
  const tSampled = performance.now();
  const allScores = all.flatMap((g) => g.scores);
  const allRollouts = all.flatMap((g) => g.rollouts);
  const base: Record<string, number | null> = {
    reward: meanOf(allScores.map((s) => s.reward)),
    accuracy: meanOf(allScores.map((s) => s.accuracy)),
    format: meanOf(allScores.map((s) => s.format)),
    response_length: meanOf(allRollouts.map((r) => r.tokens.length)),
    truncated: meanOf(allRollouts.map((r) => (r.finished ? 0 : 1))),
    entropy: meanOf(allRollouts.flatMap((r) => (r.entropy ? [...r.entropy] : []))),
    sampled_groups: all.length,
    kept_groups: kept.length,
    dropped_groups: dropped,
    sampling_rounds: rounds,
  };

  const items: ScoreItem[] = kept.flatMap((g) => g.rollouts.map((r) => ({ image: g.problem.image, prompt: g.prompt, response: r.tokens })));
  const flat = kept.flatMap((g, gi) => g.rollouts.map((r, k) => ({ g, gi, r, k })));
  const logpOld = flat.map((x) => x.r.logp);
  const groups = flat.map((x) => x.gi);
  const realRewards = flat.map((x) => x.g.scores[x.k].reward);
  // the placebo control trains on rewards shuffled within each group; everything logged stays real
  const placeboRng = alg.placebo ? ctx.rng.fork('placebo') : null;
  const rewards = placeboRng ? shuffleWithinGroups(realRewards, groups, (n) => placeboRng.int(n)) : realRewards;

  // a step that cannot update: every group dropped with the cap reached, or a policy whose
  // weights blew up (NaN log-probs from sampling or from an extra scoring pass)
  const noUpdate = async (reason: string | null, tScore = 0): Promise<StepResult> => {
    const none = { loss: null, grad_norm: null, clip_frac: null, approx_kl: null, updates: 0, lr: ctx.lr, logit_scale: await logitScale(policy) };
    return { cursor, metrics: { ...base, ...none, time_sample: (tSampled - t0) / 1000, time_score: tScore, time_update: 0 }, nonfinite: reason !== null, nonfiniteReason: reason, rollouts: [] };
  };
  const badLogp = firstNonFinite(logpOld);
  if (badLogp >= 0) return noUpdate(`the sampling log-probs were not finite (response ${badLogp})`);
  if (items.length === 0) return noUpdate(null);

  // 3-4. advantages and token weights
  const lengths = items.map((it) => it.response.length);
  const advantages = computeAdvantages(alg.adv_estimator, { groups, rewards, lengths }, { eps: alg.adv_eps });
  let tokenAdv: Float64Array[] = items.map((it, i) => new Float64Array(it.response.length).fill(advantages[i]));
  let dependency: Float64Array[] | null = null;
  let weights: Float64Array[] | null = null;
  const extra: Record<string, number | null> = {};
  if (alg.name === 'pgpo') {
    const pg = alg.pgpo;
    let records;
    if (pg.estimator === 'exact') {
      const img = await policy.score(items, { mode: 'image', rows: true });
      const txt = await policy.score(items, { mode: 'text-only', rows: true });
      const bad = Math.max(firstNonFinite(img.logp), firstNonFinite(txt.logp));
      if (bad >= 0) return noUpdate(`the scoring log-probs were not finite (response ${bad})`, (performance.now() - tSampled) / 1000);
      records = items.map((_, i) => ({ group: groups[i], reward: rewards[i], dependency: exactDependency(img.rows![i], txt.rows![i], policy.vocabSize) }));
    } else {
      const txt = await policy.score(items, { mode: 'text-only' });
      const bad = firstNonFinite(txt.logp);
      if (bad >= 0) return noUpdate(`the text-only log-probs were not finite (response ${bad})`, (performance.now() - tSampled) / 1000);
      records = items.map((_, i) => ({ group: groups[i], reward: rewards[i], logpImage: logpOld[i], logpText: txt.logp[i] }));
    }
    const res = reshapeBatch(records, {
      variant: pg.variant,
      advantage: alg.adv_estimator,
      estimator: pg.estimator === 'exact' ? 'k3' : pg.estimator,
      reshape: { tau: pg.tau, beta: pg.beta, eps: pg.eps, quantile: pg.quantile, floor: pg.floor },
      advantageEps: alg.adv_eps,
    });
    tokenAdv = res.rollouts.map((r) => r.tokenAdvantages);
    dependency = res.rollouts.map((r) => r.dependency);
    weights = res.rollouts.map((r) => r.weights);
    const ds = res.summary.dependency;
    const ws = res.summary.weights;
    const wAll = weights.flatMap((w) => [...w]);
    const wMean = ws.mean;
    Object.assign(extra, {
      dep_mean: ds.mean,
      dep_max: ds.max,
      log1p_dep_mean: ds.meanCompressed,
      dep_top10_share: ds.top10Share,
      dep_gini: ds.gini,
      weight_mean: wMean,
      weight_std: Math.sqrt(wAll.reduce((a, w) => a + (w - wMean) ** 2, 0) / wAll.length),
      weight_min: ws.min,
      weight_max: ws.max,
      frac_amplified: ws.fractionAmplified,
      frac_suppressed: ws.fractionSuppressed,
      reshape_fallbacks: res.summary.fallbacks,
    });
  } else if (alg.name === 'vppo') {
    const rng = ctx.rng.fork('vppo-mask');
    const perturbed = items.map((it) => ({ ...it, image: blackenPatches(it.image, policy.patchSize, alg.vppo.mask_prob, rng) }));
    const pert = await policy.score(perturbed, { mode: 'image' });
    const bad = firstNonFinite(pert.logp);
    if (bad >= 0) return noUpdate(`the perturbed-image log-probs were not finite (response ${bad})`, (performance.now() - tSampled) / 1000);
    dependency = items.map((_, i) => vppoDependency(logpOld[i], pert.logp[i], alg.vppo.clamp_max));
    const v = vppoTokenAdvantages(advantages, dependency, { scaleMin: alg.vppo.scale_min, topFraction: alg.vppo.top_fraction, clampMax: alg.vppo.clamp_max });
    tokenAdv = v.tokenAdvantages;
    const ds = dependencyStats(dependency);
    Object.assign(extra, { dep_mean: ds.mean, dep_top10_share: ds.top10Share, dep_gini: ds.gini, log1p_dep_mean: ds.meanCompressed, vppo_factor_mean: meanOf([...v.factors]) });
  }
  const tScored = performance.now();

  // 5. PPO epochs over mini-batches of prompts
  const agg = { aggregation: actor.loss_agg_mode };
  const refLogp = ctx.refPolicy && alg.use_kl_loss ? (await ctx.refPolicy.score(items, { mode: 'image' })).logp : null;
  const papoRng = ctx.rng.fork('papo-mask');
  const masked = alg.name === 'papo' ? items.map((it) => ({ ...it, image: blackenPatches(it.image, policy.patchSize, alg.papo.mask_prob, papoRng) as RgbImage })) : null;
  const perGroup = new Map<number, number[]>();
  groups.forEach((g, i) => perGroup.set(g, [...(perGroup.get(g) ?? []), i]));
  const groupIds = [...perGroup.keys()];
  const needEntropy = actor.entropy_coef > 0 || alg.name === 'papo';
  if (ctx.measurePgVar && groupIds.length >= 2) {
    const m = Math.min(config.trainer.pg_var_chunks, groupIds.length);
    const measure = async (adv: readonly Float64Array[]) => {
      const acc = new GradientVarianceAccumulator();
      for (const [a, b] of chunkRanges(groupIds.length, m)) {
        const idx = groupIds.slice(a, b).flatMap((g) => perGroup.get(g)!);
        const lo = idx.map((i) => logpOld[i]);
        const pl = computePolicyLoss('ppo-clip', { logpNew: lo, logpOld: lo, advantages: idx.map((i) => adv[i]) }, { aggregation: 'token-mean', clipLow: actor.clip_ratio_low, clipHigh: actor.clip_ratio_high, dualClip: actor.clip_ratio_dual });
        await policy.backward(idx.map((i) => items[i]), toF32(pl.grad), { mode: 'image' });
        acc.add(await policy.gradVector());
        policy.zeroGrad();
      }
      return acc.result().relative;
    };
    extra.pg_var = await measure(tokenAdv);
    // the same batch and chunks with every token weight 1: the DAPO/GRPO loss, for a paired comparison
    if (alg.name === 'pgpo' || alg.name === 'vppo') extra.pg_var_uniform = await measure(items.map((it, i) => new Float64Array(it.response.length).fill(advantages[i])));
  }
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
      const idx = mbGroups.flatMap((g) => perGroup.get(g)!);
      const mbItems = idx.map((i) => items[i]);
      let logpNew: Float32Array[];
      let entNew: Float32Array[] | null = null;
      if (fresh) {
        logpNew = idx.map((i) => logpOld[i]);
        if (needEntropy) entNew = idx.map((i) => flat[i].r.entropy!);
      } else {
        const s = await policy.score(mbItems, { mode: 'image', entropy: needEntropy });
        logpNew = s.logp;
        entNew = s.entropy ?? null;
      }
      if (firstNonFinite(logpNew) >= 0) {
        nonfiniteReason = 'the current log-probs were not finite';
        continue;
      }
      const pl = computePolicyLoss(
        'ppo-clip',
        { logpNew, logpOld: idx.map((i) => logpOld[i]), advantages: idx.map((i) => tokenAdv[i]) },
        { ...agg, clipLow: actor.clip_ratio_low, clipHigh: actor.clip_ratio_high, dualClip: actor.clip_ratio_dual },
      );
      let loss = pl.loss;
      const dLogp = pl.grad.map((r) => Float64Array.from(r));
      let dEnt: Float64Array[] | null = null;
      if (refLogp) {
        const kl = referenceKlPenalty(logpNew, idx.map((i) => refLogp[i]), { ...agg, estimator: alg.kl_penalty, coef: alg.kl_coef, clampMax: alg.kl_clamp });
        loss += kl.loss;
        addInto(dLogp, kl.grad);
        note('kl_ref', kl.mean);
      }
      if (actor.entropy_coef > 0 && entNew) {
        const et = entropyTerm(entNew, -actor.entropy_coef, agg);
        loss += et.loss;
        dEnt = et.grad;
      }
      if (alg.name === 'vppo' && alg.vppo.entropy_penalty > 0) {
        const ep = vppoEntropyPenalty(logpNew, alg.vppo.entropy_penalty, agg);
        loss += ep.loss;
        addInto(dLogp, ep.grad);
      }
      let dLogpMasked: Float64Array[] | null = null;
      let dEntMasked: Float64Array[] | null = null;
      let maskedItems: ScoreItem[] | null = null;
      if (masked && entNew) {
        maskedItems = idx.map((i) => masked[i]);
        const sm = await policy.score(maskedItems, { mode: 'image', entropy: true });
        const pp = papoPerceptionLoss(logpNew, sm.logp, alg.papo.perception_coef, agg);
        const de = papoDoubleEntropy(entNew, sm.entropy!, { perceptionCoef: alg.papo.perception_coef, entropyCoefOriginal: alg.papo.entropy_coef_original, entropyCoefMasked: alg.papo.entropy_coef_masked }, agg);
        loss += pp.loss + de.loss;
        addInto(dLogp, pp.gradOriginal);
        dLogpMasked = pp.gradMasked;
        dEnt = dEnt ?? zerosLike(entNew);
        addInto(dEnt, de.gradEntropyOriginal);
        dEntMasked = de.gradEntropyMasked;
        note('papo_kl', pp.klMean);
        note('entropy_masked', de.entropyMaskedMean);
      }
      if (!Number.isFinite(loss)) {
        nonfiniteReason = `the loss was ${loss}`;
        policy.zeroGrad();
        continue;
      }
      await policy.backward(mbItems, toF32(dLogp), { mode: 'image', dEntropy: dEnt ? toF32(dEnt) : undefined });
      if (maskedItems && dLogpMasked) await policy.backward(maskedItems, toF32(dLogpMasked), { mode: 'image', dEntropy: dEntMasked ? toF32(dEntMasked) : undefined });
      const o = actor.optim;
      // the logit scale's own rate follows the same warmup and decay as lr; a rate of 0 freezes it
      // (its gradient then stays out of the clipping norm, as before the scale existed)
      const lrFor = policy.logitScale ? { [policy.logitScale]: o.logit_scale_lr * (ctx.lr / o.lr) } : undefined;
      const res = await policy.step({ lr: ctx.lr, lrFor, weightDecay: o.weight_decay, betas: o.betas, eps: o.eps, optimizer: o.name, momentum: o.momentum, frozen: actor.freeze, maxGradNorm: actor.max_grad_norm });
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
  const tUpdated = performance.now();

  const stepRollouts: StepRollout[] = flat.map((x, i) => ({
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
    dependency: dependency ? dependency[i] : null,
    weights: weights ? weights[i] : null,
  }));
  const metrics: Record<string, number | null> = {
    ...base,
    ...extra,
    loss: meanOf(losses),
    grad_norm: meanOf(gradNorms.filter(Number.isFinite)),
    clip_frac: meanOf(clipFracs),
    approx_kl: meanOf(kls),
    updates,
    lr: ctx.lr,
    ...Object.fromEntries(Object.entries(termMeans).map(([k, v]) => [k, meanOf(v)])),
    // the policy's inverse temperature after this step's updates (model.md, the logit scale)
    logit_scale: await logitScale(policy),
    time_sample: (tSampled - t0) / 1000,
    time_score: (tScored - tSampled) / 1000,
    time_update: (tUpdated - tScored) / 1000,
  };
  if (!weights) {
    // GRPO/DAPO/PAPO/VPPO: every token carries A_i (VPPO: masked) — log the same weight stats for comparison
    const w = weightStats(tokenAdv.map((r, i) => r.map((a) => (advantages[i] === 0 ? 1 : a / advantages[i]))));
    Object.assign(metrics, { weight_mean: w.mean, weight_max: w.max, frac_amplified: w.fractionAmplified });
  }
  return { cursor, metrics, nonfinite: nonfiniteReason !== null, nonfiniteReason, rollouts: stepRollouts };
}

/** The policy's learned inverse temperature now (model.md, the logit scale); null without one. */
async function logitScale(policy: Policy): Promise<number | null> {
  return policy.logitScaleValue ? policy.logitScaleValue() : null;
}
