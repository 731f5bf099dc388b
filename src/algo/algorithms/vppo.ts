/**
 * VPPO (src/algo/baselines/vppo.ts): one pass against patch-blackened images with the rollout
 * policy gives S_t; trajectory factors and the top-40% token mask shape A~_{i,t}; the loss gains
 * the entropy penalty coef * agg(-logp).
 */
import { vppoDependency, vppoEntropyPenalty, vppoTokenAdvantages } from '../baselines/vppo.ts';
import { dependencyStats } from '../metrics.ts';
import type { Algorithm } from './types.ts';

export const vppo: Algorithm = {
  name: 'vppo',
  reshapes: true,
  needsEntropy: false,
  batchPasses: (s) => [{ mode: 'image', blacken: { prob: s.vppo.mask_prob, label: 'vppo-mask' }, what: 'perturbed-image' }],
  tokenWeights({ advantages, logpOld, passes }, s) {
    const dependency = logpOld.map((lp, i) => vppoDependency(lp, passes[0].logp[i], s.vppo.clamp_max));
    const v = vppoTokenAdvantages(advantages, dependency, { scaleMin: s.vppo.scale_min, topFraction: s.vppo.top_fraction, clampMax: s.vppo.clamp_max });
    const ds = dependencyStats(dependency);
    const factors = [...v.factors];
    return {
      tokenAdvantages: v.tokenAdvantages,
      dependency,
      weights: null,
      metrics: {
        dep_mean: ds.mean,
        dep_top10_share: ds.top10Share,
        dep_gini: ds.gini,
        log1p_dep_mean: ds.meanCompressed,
        vppo_factor_mean: factors.length ? factors.reduce((a, b) => a + b, 0) / factors.length : null,
      },
    };
  },
  lossPasses: () => [],
  extraLoss({ logpNew, aggregation }, s) {
    if (!(s.vppo.entropy_penalty > 0)) return null;
    const ep = vppoEntropyPenalty(logpNew, s.vppo.entropy_penalty, aggregation);
    return { loss: ep.loss, dLogp: ep.grad, metrics: {} };
  },
};
