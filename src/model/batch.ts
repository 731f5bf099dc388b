/**
 * Host-side packing: lists of (image, prompt, response) become fixed-shape micro-batches
 * (src/model/forward.ts's `BatchArrays`, still on the host). Shapes come from a few buckets, so
 * jit compiles a handful of programs per process, and each micro-batch stays under a token
 * budget, so one jitted call never holds more intermediates than the wasm heap allows.
 *
 * Consecutive items with the same image and prompt (a group of rollouts) share one prefix.
 * Layout per group g: prompt LEFT-padded into P columns (so every prompt ends at column P - 1),
 * responses r = 0..R-1 RIGHT-padded into T columns. Position ids: image patch i -> i, prompt
 * token j -> N + j, response token k -> N + promptLength + k; padding gets a harmless valid id.
 */

import type { RgbImage } from '../core/image.ts';
import type { ScoreItem } from '../core/policy.ts';
import type { ModelConfig } from './config.ts';
import { dims } from './config.ts';
import { PAD } from './tokenizer.ts';

export interface HostBatch {
  readonly G: number;
  readonly R: number;
  readonly P: number;
  readonly T: number;
  /** [G, N, F], or null when the mode drops the image. */
  readonly patches: Float32Array | null;
  readonly promptIds: Int32Array;
  readonly promptPos: Int32Array;
  readonly promptValid: Float32Array;
  readonly respIds: Int32Array;
  readonly respPos: Int32Array;
  /** slot (g * R + r) -> item index, -1 for padding slots. */
  readonly slots: Int32Array;
}

/** Smallest bucket >= n; an error naming `what` if none is. */
export function bucketFor(n: number, buckets: readonly number[], what: string): number {
  for (const b of buckets) if (b >= n) return b;
  throw new Error(`${what} of ${n} tokens exceeds the largest bucket (${buckets[buckets.length - 1]}); see the model config's batching`);
}

export function pow2ceil(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

function pow2floor(n: number): number {
  let p = 1;
  while (p * 2 <= n) p *= 2;
  return p;
}

const patchCache = new WeakMap<RgbImage, Float32Array>();

/**
 * RGB image -> [N, F] patch features in [-0.5, 0.5]; patch i = py * side + px, features ordered
 * (dy, dx, channel). Cached per image object (a group's rollouts share one).
 */
export function imagePatches(img: RgbImage, cfg: ModelConfig): Float32Array {
  const hit = patchCache.get(img);
  if (hit) return hit;
  const { size, patch } = cfg.image;
  if (img.width !== size || img.height !== size) {
    throw new Error(`model '${cfg.preset}' takes ${size}x${size} images, got ${img.width}x${img.height} (render the task at image size ${size})`);
  }
  const side = size / patch;
  const F = patch * patch * 3;
  const out = new Float32Array(side * side * F);
  for (let py = 0; py < side; py++) {
    for (let px = 0; px < side; px++) {
      let o = (py * side + px) * F;
      for (let dy = 0; dy < patch; dy++) {
        const row = ((py * patch + dy) * size + px * patch) * 3;
        for (let j = 0; j < patch * 3; j++) out[o++] = img.data[row + j] / 255 - 0.5;
      }
    }
  }
  patchCache.set(img, out);
  return out;
}

function sameImage(a: RgbImage, b: RgbImage): boolean {
  if (a === b) return true;
  if (a.width !== b.width || a.height !== b.height) return false;
  return Buffer.from(a.data.buffer, a.data.byteOffset, a.data.byteLength).equals(Buffer.from(b.data.buffer, b.data.byteOffset, b.data.byteLength));
}

function samePrompt(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** Consecutive items sharing image and prompt, at most `maxR` per group. */
export function groupItems(items: readonly ScoreItem[], maxR: number): number[][] {
  const groups: number[][] = [];
  for (let i = 0; i < items.length; i++) {
    const g = groups[groups.length - 1];
    const head = g ? items[g[0]] : undefined;
    if (g && head && g.length < maxR && sameImage(head.image, items[i].image) && samePrompt(head.prompt, items[i].prompt)) g.push(i);
    else groups.push([i]);
  }
  return groups;
}

export interface PackOptions {
  /** Whether the prefix includes the image (false: the text-only pass drops it). */
  readonly withImage: boolean;
  /** Largest R (responses per group) in one micro-batch. */
  readonly maxR?: number;
  /** Token budget of one micro-batch (default: the config's tokensPerMicroBatch). */
  readonly tokens?: number;
}

/** Items -> micro-batches of fixed shape [G, R, P, T] (the last one padded with empty groups). */
export function packBatches(items: readonly ScoreItem[], cfg: ModelConfig, o: PackOptions): HostBatch[] {
  if (items.length === 0) return [];
  const { N, F, positions } = dims(cfg);
  const b = cfg.batching;
  const groups = groupItems(items, o.maxR ?? 16);
  const R = pow2ceil(Math.max(...groups.map((g) => g.length)));
  const P = bucketFor(Math.max(...items.map((it) => it.prompt.length)), b.promptBuckets, 'a prompt');
  const T = bucketFor(Math.max(2, ...items.map((it) => it.response.length)), b.responseBuckets, 'a response');
  for (const it of items) {
    if (it.prompt.length === 0) throw new Error('a prompt must hold at least bos');
    if (it.prompt.length + it.response.length > cfg.decoder.maxText) {
      throw new Error(`prompt (${it.prompt.length}) + response (${it.response.length}) tokens exceed the model's ${cfg.decoder.maxText} text positions`);
    }
  }
  const S = P + (o.withImage ? N : 0);
  // G: a power of two that fits the token budget, or the next power of two above the number of
  // groups if fewer (padding groups are free of responses). Only powers of two: every distinct G
  // is another jit program and other buffer sizes, and a long RL run that met every G from 1 to 8
  // (dynamic sampling keeps a varying number of groups) fragmented the wasm heap past 4 GiB.
  const G = Math.min(pow2floor(Math.max(1, Math.floor((o.tokens ?? b.tokensPerMicroBatch) / (S + R * T)))), pow2ceil(groups.length));
  const out: HostBatch[] = [];
  for (let start = 0; start < groups.length; start += G) {
    const chunk = groups.slice(start, start + G);
    const patches = o.withImage ? new Float32Array(G * N * F) : null;
    const promptIds = new Int32Array(G * P).fill(PAD);
    const promptPos = new Int32Array(G * P).fill(N);
    const promptValid = new Float32Array(G * P);
    const respIds = new Int32Array(G * R * T).fill(PAD);
    const respPos = new Int32Array(G * R * T).fill(N);
    const slots = new Int32Array(G * R).fill(-1);
    for (let g = 0; g < G; g++) {
      // Padding groups repeat the chunk's first prefix (finite values) with no responses.
      const members = chunk[g] ?? [];
      const head = items[(chunk[g] ?? chunk[0])[0]];
      if (patches) patches.set(imagePatches(head.image, cfg), g * N * F);
      const L = head.prompt.length;
      for (let j = 0; j < L; j++) {
        const col = g * P + (P - L) + j;
        promptIds[col] = head.prompt[j];
        promptPos[col] = N + j;
        promptValid[col] = 1;
      }
      members.forEach((idx, r) => {
        slots[g * R + r] = idx;
        const resp = items[idx].response;
        for (let k = 0; k < T; k++) {
          const at = (g * R + r) * T + k;
          if (k < resp.length) respIds[at] = resp[k];
          respPos[at] = Math.min(N + L + k, positions - 1);
        }
      });
    }
    out.push({ G, R, P, T, patches, promptIds, promptPos, promptValid, respIds, respPos, slots });
  }
  return out;
}

/** Per-slot weights [G, R, T] from per-item values (zero on padding). */
export function slotWeights(hb: HostBatch, perItem: (idx: number) => ArrayLike<number> | undefined, lengths: (idx: number) => number): Float32Array {
  const w = new Float32Array(hb.G * hb.R * hb.T);
  hb.slots.forEach((idx, s) => {
    if (idx < 0) return;
    const v = perItem(idx);
    if (!v) return;
    const n = lengths(idx);
    for (let k = 0; k < n; k++) w[s * hb.T + k] = v[k];
  });
  return w;
}
