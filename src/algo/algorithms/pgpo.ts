/**
 * PGPO (method §2-4): one text-only pass over the rollouts with the rollout policy gives the
 * token visual dependency S_t (k3 against the sampling log-probs, or the exact KL from both
 * passes' rows); S_t -> w~_t -> A~_{i,t} = A_i w~_t (src/algo/pgpo.ts). No extra loss.
 */
import { exactDependency } from '../dependency.ts';
import { reshapeBatch } from '../pgpo.ts';
import type { Algorithm, AlgorithmSettings, PassSpec } from './types.ts';

function passes(s: AlgorithmSettings): PassSpec[] {
  if (s.pgpo.estimator === 'exact')
    return [
      { mode: 'image', rows: true, what: 'scoring' },
      { mode: 'text-only', rows: true, what: 'scoring' },
    ];
  return [{ mode: 'text-only', what: 'text-only' }];
}

export const pgpo: Algorithm = {
  name: 'pgpo',
  reshapes: true,
  needsEntropy: false,
  batchPasses: passes,
  tokenWeights({ groups, rewards, logpOld, passes: scored, vocabSize }, s) {
    const pg = s.pgpo;
    const records =
      pg.estimator === 'exact'
        ? groups.map((group, i) => ({ group, reward: rewards[i], dependency: exactDependency(scored[0].rows![i], scored[1].rows![i], vocabSize) }))
        : groups.map((group, i) => ({ group, reward: rewards[i], logpImage: logpOld[i], logpText: scored[0].logp[i] }));
    const res = reshapeBatch(records, {
      variant: pg.variant,
      advantage: s.adv_estimator,
      estimator: pg.estimator === 'exact' ? 'k3' : pg.estimator,
      reshape: { tau: pg.tau, beta: pg.beta, eps: pg.eps, quantile: pg.quantile, floor: pg.floor },
      advantageEps: s.adv_eps,
    });
    const weights = res.rollouts.map((r) => r.weights);
    const ds = res.summary.dependency;
    const ws = res.summary.weights;
    const wAll = weights.flatMap((w) => [...w]);
    return {
      tokenAdvantages: res.rollouts.map((r) => r.tokenAdvantages),
      dependency: res.rollouts.map((r) => r.dependency),
      weights,
      metrics: {
        dep_mean: ds.mean,
        dep_max: ds.max,
        log1p_dep_mean: ds.meanCompressed,
        dep_top10_share: ds.top10Share,
        dep_gini: ds.gini,
        weight_mean: ws.mean,
        weight_std: Math.sqrt(wAll.reduce((a, w) => a + (w - ws.mean) ** 2, 0) / wAll.length),
        weight_min: ws.min,
        weight_max: ws.max,
        frac_amplified: ws.fractionAmplified,
        frac_suppressed: ws.fractionSuppressed,
        reshape_fallbacks: res.summary.fallbacks,
      },
    };
  },
  lossPasses: () => [],
  extraLoss: () => null,
};
