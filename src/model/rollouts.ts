/**
 * The host side of sampling, shared by both backends: how prompts are cut into decoding chunks,
 * and the token loop of one chunk — every open rollout picks its next token from its row of
 * logits (sampling.ts `pickToken`, one seeded Rng, in the order prompt by prompt, rollout by
 * rollout, finished ones skipped), then the backend runs one decode step for the open ones.
 * The numeric parts (prefill, the decode step) are the backend's.
 */

import type { ModelConfig } from './config.ts';
import type { Rollout, SampleOptions } from '../core/policy.ts';
import { Rng } from '../engine/rng.ts';
import { bucketFor } from './batch.ts';
import { pickToken } from './sampling.ts';
import { EOS } from './tokenizer.ts';

/** Checks the options against the model; returns the prompts per chunk and the chunk's Rng. */
export function samplingPlan(cfg: ModelConfig, prompts: readonly { readonly prompt: readonly number[] }[], o: SampleOptions): { perChunk: number; Tmax: number; rng: Rng } {
  if (!(Number.isInteger(o.n) && o.n >= 1)) throw new Error(`sample: n must be a positive integer, got ${o.n}`);
  if (!(Number.isInteger(o.maxNewTokens) && o.maxNewTokens >= 1)) throw new Error(`sample: maxNewTokens must be a positive integer, got ${o.maxNewTokens}`);
  const Tmax = bucketFor(o.maxNewTokens, cfg.batching.responseBuckets, 'maxNewTokens');
  for (const p of prompts) {
    bucketFor(p.prompt.length, cfg.batching.promptBuckets, 'a prompt');
    if (p.prompt.length + o.maxNewTokens > cfg.decoder.maxText) {
      throw new Error(`sample: prompt (${p.prompt.length}) + maxNewTokens (${o.maxNewTokens}) exceed the model's ${cfg.decoder.maxText} text positions`);
    }
  }
  // as many prompts per chunk as fit in maxDecodeRows rollouts (at least one)
  const perChunk = Math.min(prompts.length, Math.max(1, Math.floor(cfg.batching.maxDecodeRows / o.n)));
  return { perChunk, Tmax, rng: Rng.seeded(o.seed >>> 0).fork('sample') };
}

/** One decode step: logits for the `open` rollouts (g * R + r, ascending) after feeding `tokens` at column t, and each one's row in them. */
export type DecodeStep = (open: readonly number[], tokens: Int32Array, t: number) => Promise<{ logits: Float32Array; rowOf: (slot: number) => number }>;

/**
 * The token loop of one chunk of `n` prompts x R rollouts. `first` holds each prompt's
 * first-token logits ([n, V]); `step` runs the model on the open rollouts.
 */
export async function rolloutLoop(n: number, V: number, first: Float32Array, o: SampleOptions, rng: Rng, step: DecodeStep): Promise<Rollout[]> {
  const R = o.n;
  const pick = { temperature: o.temperature, topP: o.topP, greedy: !!o.greedy };
  const scratch = new Float64Array(V);
  const tokens: number[][] = Array.from({ length: n * R }, () => []);
  const logps: number[][] = Array.from({ length: n * R }, () => []);
  const ents: number[][] = Array.from({ length: n * R }, () => []);
  const done = new Uint8Array(n * R);
  let logits = first;
  let rowOf = (slot: number) => Math.floor(slot / R); // the first token: every rollout reads its prompt's row
  for (let t = 0; t < o.maxNewTokens; t++) {
    const open: number[] = [];
    for (let i = 0; i < n * R; i++) {
      if (done[i]) continue;
      const c = pickToken(logits, rowOf(i) * V, V, pick, rng, scratch);
      tokens[i].push(c.token);
      logps[i].push(c.logp);
      ents[i].push(c.entropy);
      if (c.token === EOS) done[i] = 1;
      else open.push(i);
    }
    if (open.length === 0 || t === o.maxNewTokens - 1) break;
    ({ logits, rowOf } = await step(
      open,
      Int32Array.from(open, (i) => tokens[i][t]),
      t,
    ));
  }
  return tokens.map((tk, i) => ({
    tokens: tk,
    logp: Float32Array.from(logps[i]),
    ...(o.entropy ? { entropy: Float32Array.from(ents[i]) } : {}),
    finished: tk[tk.length - 1] === EOS,
  }));
}
