/**
 * What a helper thread (helper-threads.ts) can be asked to do: one share of a parallel section,
 * as plain data (typed arrays on SharedArrayBuffers travel as views of the same memory, a shared
 * WebAssembly memory as the same memory). The messages are built where the work is split
 * (attention.ts, decode.ts); this is the dispatch.
 */

import { type AttentionBackwardShare, type AttentionForwardShare, attentionBackwardGroups, attentionForwardGroups } from './attention.ts';
import { type DecodeAttentionArgs, type SharedDecodeMemory, simdKernels } from './simd/simd.ts';
import { geluRange } from './ops.ts';
import { type CacheLayout, decodeRowsShared } from './decode.ts';
import type { ModelConfig } from '../config.ts';

export type HelperMessage =
  | ({ readonly op: 'attentionForward' } & AttentionForwardShare)
  | ({ readonly op: 'attentionBackward' } & AttentionBackwardShare)
  | { readonly op: 'decodeAttention'; readonly memory: SharedDecodeMemory; readonly args: DecodeAttentionArgs }
  | {
      readonly op: 'decodeRows';
      readonly memory: SharedDecodeMemory;
      readonly layout: CacheLayout;
      readonly cfg: ModelConfig;
      readonly V: number;
      readonly t: number;
      readonly a0: number;
      readonly a1: number;
      readonly p: number;
    }
  | { readonly op: 'gelu'; readonly y: Float32Array; readonly x: Float32Array; readonly gate: Float32Array | null; readonly i0: number; readonly i1: number };

export function runTask(m: HelperMessage): void {
  switch (m.op) {
    case 'attentionForward':
      return attentionForwardGroups(m.out, m.probs, m.qkv, m.spec, m.g0, m.g1);
    case 'attentionBackward':
      return attentionBackwardGroups(m.dqkv, m.dout, m.probs, m.qkv, m.spec, m.g0, m.g1, m.scratch);
    case 'decodeAttention':
      return simdKernels()!.sharedDecodeKernel(m.memory).attend(m.args);
    case 'decodeRows':
      return decodeRowsShared(m.memory, m.layout, m.cfg, m.V, m.t, m.a0, m.a1, m.p);
    case 'gelu':
      return geluRange(m.y, m.x, m.gate, m.i0, m.i1);
  }
}
