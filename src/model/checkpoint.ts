/**
 * The policy checkpoint on disk, shared by both backends (it holds host arrays, no engine):
 *   model.safetensors      weights, by dotted path ('decoder.layers.0.qkv.w')
 *   optimizer.safetensors  AdamW moments 'm.<path>', 'v.<path>' (SGD: its velocity in m); metadata t =
 *                          updates so far, optimizer = adamw|sgd|none (absent in older checkpoints: adamw)
 *   policy.json            sidecar: format, config, vocabulary, step, user metadata (written last,
 *                          atomically, so a directory without it is an unfinished save)
 */

import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../data/atomic-write.ts';
import type { OptimizerKind } from '../core/policy.ts';
import { type HostTensor, readSafetensors, writeSafetensors } from '../engine/safetensors.ts';
import { type ModelConfig, validateConfig } from './config.ts';
import { LOGIT_SCALE, paramShapes } from './params.ts';
import { Tokenizer } from './tokenizer.ts';

export const CHECKPOINT_FORMAT = 'pgpo-policy/1';

export interface OptimizerHost {
  readonly m: readonly [string, HostTensor][];
  readonly v: readonly [string, HostTensor][];
  /** Updates applied so far. */
  readonly t: number;
  readonly kind: OptimizerKind | null;
}

export interface CheckpointHost {
  readonly config: ModelConfig;
  readonly tokenizer: Tokenizer;
  /** Every parameter in `paramShapes` order. */
  readonly weights: readonly [string, HostTensor][];
  /** Null for weights-only checkpoints (the shipped bases): start a fresh optimizer. */
  readonly optimizer: OptimizerHost | null;
  readonly meta: Record<string, unknown>;
}

export function writeCheckpoint(dir: string, c: Omit<CheckpointHost, 'optimizer'> & { optimizer: OptimizerHost }): void {
  mkdirSync(dir, { recursive: true });
  writeSafetensors(join(dir, 'model.safetensors'), c.weights, { format: CHECKPOINT_FORMAT });
  const moments: [string, HostTensor][] = [...c.optimizer.m.map(([n, t]) => [`m.${n}`, t] as [string, HostTensor]), ...c.optimizer.v.map(([n, t]) => [`v.${n}`, t] as [string, HostTensor])];
  writeSafetensors(join(dir, 'optimizer.safetensors'), moments, { t: String(c.optimizer.t), optimizer: c.optimizer.kind ?? 'none' });
  const sidecar = {
    format: CHECKPOINT_FORMAT,
    config: c.config,
    vocab: c.tokenizer.vocab,
    updates: c.optimizer.t,
    paramCount: c.weights.reduce((n, [, t]) => n + t.data.length, 0),
    savedAt: new Date().toISOString(),
    meta: c.meta,
  };
  writeFileAtomic(join(dir, 'policy.json'), JSON.stringify(sidecar, null, 2) + '\n');
}

export function readCheckpoint(dir: string): CheckpointHost {
  const sidecarPath = join(dir, 'policy.json');
  if (!existsSync(sidecarPath)) throw new Error(`${dir}: no policy.json (not a policy checkpoint, or an unfinished save)`);
  let side: { format?: unknown; config?: ModelConfig; vocab?: string[]; meta?: Record<string, unknown> };
  try {
    side = JSON.parse(readFileSync(sidecarPath, 'utf8'));
  } catch (err) {
    throw new Error(`${sidecarPath}: not valid JSON (${(err as Error).message})`);
  }
  if (side.format !== CHECKPOINT_FORMAT) throw new Error(`${sidecarPath}: format ${JSON.stringify(side.format)}, expected "${CHECKPOINT_FORMAT}"`);
  if (!side.config || !Array.isArray(side.vocab)) throw new Error(`${sidecarPath}: lacks config or vocab`);
  const config = side.config;
  validateConfig(config);
  const tokenizer = Tokenizer.fromVocab(side.vocab);
  const shapes = paramShapes(config, tokenizer.size);
  // checkpoints from before the logit scale existed lack it: they load with scale 1 (and zero
  // moments), which is exactly the function their weights define
  const w = readSafetensors(join(dir, 'model.safetensors'), { expect: shapes, optional: new Set([LOGIT_SCALE]) });
  const ordered = (m: Map<string, HostTensor>, fill: number): [string, HostTensor][] =>
    [...shapes].map(([n, shape]) => [n, m.get(n) ?? { shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(fill) }]);
  const weights = ordered(w.tensors, 1);
  const meta = side.meta ?? {};
  const optPath = join(dir, 'optimizer.safetensors');
  if (!existsSync(optPath)) return { config, tokenizer, weights, optimizer: null, meta };
  const expect = new Map<string, number[]>();
  for (const [n, s] of shapes) expect.set(`m.${n}`, s).set(`v.${n}`, s);
  const o = readSafetensors(optPath, { expect, optional: new Set([`m.${LOGIT_SCALE}`, `v.${LOGIT_SCALE}`]) });
  const t = Number(o.metadata.t);
  if (!Number.isInteger(t) || t < 0) throw new Error(`${optPath}: bad step count t=${JSON.stringify(o.metadata.t)}`);
  const sub = (prefix: string) => new Map([...o.tensors].filter(([n]) => n.startsWith(prefix)).map(([n, x]) => [n.slice(prefix.length), x] as [string, HostTensor]));
  const kind = o.metadata.optimizer ?? (t > 0 ? 'adamw' : 'none'); // checkpoints before SGD existed were AdamW's
  if (kind !== 'adamw' && kind !== 'sgd' && kind !== 'none') throw new Error(`${optPath}: unknown optimizer ${JSON.stringify(kind)}`);
  return { config, tokenizer, weights, optimizer: { m: ordered(sub('m.'), 0), v: ordered(sub('v.'), 0), t, kind: kind === 'none' ? null : kind }, meta };
}
