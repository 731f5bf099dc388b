/**
 * GRPO and DAPO: every token of response i carries the group advantage A_i; no extra passes, no
 * extra loss. The two differ only in their recipe (config: filtering, clipping, aggregation, KL).
 */
import type { Algorithm } from './types.ts';
import { uniformTokenWeights } from './types.ts';

function plain(name: string): Algorithm {
  return {
    name,
    reshapes: false,
    needsEntropy: false,
    batchPasses: () => [],
    tokenWeights: uniformTokenWeights,
    lossPasses: () => [],
    extraLoss: () => null,
  };
}

export const grpo = plain('grpo');
export const dapo = plain('dapo');
