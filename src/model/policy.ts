/**
 * The compact VLM as the trainer's `Policy` (src/core/policy.ts): host data in, host data out.
 * This class owns the parameters, the optimizer state and the gradient buffer, packs requests into
 * fixed-shape micro-batches (src/model/batch.ts) and runs the jitted programs of
 * src/model/forward.ts and src/model/decode.ts. Checkpoints are a directory:
 *   model.safetensors      weights, by dotted path ('decoder.layers.0.qkv.w')
 *   optimizer.safetensors  AdamW moments 'm.<path>', 'v.<path>' (SGD: its velocity in m); metadata t =
 *                          updates so far, optimizer = adamw|sgd (absent in older checkpoints: adamw)
 *   policy.json            sidecar: format, config, vocabulary, step, user metadata (written last)
 */

import type {
  AttentionMode,
  OptimStep,
  OptimizerKind,
  Policy,
  PolicyFactory,
  PromptInput,
  ReadingTarget,
  Rollout,
  ScoreItem,
  ScoreOptions,
  Scored,
  SampleOptions,
  StepResult,
} from '../core/policy.ts';
import { engineSummary, initEngine, jit, valueAndGrad, numpy as np, nn, tree as jtree, f32, i32, toF32 } from '../engine/jax.ts';
import { Rng } from '../engine/rng.ts';
import { type ParamTree, disposeTree, fromNamed, mapNamed, namedLeaves, paramCount, refTree, treeFromHost, treeToHost, zerosLike } from '../engine/tree.ts';
import { type AdamWState, type LeafLr, adamwInit, adamwStep, sgdStep, clipScale, disposeAdamW, globalNorm } from '../engine/adamw.ts';
import type { HostTensor } from '../engine/safetensors.ts';
import { CHECKPOINT_FORMAT, readCheckpoint, writeCheckpoint } from './checkpoint.ts';
import { type ModelConfig, type PresetName, dims, gradTokens, modelConfig, OCR_OUTPUTS, validateConfig } from './config.ts';
import { EOS, PAD, Tokenizer } from './tokenizer.ts';
import { LOGIT_SCALE, type PolicyParams, initHostParams } from './params.ts';
import { type BatchArrays, type ForwardMode, responseLogits, tempered, tokenStats, weightedObjective } from './forward.ts';
import { type PrefixBatch, type PrefixState, decodeStep, prefill } from './decode.ts';
import { type HostBatch, bucketFor, imagePatches, packBatches, slotWeights } from './batch.ts';
import { rolloutLoop, samplingPlan } from './rollouts.ts';
import { checkCotangents, checkMode, checkTemperature, leafRates } from './policy-checks.ts';
import { ocrLoss, ocrTargets } from './ocr.ts';

export { CHECKPOINT_FORMAT };

// ---------------------------------------------------------------------------------------------
// Jitted programs, one set per (config, mode, options), shared by every policy in the process
// (a policy loaded from a checkpoint reuses the compiled programs of the one that saved it).
// ---------------------------------------------------------------------------------------------

type Jitted = (...args: any[]) => any;
const programs = new Map<string, Jitted>();

function program(cfg: ModelConfig, name: string, make: () => Jitted): Jitted {
  const key = `${JSON.stringify(cfg)}|${name}`;
  let f = programs.get(key);
  if (!f) {
    f = make();
    programs.set(key, f);
  }
  return f;
}

/** Temperature 1 keeps the program names (and programs) there were before temperatures. */
const tempKey = (temperature: number) => (temperature === 1 ? '' : `:t${temperature}`);

function scoreProgram(cfg: ModelConfig, mode: ForwardMode, entropy: boolean, rows: boolean, temperature: number): Jitted {
  return program(cfg, `score:${mode}:${entropy}:${rows}${tempKey(temperature)}`, () =>
    jit((params: PolicyParams, b: BatchArrays) => {
      const targets = b.respIds.ref;
      const lsm = nn.logSoftmax(tempered(responseLogits(params, b, mode, cfg), temperature), -1);
      const V = params.decoder.tok.shape[0];
      const keepRows = rows ? lsm.ref.slice([], [], [], [0, V]) : null;
      const [logp, ent] = tokenStats(lsm, targets, entropy);
      const out: Record<string, np.Array> = { logp };
      if (ent) out.entropy = ent;
      if (keepRows) out.rows = keepRows;
      return out;
    }),
  );
}

/** acc + scale * d/dparams sum(wLogp * logp + wEnt * ent); also returns sum(wLogp * logp + ...). */
function gradProgram(cfg: ModelConfig, mode: ForwardMode, withEntropy: boolean, temperature: number): Jitted {
  return program(cfg, `grad:${mode}:${withEntropy}${tempKey(temperature)}`, () =>
    jit((params: PolicyParams, acc: ParamTree, b: BatchArrays, w: { logp: np.Array; ent?: np.Array }, scale: np.Array) => {
      const f = (p: PolicyParams) => weightedObjective(p, b, w.logp, w.ent ?? null, mode, cfg, temperature);
      const [value, g] = valueAndGrad(f)(params);
      const next = jtree.map((a: np.Array, d: np.Array) => a.add(d.mul(scale.ref)), acc, g as ParamTree);
      scale.dispose();
      return [next, value];
    }),
  );
}

/** acc + scale * d/dparams of the reading loss (ocr.ts); also returns the loss. */
function ocrGradProgram(cfg: ModelConfig): Jitted {
  return program(cfg, 'ocr-grad', () =>
    jit((params: PolicyParams, acc: ParamTree, patches: np.Array, targets: np.Array, w: np.Array, scale: np.Array) => {
      const [value, g] = valueAndGrad((p: PolicyParams) => ocrLoss(p, patches, targets, w, cfg))(params);
      const next = jtree.map((a: np.Array, d: np.Array) => a.add(d.mul(scale.ref)), acc, g as ParamTree);
      scale.dispose();
      return [next, value];
    }),
  );
}

/** Images per reading-loss call: one fixed shape (the last call is padded with weight-0 images). */
const OCR_IMAGES_PER_CALL = 16;

function prefillProgram(cfg: ModelConfig): Jitted {
  return program(cfg, 'prefill', () => jit((params: PolicyParams, b: PrefixBatch) => prefill(params, b, cfg)));
}

function stepProgram(cfg: ModelConfig): Jitted {
  return program(cfg, 'decode', () =>
    jit((params: PolicyParams, prefix: PrefixState, k: np.Array[], v: np.Array[], token: np.Array, pos: np.Array, t: np.Array) => decodeStep(params, prefix, k, v, token, pos, t, cfg)),
  );
}

/** Host micro-batch -> device arrays (the layout of `BatchArrays`). */
function toDevice(hb: HostBatch, cfg: ModelConfig): BatchArrays {
  const { N, F } = dims(cfg);
  const { G, R, P, T } = hb;
  const b: BatchArrays = {
    promptIds: i32(hb.promptIds, [G, P]),
    promptPos: i32(hb.promptPos, [G, P]),
    promptValid: f32(hb.promptValid, [G, P]),
    respIds: i32(hb.respIds, [G, R, T]),
    respPos: i32(hb.respPos, [G, R, T]),
  };
  if (hb.patches) b.patches = f32(hb.patches, [G, N, F]);
  return b;
}

// ---------------------------------------------------------------------------------------------

export class VlmPolicy implements Policy {
  readonly config: ModelConfig;
  readonly tokenizer: Tokenizer;
  private params: PolicyParams;
  private opt: AdamWState;
  private grads: ParamTree;
  private disposed = false;

  constructor(config: ModelConfig, tokenizer: Tokenizer, params: PolicyParams, opt?: AdamWState) {
    validateConfig(config);
    this.config = config;
    this.tokenizer = tokenizer;
    this.params = params;
    this.opt = opt ?? adamwInit(params);
    this.grads = zerosLike(params);
  }

  /** A fresh policy from a preset (or a full config) and a seed. Starts the engine if needed. */
  static async create(preset: PresetName | ModelConfig = 'small', seed = 0): Promise<VlmPolicy> {
    await initEngine();
    const cfg = typeof preset === 'string' ? modelConfig(preset) : preset;
    const tok = Tokenizer.fromPieces(cfg.pieces);
    return new VlmPolicy(cfg, tok, treeFromHost(initHostParams(cfg, tok.size, Rng.seeded(seed))) as PolicyParams);
  }

  readonly logitScale = LOGIT_SCALE;
  readonly engine = engineSummary();

  get vocabSize(): number {
    return this.tokenizer.size;
  }
  get paramCount(): number {
    return paramCount(this.params);
  }
  get imageSize(): number {
    return this.config.image.size;
  }
  get patchSize(): number {
    return this.config.image.patch;
  }
  get eos(): number {
    return EOS;
  }
  /** Optimizer updates applied so far. */
  get updates(): number {
    return this.opt.t;
  }

  encodePrompt(problem: string): number[] {
    return this.tokenizer.encodePrompt(problem);
  }

  encode(text: string): number[] {
    return this.tokenizer.encode(text);
  }

  decode(ids: readonly number[]): string {
    return this.tokenizer.decode(ids);
  }

  private live(): void {
    if (this.disposed) throw new Error('this policy was disposed');
  }

  // ------------------------------------------------------------------------------- scoring

  async score(items: readonly ScoreItem[], opts: ScoreOptions): Promise<Scored> {
    return this.scoreAs(items, checkMode(opts.mode), opts);
  }

  /** `score` with the internal modes too (tests compare `text-only` with `text-only-masked`). */
  async scoreAs(items: readonly ScoreItem[], mode: ForwardMode, opts: { entropy?: boolean; rows?: boolean; temperature?: number } = {}): Promise<Scored> {
    this.live();
    const V = this.vocabSize;
    const logp: Float32Array[] = items.map((it) => new Float32Array(it.response.length));
    const entropy = opts.entropy ? items.map((it) => new Float32Array(it.response.length)) : undefined;
    const rows = opts.rows ? items.map((it) => new Float32Array(it.response.length * V)) : undefined;
    const run = scoreProgram(this.config, mode, !!opts.entropy, !!opts.rows, checkTemperature(opts.temperature));
    for (const hb of packBatches(items, this.config, { withImage: mode !== 'text-only' })) {
      const out = run(refTree(this.params), toDevice(hb, this.config)) as Record<string, np.Array>;
      const lp = await toF32(out.logp);
      const en = out.entropy ? await toF32(out.entropy) : null;
      const rw = out.rows ? await toF32(out.rows) : null;
      hb.slots.forEach((idx, s) => {
        if (idx < 0) return;
        const n = items[idx].response.length;
        logp[idx].set(lp.subarray(s * hb.T, s * hb.T + n));
        if (en && entropy) entropy[idx].set(en.subarray(s * hb.T, s * hb.T + n));
        if (rw && rows) rows[idx].set(rw.subarray(s * hb.T * V, (s * hb.T + n) * V));
      });
    }
    return { logp, ...(entropy ? { entropy } : {}), ...(rows ? { rows } : {}) };
  }

  // ------------------------------------------------------------------------------- gradients

  async backward(
    items: readonly ScoreItem[],
    dLogp: readonly Float32Array[],
    opts: { readonly mode: AttentionMode; readonly dEntropy?: readonly Float32Array[]; readonly temperature?: number },
  ): Promise<void> {
    checkCotangents(items, dLogp, opts.dEntropy);
    await this.accumulate(items, checkMode(opts.mode), (i) => dLogp[i], opts.dEntropy ? (i) => opts.dEntropy![i] : null, 1, checkTemperature(opts.temperature));
  }

  /** `backward` in any internal mode; returns the sum of w * logp (+ w * entropy). */
  async accumulate(
    items: readonly ScoreItem[],
    mode: ForwardMode,
    wLogp: (i: number) => ArrayLike<number>,
    wEnt: ((i: number) => ArrayLike<number>) | null,
    scale: number,
    temperature = 1,
  ): Promise<number> {
    this.live();
    const run = gradProgram(this.config, mode, wEnt !== null, temperature);
    const len = (i: number) => items[i].response.length;
    let total = 0;
    for (const hb of packBatches(items, this.config, { withImage: mode !== 'text-only', tokens: gradTokens(this.config) })) {
      const shape = [hb.G, hb.R, hb.T];
      const wl = f32(slotWeights(hb, wLogp, len), shape);
      const w = wEnt ? { logp: wl, ent: f32(slotWeights(hb, wEnt, len), shape) } : { logp: wl };
      const [acc, value] = run(refTree(this.params), this.grads, toDevice(hb, this.config), w, f32([scale], []));
      this.grads = acc;
      total += (await toF32(value))[0];
    }
    return total;
  }

  async sftBackward(items: readonly ScoreItem[], scale: number, opts: { readonly mode: AttentionMode } = { mode: 'image' }): Promise<{ nll: number; tokens: number }> {
    // d/dparams of scale * NLL = scale * d/dparams sum(-1 * logp): weights -1 on every real token.
    const minusOnes = (i: number) => new Float32Array(items[i].response.length).fill(-1);
    const negLogp = await this.accumulate(items, checkMode(opts.mode), minusOnes, null, scale);
    return { nll: negLogp, tokens: items.reduce((n, it) => n + it.response.length, 0) };
  }

  /**
   * The vision encoder's reading loss (ocr.ts) on images whose drawn characters are known:
   * accumulates scale * d/dparams of the summed cross-entropy; returns that sum and the number
   * of (patch, output) terms it is summed over.
   */
  async visionBackward(images: readonly ReadingTarget[], scale: number): Promise<{ loss: number; terms: number }> {
    this.live();
    const { N, F } = dims(this.config);
    const G = OCR_IMAGES_PER_CALL;
    const run = ocrGradProgram(this.config);
    let total = 0;
    for (let at = 0; at < images.length; at += G) {
      const part = images.slice(at, at + G);
      const patches = new Float32Array(G * N * F);
      const targets = new Float32Array(G * N * OCR_OUTPUTS);
      const w = new Float32Array(G);
      part.forEach((im, g) => {
        patches.set(imagePatches(im.image, this.config), g * N * F);
        targets.set(ocrTargets(im.glyphs, this.config), g * N * OCR_OUTPUTS);
        w[g] = 1;
      });
      const [acc, value] = run(refTree(this.params), this.grads, f32(patches, [G, N, F]), f32(targets, [G, N, OCR_OUTPUTS]), f32(w, [G]), f32([scale], []));
      this.grads = acc;
      total += (await toF32(value))[0];
    }
    return { loss: total, terms: images.length * N * OCR_OUTPUTS };
  }

  parameterNames(): string[] {
    this.live();
    return namedLeaves(this.params).map(([n]) => n);
  }

  async logitScaleValue(): Promise<number> {
    this.live();
    return (await this.params.decoder.scale.ref.data())[0];
  }

  optimizerHeld(): { t: number; kind: OptimizerKind | null } {
    this.live();
    return { t: this.opt.t, kind: this.opt.kind };
  }

  async step(o: OptimStep): Promise<StepResult> {
    this.live();
    const rates = leafRates(this.parameterNames(), o);
    if ([...rates.values()].some((r) => r === 0)) {
      const old = this.grads;
      this.grads = mapNamed(old, (g, n) => (rates.get(n) === 0 ? np.zeros(g.shape, { dtype: np.float32 }) : g.ref));
      disposeTree(old);
    }
    const gradNorm = await globalNorm(this.grads);
    if (!Number.isFinite(gradNorm)) {
      this.zeroGrad();
      return { gradNorm, applied: false };
    }
    const clip = clipScale(gradNorm, o.maxGradNorm);
    const lr: LeafLr = (name) => rates.get(name)!;
    this.params = (
      o.optimizer === 'sgd'
        ? sgdStep(this.params, this.grads, this.opt, { lr, momentum: o.momentum ?? 0.9, weightDecay: o.weightDecay }, clip)
        : adamwStep(this.params, this.grads, this.opt, { lr, betas: o.betas, eps: o.eps, weightDecay: o.weightDecay }, clip)
    ) as PolicyParams;
    this.grads = zerosLike(this.params);
    return { gradNorm, applied: true };
  }

  resetOptimizer(): void {
    this.live();
    disposeAdamW(this.opt);
    this.opt = adamwInit(this.params);
  }

  zeroGrad(): void {
    this.live();
    disposeTree(this.grads);
    this.grads = zerosLike(this.params);
  }

  async gradVector(): Promise<Float32Array> {
    this.live();
    const host = await treeToHost(this.grads);
    const out = new Float32Array(this.paramCount);
    let at = 0;
    for (const t of host.values()) {
      out.set(t.data, at);
      at += t.data.length;
    }
    return out;
  }

  // ------------------------------------------------------------------------------- sampling

  async sample(prompts: readonly PromptInput[], o: SampleOptions): Promise<Rollout[]> {
    this.live();
    const { perChunk, Tmax, rng } = samplingPlan(this.config, prompts, o);
    const out: Rollout[] = [];
    for (let start = 0; start < prompts.length; start += perChunk) {
      out.push(...(await this.sampleChunk(prompts.slice(start, start + perChunk), perChunk, Tmax, o, rng)));
    }
    return out;
  }

  /** One chunk: G groups (the last chunk padded to G, so one program serves every chunk). */
  private async sampleChunk(prompts: readonly PromptInput[], G: number, Tmax: number, o: SampleOptions, rng: Rng): Promise<Rollout[]> {
    const cfg = this.config;
    const { N } = dims(cfg);
    const R = o.n;
    const H = cfg.decoder.heads;
    const D = cfg.decoder.width / H;
    // The prefix: pack the prompts as groups with empty responses.
    const items: ScoreItem[] = prompts.map((p) => ({ image: p.image, prompt: p.prompt, response: [] }));
    for (let g = prompts.length; g < G; g++) items.push({ ...items[0], image: items[0].image });
    const P = bucketFor(Math.max(...items.map((it) => it.prompt.length)), cfg.batching.promptBuckets, 'a prompt');
    const [prefix, first] = prefillProgram(cfg)(refTree(this.params), prefixArrays(items, cfg, P)) as [PrefixState, np.Array];
    const cur = new Int32Array(G * R).fill(PAD);
    const pos = new Int32Array(G * R).fill(N);
    let k: np.Array[] = Array.from({ length: cfg.decoder.layers }, () => np.zeros([G, H, R, Tmax, D]));
    let v: np.Array[] = Array.from({ length: cfg.decoder.layers }, () => np.zeros([G, H, R, Tmax, D]));
    try {
      // every row of [G, R] is decoded (fixed shapes); finished ones are simply not read
      return await rolloutLoop(prompts.length, this.vocabSize, await toF32(first), o, rng, async (open, tokens, t) => {
        open.forEach((slot, i) => {
          cur[slot] = tokens[i];
          pos[slot] = N + prompts[Math.floor(slot / R)].prompt.length + t;
        });
        const [lg, k2, v2] = stepProgram(cfg)(refTree(this.params), refTree(prefix), k, v, i32(cur, [G, R]), i32(pos, [G, R]), i32([t], [1])) as [np.Array, np.Array[], np.Array[]];
        k = k2;
        v = v2;
        return { logits: await toF32(lg), rowOf: (slot: number) => slot }; // [G, R, V]: slot g * R + r
      });
    } finally {
      disposeTree(k);
      disposeTree(v);
      disposeTree(prefix);
    }
  }

  // ------------------------------------------------------------------------------- checkpoints

  async save(dir: string, meta: Record<string, unknown> = {}): Promise<void> {
    this.live();
    const host = async (t: ParamTree) => [...(await treeToHost(t))] as [string, HostTensor][];
    const optimizer = { m: await host(this.opt.m), v: await host(this.opt.v), t: this.opt.t, kind: this.opt.kind };
    writeCheckpoint(dir, { config: this.config, tokenizer: this.tokenizer, weights: await host(this.params), optimizer, meta });
  }

  static async load(dir: string): Promise<{ policy: VlmPolicy; meta: Record<string, unknown> }> {
    await initEngine();
    const c = readCheckpoint(dir);
    const params = treeFromHost(c.weights) as PolicyParams;
    const opt: AdamWState | undefined = c.optimizer ? { m: treeFromHost(c.optimizer.m), v: treeFromHost(c.optimizer.v), t: c.optimizer.t, kind: c.optimizer.kind } : undefined;
    return { policy: new VlmPolicy(c.config, c.tokenizer, params, opt), meta: c.meta };
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    disposeTree(this.params);
    disposeTree(this.grads);
    disposeAdamW(this.opt);
  }

  /** Parameter paths and host copies (tests, analyses). */
  async weights(): Promise<Map<string, { shape: number[]; data: Float32Array }>> {
    return treeToHost(this.params);
  }

  /** The accumulated gradient by parameter path, as host copies (tests, analyses). */
  async gradients(): Promise<Map<string, { shape: number[]; data: Float32Array }>> {
    return treeToHost(this.grads);
  }

  /** Optimizer state as host copies (AdamW moments; SGD keeps its velocity in m) (tests). */
  async optimizerState(): Promise<{ m: Map<string, { shape: number[]; data: Float32Array }>; v: Map<string, { shape: number[]; data: Float32Array }>; t: number }> {
    return { m: await treeToHost(this.opt.m), v: await treeToHost(this.opt.v), t: this.opt.t };
  }

  /** Replaces one weight (finite-difference tests). */
  setWeight(name: string, data: Float32Array): void {
    const leaves = namedLeaves(this.params);
    const hit = leaves.find(([n]) => n === name);
    if (!hit) throw new Error(`no parameter '${name}'`);
    if (hit[1].size !== data.length) throw new Error(`parameter '${name}' has ${hit[1].size} values, got ${data.length}`);
    const shape = [...hit[1].shape];
    const rebuilt = leaves.map(([n, a]) => [n, n === name ? f32(data, shape) : a] as [string, np.Array]);
    hit[1].dispose();
    this.params = fromNamed(rebuilt) as PolicyParams;
  }
}

/** The prefill's input: one group per item, prompts left-padded to P (batch.ts's layout). */
function prefixArrays(items: readonly ScoreItem[], cfg: ModelConfig, P: number): PrefixBatch {
  const { N, F } = dims(cfg);
  const G = items.length;
  const patches = new Float32Array(G * N * F);
  const promptIds = new Int32Array(G * P).fill(PAD);
  const promptPos = new Int32Array(G * P).fill(N);
  const promptValid = new Float32Array(G * P);
  items.forEach((it, g) => {
    patches.set(imagePatches(it.image, cfg), g * N * F);
    const L = it.prompt.length;
    for (let j = 0; j < L; j++) {
      const col = g * P + (P - L) + j;
      promptIds[col] = it.prompt[j];
      promptPos[col] = N + j;
      promptValid[col] = 1;
    }
  });
  return {
    patches: f32(patches, [G, N, F]),
    promptIds: i32(promptIds, [G, P]),
    promptPos: i32(promptPos, [G, P]),
    promptValid: f32(promptValid, [G, P]),
  };
}

export const policyFactory: PolicyFactory = {
  create: (preset, seed) => VlmPolicy.create(preset, seed),
  load: (dir) => VlmPolicy.load(dir),
};
