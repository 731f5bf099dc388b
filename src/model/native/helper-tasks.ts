/**
 * What a helper thread (helper-threads.ts) can be asked to do: one share of a parallel section,
 * as plain data (typed arrays on SharedArrayBuffers travel as views of the same memory, a shared
 * WebAssembly memory as the same memory). The messages are built where the work is split
 * (attention.ts, decode.ts); this is the dispatch.
 */

import { type AttentionBackwardShare, type AttentionForwardShare, attentionBackwardGroups, attentionForwardGroups } from './attention.ts';
import { type DecodeAttentionArgs, type SharedDecodeMemory, simdKernels } from './simd/simd.ts';

export type HelperMessage =
  | ({ readonly op: 'attentionForward' } & AttentionForwardShare)
  | ({ readonly op: 'attentionBackward' } & AttentionBackwardShare)
  | { readonly op: 'decodeAttention'; readonly memory: SharedDecodeMemory; readonly args: DecodeAttentionArgs };

export function runTask(m: HelperMessage): void {
  switch (m.op) {
    case 'attentionForward':
      return attentionForwardGroups(m.out, m.probs, m.qkv, m.spec, m.g0, m.g1);
    case 'attentionBackward':
      return attentionBackwardGroups(m.dqkv, m.dout, m.probs, m.qkv, m.spec, m.g0, m.g1, m.scratch);
    case 'decodeAttention':
      return simdKernels()!.sharedDecodeKernel(m.memory).attend(m.args);
  }
}
