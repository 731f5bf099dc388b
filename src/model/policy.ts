/**
 * The compact VLM behind the trainer's `Policy` seam (src/train/policy.ts): host data in and out,
 * jitted jax-js programs inside. This file lays sequences out (padding, positions, attention
 * biases), cuts batches into fixed-shape micro-batches (jit compiles once per shape; the wasm heap
 * has a 4 GiB ceiling), samples tokens on the host, and owns parameters, gradients and AdamW.
 * The math of the passes is forward.ts.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../data/atomic-write.ts';
import type { RgbImage } from '../data/image.ts';
import { adamwInit, adamwStep, clipScale, disposeAdamW, globalNorm, type AdamWState } from '../engine/adamw.ts';
import { f32, i32, initEngine, jit, numpy as np, valueAndGrad } from '../engine/jax.ts';
import { Rng } from '../engine/rng.ts';
import { readSafetensors, writeSafetensors, type HostTensor } from '../engine/safetensors.ts';
import { addTrees, disposeTree, namedLeaves, refTree, treeFromHost, treeToHost, type ParamTree } from '../engine/tree.ts';
import type { AttentionMode, OptimStep, Policy, PolicyFactory, PromptInput, Rollout, SampleOptions, ScoreItem, ScoreOptions, Scored, StepResult } from '../train/policy.ts';
import { dims, modelConfig, validateConfig, type ModelConfig, type PresetName } from './config.ts';
import { decodeStep, prefill, scoreForward } from './forward.ts';
import { countParams, initParams, paramShapes, type PolicyParams } from './params.ts';
import { BOS, EOS, PAD, Tokenizer } from './tokenizer.ts';

const MASKED = -1e9;
const FORMAT = 'pgpo-vlm/1';
const IMAGE_MARKER = '<image>';

/** Smallest bucket >= n; the error names what overflowed. */
function bucket(n: number, buckets: readonly number[], what: string): number {
  for (const b of buckets) if (b >= n) return b;
  throw new Error(`${what} of ${n} tokens exceeds the longest bucket (${buckets[buckets.length - 1]}); raise the model's batching buckets`);
}

/** RGB image -> [N, F] patch features in [-0.5, 0.5], patches row-major, features (y, x, channel). */
export function patchify(image: RgbImage, size: number, patch: number): Float32Array {
  if (image.width !== size || image.height !== size) throw new Error(`the model takes ${size}x${size} images, got ${image.width}x${image.height} (render or resize to ${size})`);
  const side = size / patch;
  const F = patch * patch * 3;
  const out = new Float32Array(side * side * F);
  for (let py = 0; py < side; py++) {
    for (let px = 0; px < side; px++) {
      const base = (py * side + px) * F;
      let f = 0;
      for (let y = 0; y < patch; y++) {
        const row = ((py * patch + y) * size + px * patch) * 3;
        for (let x = 0; x < patch * 3; x++) out[base + f++] = image.data[row + x] / 255 - 0.5;
      }
    }
  }
  return out;
}

/** Host log-softmax (float64). */
function logSoftmax(row: ArrayLike<number>, from: number, V: number, temperature = 1): Float64Array {
  const out = new Float64Array(V);
  let mx = -Infinity;
  for (let j = 0; j < V; j++) mx = Math.max(mx, row[from + j] / temperature);
  let s = 0;
  for (let j = 0; j < V; j++) s += Math.exp(row[from + j] / temperature - mx);
  const lse = mx + Math.log(s);
  for (let j = 0; j < V; j++) out[j] = row[from + j] / temperature - lse;
  return out;
}

/** Samples from log-probs with nucleus (top-p) truncation. */
function sampleToken(ls: Float64Array, topP: number, rng: Rng): number {
  const V = ls.length;
  let order: number[] | null = null;
  let limit = V;
  if (topP < 1) {
    order = Array.from({ length: V }, (_, j) => j).sort((a, b) => ls[b] - ls[a] || a - b);
    let c = 0;
    for (limit = 0; limit < V; ) {
      c += Math.exp(ls[order[limit++]]);
      if (c >= topP) break;
    }
  }
  let total = 0;
  for (let i = 0; i < limit; i++) total += Math.exp(ls[order ? order[i] : i]);
  let u = rng.float() * total;
  for (let i = 0; i < limit; i++) {
    const j = order ? order[i] : i;
    u -= Math.exp(ls[j]);
    if (u < 0) return j;
  }
  return order ? order[limit - 1] : V - 1;
}

interface Layout {
  ids: Int32Array;
  pos: Int32Array;
  targets: Int32Array;
  bias: Float32Array;
  patches: Float32Array | null;
  Tp: number;
  Tr: number;
  Sq: number;
}

export class VlmPolicy implements Policy {
  readonly vocabSize: number;
  readonly paramCount: number;
  readonly imageSize: number;
  readonly patchSize: number;
  readonly eos = EOS;
  private grad: ParamTree | null = null;
  private readonly jits = new Map<string, (...args: never[]) => unknown>();

  private constructor(
    readonly config: ModelConfig,
    readonly tokenizer: Tokenizer,
    private params: PolicyParams,
    private opt: AdamWState,
  ) {
    this.vocabSize = tokenizer.size;
    this.paramCount = countParams(config, tokenizer.size);
    this.imageSize = config.image.size;
    this.patchSize = config.image.patch;
  }

  static async create(preset: PresetName, seed: number): Promise<VlmPolicy> {
    await initEngine();
    const cfg = modelConfig(preset);
    const tok = Tokenizer.fromPieces(cfg.pieces);
    const params = initParams(cfg, tok.size, Rng.seeded(seed).fork('model'));
    return new VlmPolicy(cfg, tok, params, adamwInit(params as unknown as ParamTree));
  }

  static async load(dir: string): Promise<{ policy: VlmPolicy; meta: Record<string, unknown> }> {
    await initEngine();
    const sidecarPath = join(dir, 'model.json');
    let side: { format: string; config: ModelConfig; vocab: string[]; adam_t: number; meta: Record<string, unknown> };
    try {
      side = JSON.parse(readFileSync(sidecarPath, 'utf8'));
    } catch (err) {
      throw new Error(`cannot read checkpoint sidecar ${sidecarPath}: ${(err as Error).message}`);
    }
    if (side.format !== FORMAT) throw new Error(`${sidecarPath}: format "${side.format}", expected "${FORMAT}"`);
    validateConfig(side.config);
    const tok = Tokenizer.fromVocab(side.vocab);
    const shapes = paramShapes(side.config, tok.size);
    const weights = readSafetensors(join(dir, 'model.safetensors'), { expect: shapes });
    const optShapes = new Map<string, number[]>();
    for (const [n, s] of shapes) optShapes.set(`m.${n}`, s).set(`v.${n}`, s);
    const opt = readSafetensors(join(dir, 'optimizer.safetensors'), { expect: optShapes });
    const pick = (prefix: string) => [...shapes.keys()].map((n) => [n, opt.tensors.get(prefix + n)!] as [string, HostTensor]);
    const params = treeFromHost([...shapes.keys()].map((n) => [n, weights.tensors.get(n)!])) as unknown as PolicyParams;
    const state: AdamWState = { m: treeFromHost(pick('m.')), v: treeFromHost(pick('v.')), t: side.adam_t };
    return { policy: new VlmPolicy(side.config, tok, params, state), meta: side.meta ?? {} };
  }

  encode(text: string): number[] {
    return this.tokenizer.encode(text);
  }

  /** The image goes first in the sequence, so the `<image>` marker itself is dropped. */
  encodePrompt(problem: string): number[] {
    return [BOS, ...this.tokenizer.encode(problem.split(IMAGE_MARKER).join(''))];
  }

  decode(ids: readonly number[]): string {
    return this.tokenizer.decode(ids);
  }

  private jit<F extends (...args: never[]) => unknown>(key: string, make: () => F): F {
    let f = this.jits.get(key);
    if (!f) this.jits.set(key, (f = make()));
    return f as F;
  }

  // ---- layout -------------------------------------------------------------------------------

  /** Teacher-forcing layout of `rows` (padded with empty rows up to `MB`). */
  private layout(items: readonly ScoreItem[], mode: AttentionMode, MB: number): Layout {
    const cfg = this.config;
    const { N, F } = dims(cfg);
    const b = cfg.batching;
    const Tp = bucket(Math.max(...items.map((it) => it.prompt.length)), b.promptBuckets, 'a prompt');
    const Tr = bucket(Math.max(1, ...items.map((it) => it.response.length)), b.responseBuckets, 'a response');
    const T = Tp + Tr;
    const img = mode === 'image' ? N : 0;
    const Sq = img + T;
    const ids = new Int32Array(MB * T);
    const pos = new Int32Array(MB * T);
    const targets = new Int32Array(MB * Tr);
    const bias = new Float32Array(MB * Sq * Sq).fill(MASKED);
    const patches = mode === 'image' ? new Float32Array(MB * N * F) : null;
    const valid = new Uint8Array(Sq);
    items.forEach((it, r) => {
      const Lp = it.prompt.length;
      const Lr = it.response.length;
      valid.fill(0);
      for (let s = 0; s < img; s++) valid[s] = 1;
      for (let j = 0; j < Lp; j++) {
        const slot = Tp - Lp + j;
        ids[r * T + slot] = it.prompt[j];
        pos[r * T + slot] = N + j;
        valid[img + slot] = 1;
      }
      for (let t = 0; t < Lr; t++) {
        ids[r * T + Tp + t] = it.response[t];
        pos[r * T + Tp + t] = N + Lp + t;
        targets[r * Tr + t] = it.response[t];
        valid[img + Tp + t] = 1;
      }
      const o = r * Sq * Sq;
      for (let q = 0; q < Sq; q++) for (let k = 0; k <= q; k++) if (valid[k]) bias[o + q * Sq + k] = 0;
      if (patches) patches.set(patchify(it.image, cfg.image.size, cfg.image.patch), r * N * F);
    });
    return { ids, pos, targets, bias, patches, Tp, Tr, Sq };
  }

  /** Rows per micro-batch for a sequence of `Sq` slots: the token budget over Sq, at least 1. */
  private microBatch(items: readonly ScoreItem[], mode: AttentionMode): number {
    const b = this.config.batching;
    const { N } = dims(this.config);
    const Tp = bucket(Math.max(...items.map((it) => it.prompt.length)), b.promptBuckets, 'a prompt');
    const Tr = bucket(Math.max(1, ...items.map((it) => it.response.length)), b.responseBuckets, 'a response');
    const Sq = (mode === 'image' ? N : 0) + Tp + Tr;
    return Math.max(1, Math.floor(b.tokensPerMicroBatch / Sq));
  }

  private inputs(l: Layout, MB: number): np.Array[] {
    const { N, F } = dims(this.config);
    const T = l.Tp + l.Tr;
    const xs = [i32(l.ids, [MB, T]), i32(l.pos, [MB, T]), f32(l.bias, [MB, 1, l.Sq, l.Sq]), i32(l.targets, [MB, l.Tr])];
    return l.patches ? [f32(l.patches, [MB, N, F]), ...xs] : xs;
  }

  // ---- scoring and gradients ------------------------------------------------------------------

  private scoreProgram(mode: AttentionMode, rows: boolean) {
    const cfg = this.config;
    return this.jit(`score:${mode}:${rows}`, () =>
      jit((P: PolicyParams, ...xs: np.Array[]) => {
        const [patches, ids, pos, bias, targets] = mode === 'image' ? xs : [null, ...xs];
        const Tp = ids!.shape[1] - targets!.shape[1];
        const out = scoreForward(P, cfg, patches, ids!, pos!, bias!, targets!, Tp);
        if (!rows) {
          out.rows.dispose();
          return [out.logp, out.entropy];
        }
        return [out.logp, out.entropy, out.rows];
      }),
    );
  }

  private gradProgram(mode: AttentionMode) {
    const cfg = this.config;
    return this.jit(`grad:${mode}`, () =>
      jit(
        valueAndGrad((P: PolicyParams, dLogp: np.Array, dEnt: np.Array, ...xs: np.Array[]) => {
          const [patches, ids, pos, bias, targets] = mode === 'image' ? xs : [null, ...xs];
          const Tp = ids!.shape[1] - targets!.shape[1];
          const out = scoreForward(P, cfg, patches, ids!, pos!, bias!, targets!, Tp);
          out.rows.dispose();
          return out.logp.mul(dLogp).sum().add(out.entropy.mul(dEnt).sum());
        }),
      ),
    );
  }

  async score(items: readonly ScoreItem[], opts: ScoreOptions): Promise<Scored> {
    const logp: Float32Array[] = [];
    const entropy: Float32Array[] = [];
    const rows: Float32Array[] = [];
    if (items.length === 0) return { logp, entropy: opts.entropy ? entropy : undefined, rows: opts.rows ? rows : undefined };
    const MB = this.microBatch(items, opts.mode);
    const V = this.vocabSize;
    const prog = this.scoreProgram(opts.mode, Boolean(opts.rows)) as unknown as (...a: unknown[]) => np.Array[];
    for (let s = 0; s < items.length; s += MB) {
      const chunk = items.slice(s, s + MB);
      const l = this.layout(chunk, opts.mode, MB);
      const out = prog(refTree(this.params as unknown as ParamTree), ...this.inputs(l, MB));
      const lp = (await out[0].data()) as Float32Array;
      const en = (await out[1].data()) as Float32Array;
      const rw = opts.rows ? ((await out[2].data()) as Float32Array) : null;
      chunk.forEach((it, r) => {
        const L = it.response.length;
        logp.push(lp.slice(r * l.Tr, r * l.Tr + L));
        entropy.push(en.slice(r * l.Tr, r * l.Tr + L));
        if (rw) rows.push(rw.slice(r * l.Tr * V, (r * l.Tr + L) * V));
      });
    }
    return { logp, entropy: opts.entropy ? entropy : undefined, rows: opts.rows ? rows : undefined };
  }

  /** Accumulates grad of sum(dLogp * logp + dEnt * entropy); returns that sum. */
  private async accumulate(items: readonly ScoreItem[], dLogp: readonly ArrayLike<number>[], dEnt: readonly ArrayLike<number>[] | undefined, mode: AttentionMode): Promise<number> {
    if (items.length === 0) return 0;
    const MB = this.microBatch(items, mode);
    const prog = this.gradProgram(mode) as unknown as (...a: unknown[]) => [np.Array, ParamTree];
    let total = 0;
    for (let s = 0; s < items.length; s += MB) {
      const chunk = items.slice(s, s + MB);
      const l = this.layout(chunk, mode, MB);
      const gl = new Float32Array(MB * l.Tr);
      const ge = new Float32Array(MB * l.Tr);
      chunk.forEach((it, r) => {
        const i = s + r;
        if (dLogp[i].length !== it.response.length) throw new Error(`backward: response ${i} has ${it.response.length} tokens but ${dLogp[i].length} upstream gradients`);
        for (let t = 0; t < it.response.length; t++) {
          gl[r * l.Tr + t] = dLogp[i][t];
          if (dEnt) ge[r * l.Tr + t] = dEnt[i][t];
        }
      });
      const [value, g] = prog(refTree(this.params as unknown as ParamTree), f32(gl, [MB, l.Tr]), f32(ge, [MB, l.Tr]), ...this.inputs(l, MB));
      total += ((await value.data()) as Float32Array)[0];
      this.grad = this.grad ? addTrees(this.grad, g) : g;
    }
    return total;
  }

  async backward(items: readonly ScoreItem[], dLogp: readonly Float32Array[], opts: { mode: AttentionMode; dEntropy?: readonly Float32Array[] }): Promise<void> {
    await this.accumulate(items, dLogp, opts.dEntropy, opts.mode);
  }

  async sftBackward(items: readonly ScoreItem[], scale: number): Promise<{ nll: number; tokens: number }> {
    if (!(scale > 0)) throw new Error(`sftBackward: scale must be > 0, got ${scale}`);
    const up = items.map((it) => new Float32Array(it.response.length).fill(-scale));
    const value = await this.accumulate(items, up, undefined, 'image');
    return { nll: value / scale, tokens: items.reduce((a, it) => a + it.response.length, 0) };
  }

  async step(o: OptimStep): Promise<StepResult> {
    if (!this.grad) return { gradNorm: 0, applied: true };
    const g = this.grad;
    this.grad = null;
    const gradNorm = await globalNorm(g);
    if (!Number.isFinite(gradNorm)) {
      disposeTree(g);
      return { gradNorm, applied: false };
    }
    const clip = clipScale(gradNorm, o.maxGradNorm);
    this.params = adamwStep(this.params as unknown as ParamTree, g, this.opt, { lr: o.lr, betas: o.betas, eps: o.eps, weightDecay: o.weightDecay }, clip) as unknown as PolicyParams;
    return { gradNorm, applied: true };
  }

  zeroGrad(): void {
    disposeTree(this.grad);
    this.grad = null;
  }

  resetOptimizer(): void {
    disposeAdamW(this.opt);
    this.opt = adamwInit(this.params as unknown as ParamTree);
  }

  async gradVector(): Promise<Float32Array> {
    const leaves = namedLeaves(this.params as unknown as ParamTree);
    const out = new Float32Array(this.paramCount);
    if (!this.grad) return out;
    const host = await treeToHost(this.grad);
    let k = 0;
    for (const [name] of leaves) {
      const t = host.get(name)!;
      out.set(t.data, k);
      k += t.data.length;
    }
    return out;
  }

  // ---- sampling -------------------------------------------------------------------------------

  async sample(prompts: readonly PromptInput[], opts: SampleOptions): Promise<Rollout[]> {
    const rng = Rng.seeded(opts.seed).fork('sample');
    const per = Math.max(1, Math.floor(this.config.batching.sampleRows / opts.n)) || 1;
    const out: Rollout[] = [];
    for (let s = 0; s < prompts.length; s += per) out.push(...(await this.sampleChunk(prompts.slice(s, s + per), opts, rng.fork(`chunk:${s}`))));
    return out;
  }

  private async sampleChunk(prompts: readonly PromptInput[], opts: SampleOptions, rng: Rng): Promise<Rollout[]> {
    const cfg = this.config;
    const { N, F } = dims(cfg);
    const b = cfg.batching;
    const V = this.vocabSize;
    const n = opts.n;
    // prompt rows padded to a power of two, so a handful of shapes cover every call
    let Pc = 1;
    while (Pc < prompts.length) Pc *= 2;
    const Tp = bucket(Math.max(...prompts.map((p) => p.prompt.length)), b.promptBuckets, 'a prompt');
    const Tmax = bucket(opts.maxNewTokens, b.responseBuckets, 'max_new_tokens');
    const S0 = N + Tp;
    const S = S0 + Tmax;
    const B = Pc * n;
    const L = cfg.decoder.layers;
    const H = cfg.decoder.heads;
    const D = cfg.decoder.width / H;

    // prefill the distinct prompts
    const ids = new Int32Array(Pc * Tp);
    const pos = new Int32Array(Pc * Tp);
    const bias = new Float32Array(Pc * S0 * S0).fill(MASKED);
    const patches = new Float32Array(Pc * N * F);
    const valid = new Uint8Array(S0);
    const lens: number[] = [];
    for (let r = 0; r < Pc; r++) {
      const p = prompts[Math.min(r, prompts.length - 1)];
      const Lp = p.prompt.length;
      lens.push(Lp);
      valid.fill(0);
      for (let s = 0; s < N; s++) valid[s] = 1;
      for (let j = 0; j < Lp; j++) {
        ids[r * Tp + Tp - Lp + j] = p.prompt[j];
        pos[r * Tp + Tp - Lp + j] = N + j;
        valid[N + Tp - Lp + j] = 1;
      }
      for (let q = 0; q < S0; q++) for (let k = 0; k <= q; k++) if (valid[k]) bias[r * S0 * S0 + q * S0 + k] = 0;
      patches.set(patchify(p.image, cfg.image.size, cfg.image.patch), r * N * F);
    }
    const pre = this.jit(`prefill:${Pc}:${Tp}:${n}:${Tmax}`, () =>
      jit((P: PolicyParams, pt: np.Array, id: np.Array, ps: np.Array, bs: np.Array) => {
        const r = prefill(P, cfg, pt, id, ps, bs);
        // every prompt's cache repeated for its n rollouts, then Tmax empty slots
        const grow = (c: np.Array) =>
          np.concatenate([np.repeat(c, n, 1), np.zeros([L, B, H, Tmax, D], { dtype: np.float32 })], 3);
        return [grow(r.k), grow(r.v), r.logits];
      }),
    ) as unknown as (...a: unknown[]) => [np.Array, np.Array, np.Array];
    let [kc, vc, logitsArr] = pre(refTree(this.params as unknown as ParamTree), f32(patches, [Pc, N, F]), i32(ids, [Pc, Tp]), i32(pos, [Pc, Tp]), f32(bias, [Pc, 1, S0, S0]));
    const first = (await logitsArr.data()) as Float32Array;
    let logits: Float32Array = new Float32Array(B * V);
    for (let r = 0; r < B; r++) logits.set(first.subarray(Math.floor(r / n) * V, (Math.floor(r / n) + 1) * V), r * V);

    const step = this.jit(`decode:${B}:${S}`, () =>
      jit((P: PolicyParams, k: np.Array, v: np.Array, tok: np.Array, ps: np.Array, slot: np.Array, bs: np.Array) => {
        const r = decodeStep(P, cfg, k, v, tok, ps, slot, bs);
        return [r.k, r.v, r.logits];
      }),
    ) as unknown as (...a: unknown[]) => [np.Array, np.Array, np.Array];

    const rows = prompts.length * n; // real rows; the rest pad the shape
    const tokens: number[][] = Array.from({ length: rows }, () => []);
    const logps: number[][] = Array.from({ length: rows }, () => []);
    const ents: number[][] = Array.from({ length: rows }, () => []);
    const done = new Uint8Array(B);
    for (let r = rows; r < B; r++) done[r] = 1;
    const keyBias = new Float32Array(B * S).fill(MASKED);
    for (let r = 0; r < B; r++) {
      const Lp = lens[Math.floor(r / n)];
      for (let s = 0; s < N; s++) keyBias[r * S + s] = 0;
      for (let j = 0; j < Lp; j++) keyBias[r * S + N + Tp - Lp + j] = 0;
    }
    const tok = new Int32Array(B);
    const posNow = new Int32Array(B);
    for (let t = 0; t < opts.maxNewTokens; t++) {
      for (let r = 0; r < rows; r++) {
        if (done[r]) {
          tok[r] = PAD;
          continue;
        }
        const ls = logSoftmax(logits, r * V, V);
        let id: number;
        if (opts.greedy) {
          id = 0;
          for (let j = 1; j < V; j++) if (ls[j] > ls[id]) id = j;
        } else id = sampleToken(opts.temperature === 1 ? ls : logSoftmax(logits, r * V, V, opts.temperature), opts.topP, rng);
        tokens[r].push(id);
        logps[r].push(ls[id]);
        if (opts.entropy) {
          let h = 0;
          for (let j = 0; j < V; j++) h -= Math.exp(ls[j]) * ls[j];
          ents[r].push(h);
        }
        tok[r] = id;
        if (id === EOS) done[r] = 1;
      }
      if (done.every((d) => d === 1) || t === opts.maxNewTokens - 1) break;
      const slot = new Float32Array(S);
      slot[S0 + t] = 1;
      for (let r = 0; r < B; r++) {
        keyBias[r * S + S0 + t] = 0;
        posNow[r] = N + lens[Math.floor(r / n)] + t;
      }
      [kc, vc, logitsArr] = step(refTree(this.params as unknown as ParamTree), kc, vc, i32(tok, [B]), i32(posNow, [B]), f32(slot, [1, 1, S, 1]), f32(keyBias, [B, 1, 1, S]));
      logits = (await logitsArr.data()) as Float32Array;
    }
    kc.dispose();
    vc.dispose();
    return tokens.map((tk, r) => ({
      tokens: tk,
      logp: Float32Array.from(logps[r]),
      entropy: opts.entropy ? Float32Array.from(ents[r]) : undefined,
      finished: tk[tk.length - 1] === EOS,
    }));
  }

  // ---- checkpoints ----------------------------------------------------------------------------

  async save(dir: string, meta: Record<string, unknown> = {}): Promise<void> {
    mkdirSync(dir, { recursive: true });
    const p = await treeToHost(this.params as unknown as ParamTree);
    writeSafetensors(join(dir, 'model.safetensors'), p, { format: FORMAT });
    const m = await treeToHost(this.opt.m);
    const v = await treeToHost(this.opt.v);
    const opt: Array<[string, HostTensor]> = [...[...m].map(([n, t]) => [`m.${n}`, t] as [string, HostTensor]), ...[...v].map(([n, t]) => [`v.${n}`, t] as [string, HostTensor])];
    writeSafetensors(join(dir, 'optimizer.safetensors'), opt, { format: FORMAT });
    // the sidecar last: a directory without it is not a checkpoint
    writeFileAtomic(join(dir, 'model.json'), JSON.stringify({ format: FORMAT, config: this.config, vocab: this.tokenizer.vocab, adam_t: this.opt.t, params: this.paramCount, meta }, null, 1) + '\n');
  }

  dispose(): void {
    disposeTree(this.params as unknown as ParamTree);
    disposeAdamW(this.opt);
    this.zeroGrad();
  }
}

export const policyFactory: PolicyFactory = {
  create: (preset, seed) => VlmPolicy.create(preset, seed),
  load: (dir) => VlmPolicy.load(dir),
};
