/**
 * PAPO (src/algo/baselines/papo.ts): advantages unchanged; on every mini-batch the current
 * policy also scores a patch-masked copy of each image, and the loss gains the implicit
 * perception term -gamma * agg(KL(orig || masked)) and the double entropy on both branches.
 */
import { papoDoubleEntropy, papoPerceptionLoss } from '../baselines/papo.ts';
import type { Algorithm } from './types.ts';
import { uniformTokenWeights } from './types.ts';

export const papo: Algorithm = {
  name: 'papo',
  reshapes: false,
  needsEntropy: true,
  batchPasses: () => [],
  tokenWeights: uniformTokenWeights,
  lossPasses: (s) => [{ mode: 'image', blacken: { prob: s.papo.mask_prob, label: 'papo-mask' }, entropy: true, what: 'masked-image' }],
  extraLoss({ logpNew, entropyNew, passes, aggregation }, s) {
    if (!entropyNew) return null;
    const masked = passes[0];
    const pp = papoPerceptionLoss(logpNew, masked.logp, s.papo.perception_coef, aggregation);
    const de = papoDoubleEntropy(
      entropyNew,
      masked.entropy!,
      { perceptionCoef: s.papo.perception_coef, entropyCoefOriginal: s.papo.entropy_coef_original, entropyCoefMasked: s.papo.entropy_coef_masked },
      aggregation,
    );
    return {
      loss: pp.loss + de.loss,
      dLogp: pp.gradOriginal,
      dEntropy: de.gradEntropyOriginal,
      passGrads: [{ dLogp: pp.gradMasked, dEntropy: de.gradEntropyMasked }],
      metrics: { papo_kl: pp.klMean, entropy_masked: de.entropyMaskedMean },
    };
  },
};
