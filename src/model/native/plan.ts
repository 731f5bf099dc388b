/**
 * Score items -> native micro-batches. Consecutive items with the same image and prompt (a group
 * of rollouts) share one prefix (batch.ts `groupItems`); groups are cut into micro-batches of at
 * most `rowBudget` decoder rows (one group larger than that goes alone). Nothing is padded: a row
 * is a real token, so rows and shapes vary from call to call at no cost.
 */

import type { ModelConfig } from '../config.ts';
import { dims } from '../config.ts';
import type { ScoreItem } from '../../core/policy.ts';
import { bucketFor, groupItems, imagePatches } from '../batch.ts';
import type { AttnGroup } from './attention.ts';
import type { DecoderPlan } from './model.ts';

export interface MicroBatch {
  readonly plan: DecoderPlan;
  /** [Gi, N, F] patches of the groups' images; null in text-only mode. */
  readonly patches: Float32Array | null;
  readonly images: number;
  /** Per item in this micro-batch: its index in the caller's list and its first logit row. */
  readonly members: readonly { readonly item: number; readonly logit0: number; readonly length: number }[];
}

function checkItem(it: ScoreItem, cfg: ModelConfig): void {
  if (it.prompt.length === 0) throw new Error('a prompt must hold at least bos');
  // the jax-js policy's limits, so a run behaves the same on either backend
  bucketFor(it.prompt.length, cfg.batching.promptBuckets, 'a prompt');
  bucketFor(it.response.length, cfg.batching.responseBuckets, 'a response');
  if (it.prompt.length + it.response.length > cfg.decoder.maxText) {
    throw new Error(`prompt (${it.prompt.length}) + response (${it.response.length}) tokens exceed the model's ${cfg.decoder.maxText} text positions`);
  }
}

/** Decoder rows of a group: prefix (image + prompt) and every response but its last token. */
function groupRows(items: readonly ScoreItem[], members: readonly number[], N: number, withImage: boolean): number {
  const S = items[members[0]].prompt.length + (withImage ? N : 0);
  return S + members.reduce((a, i) => a + Math.max(0, items[i].response.length - 1), 0);
}

/**
 * `share: false` gives every item a group of its own, even when it repeats the previous one's
 * image and prompt (sampling prefills one group per prompt).
 */
export function planBatches(items: readonly ScoreItem[], cfg: ModelConfig, withImage: boolean, rowBudget: number, share = true): MicroBatch[] {
  const { N, F } = dims(cfg);
  for (const it of items) checkItem(it, cfg);
  const groups = share ? groupItems(items, Number.MAX_SAFE_INTEGER) : items.map((_, i) => [i]);
  const chunks: number[][][] = [];
  let rows = 0;
  for (const g of groups) {
    const r = groupRows(items, g, N, withImage);
    if (chunks.length === 0 || rows + r > rowBudget) {
      chunks.push([]);
      rows = 0;
    }
    chunks[chunks.length - 1].push(g);
    rows += r;
  }
  return chunks.map((chunk) => build(items, chunk, cfg, withImage, N, F));
}

function build(items: readonly ScoreItem[], chunk: readonly number[][], cfg: ModelConfig, withImage: boolean, N: number, F: number): MicroBatch {
  const rows = chunk.reduce((a, g) => a + groupRows(items, g, N, withImage), 0);
  const NL = chunk.reduce((a, g) => a + g.reduce((b, i) => b + items[i].response.length, 0), 0);
  const ids = new Int32Array(rows);
  const pos = new Int32Array(rows);
  const imageRow = new Int32Array(rows).fill(-1);
  const logitFrom = new Int32Array(NL);
  const targets = new Int32Array(NL);
  const patches = withImage ? new Float32Array(chunk.length * N * F) : null;
  const groups: AttnGroup[] = [];
  const members: { item: number; logit0: number; length: number }[] = [];
  let row = 0;
  let lr = 0;
  chunk.forEach((g, gi) => {
    const head = items[g[0]];
    const p0 = row;
    if (patches) {
      patches.set(imagePatches(head.image, cfg), gi * N * F);
      for (let i = 0; i < N; i++, row++) {
        ids[row] = -1;
        pos[row] = i;
        imageRow[row] = gi * N + i;
      }
    }
    const L = head.prompt.length;
    for (let j = 0; j < L; j++, row++) {
      ids[row] = head.prompt[j];
      pos[row] = N + j;
    }
    const S = row - p0;
    const resp: number[] = [];
    for (const i of g) {
      const tokens = items[i].response;
      const T = tokens.length;
      const start = row;
      for (let k = 0; k + 1 < T; k++, row++) {
        ids[row] = tokens[k];
        pos[row] = N + L + k;
      }
      resp.push(row - start);
      members.push({ item: i, logit0: lr, length: T });
      for (let k = 0; k < T; k++, lr++) {
        logitFrom[lr] = k === 0 ? p0 + S - 1 : start + k - 1;
        targets[lr] = tokens[k];
      }
    }
    groups.push({ p0, S, resp });
  });
  const spec = { groups, causal: true, H: cfg.decoder.heads, D: cfg.decoder.width / cfg.decoder.heads };
  return { plan: { rows, ids, pos, imageRow, spec, logitFrom, targets }, patches, images: patches ? chunk.length : 0, members };
}
