/**
 * The compact VLM as the trainer's `Policy` on the native engine: parameters, gradient and
 * optimizer moments in flat Float32Arrays (model.ts `ParamLayout`), every matrix product on CBLAS
 * sgemm (blas.ts). The architecture, the checkpoint layout (checkpoint.ts) and the initial
 * weights (params.ts `initHostParams`) are the jax-js policy's, so checkpoints move freely
 * between the two backends.
 */

import type {
  AttentionMode,
  OptimStep,
  Policy,
  PolicyFactory,
  PromptInput,
  ReadingTarget,
  Rollout,
  SampleOptions,
  ScoreItem,
  ScoreOptions,
  Scored,
  StepResult,
  OptimizerKind,
} from '../../core/policy.ts';
import { optimizerMismatch, clipScale } from '../../engine/adamw.ts';
import { Rng } from '../../engine/rng.ts';
import type { HostTensor } from '../../engine/safetensors.ts';
import { type ModelConfig, type PresetName, OCR_OUTPUTS, dims, modelConfig, validateConfig } from '../config.ts';
import { EOS, Tokenizer } from '../tokenizer.ts';
import { LOGIT_SCALE, initHostParams } from '../params.ts';
import { imagePatches } from '../batch.ts';
import { rolloutLoop, samplingPlan } from '../rollouts.ts';
import { checkCotangents, checkMode, checkTemperature, leafRates } from '../policy-checks.ts';
import { ocrTargets } from '../ocr.ts';
import { readCheckpoint, writeCheckpoint } from '../checkpoint.ts';
import { blas, blasSummary } from './blas.ts';
import { simdKernels } from './simd/simd.ts';
import { sharedHelpers } from './helper-threads.ts';
import { Arena, ParamLayout, type Weights, decoderBackward, decoderForward, visionBackward, visionForward } from './model.ts';
import { linearBackward, linearForward, logSoftmaxRow, logSumExpRow } from './ops.ts';
import { expNonPos } from '../exp.ts';
import { planBatches } from './plan.ts';
import { decodeStep, prefill } from './decode.ts';

/** What computes on the native engine, for run records and benchmark headers (Policy.engine): the BLAS library, kernels and threads, and the SIMD kernels' digest. */
export function nativeEngine(): string {
  const simd = simdKernels();
  return `native: ${blasSummary()}; ${simd ? `WebAssembly SIMD kernels ${simd.digest}` : 'JavaScript loops (no SIMD kernels)'}`;
}

export class NativePolicy implements Policy {
  readonly config: ModelConfig;
  readonly tokenizer: Tokenizer;
  readonly logitScale = LOGIT_SCALE;
  readonly backend = 'native';
  readonly engine = nativeEngine();

  private readonly layout: ParamLayout;
  private readonly theta: Float32Array;
  private readonly grad: Float32Array;
  private readonly m: Float32Array;
  private readonly v: Float32Array;
  private t = 0;
  private kind: OptimizerKind | null = null;
  private readonly w: Weights;
  private readonly dw: Weights;
  private readonly arena = new Arena(sharedHelpers());
  private disposed = false;

  constructor(
    config: ModelConfig,
    tokenizer: Tokenizer,
    weights: readonly [string, HostTensor][],
    opt?: { m: readonly [string, HostTensor][]; v: readonly [string, HostTensor][]; t: number; kind: OptimizerKind | null },
  ) {
    validateConfig(config);
    blas(); // fail here, naming the package, rather than at the first product
    this.config = config;
    this.tokenizer = tokenizer;
    this.layout = new ParamLayout(config, tokenizer.size);
    const flat = (entries: readonly [string, HostTensor][]) => {
      const out = new Float32Array(this.layout.total);
      for (const [n, t] of entries) this.layout.view(out, n).set(t.data);
      return out;
    };
    this.theta = flat(weights);
    this.grad = new Float32Array(this.layout.total);
    this.m = opt ? flat(opt.m) : new Float32Array(this.layout.total);
    this.v = opt ? flat(opt.v) : new Float32Array(this.layout.total);
    if (opt) {
      this.t = opt.t;
      this.kind = opt.kind;
    }
    this.w = this.layout.weights(this.theta, config);
    this.dw = this.layout.weights(this.grad, config);
  }

  static async create(preset: PresetName | ModelConfig = 'small', seed = 0): Promise<NativePolicy> {
    const cfg = typeof preset === 'string' ? modelConfig(preset) : preset;
    const tok = Tokenizer.fromPieces(cfg.pieces);
    return new NativePolicy(cfg, tok, initHostParams(cfg, tok.size, Rng.seeded(seed)));
  }

  static async load(dir: string): Promise<{ policy: NativePolicy; meta: Record<string, unknown> }> {
    const c = readCheckpoint(dir);
    return { policy: new NativePolicy(c.config, c.tokenizer, c.weights, c.optimizer ?? undefined), meta: c.meta };
  }

  get vocabSize(): number {
    return this.tokenizer.size;
  }
  get paramCount(): number {
    return this.layout.total;
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
  get updates(): number {
    return this.t;
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

  /** Forward over one micro-batch at a time; `each` sees its logits and members. */
  private forEachBatch(items: readonly ScoreItem[], mode: AttentionMode, each: (mb: ReturnType<typeof planBatches>[number], run: ReturnType<typeof decoderForward>) => void): void {
    const withImage = checkMode(mode) === 'image';
    for (const mb of planBatches(items, this.config, withImage, this.config.batching.tokensPerMicroBatch)) {
      const vision = withImage ? visionForward(this.w, this.config, this.arena, mb.patches!, mb.images) : null;
      each(mb, decoderForward(this.w, this.config, this.vocabSize, this.arena, mb.plan, vision));
    }
  }

  async score(items: readonly ScoreItem[], opts: ScoreOptions): Promise<Scored> {
    this.live();
    const V = this.vocabSize;
    const inv = 1 / checkTemperature(opts.temperature);
    const logp = items.map((it) => new Float32Array(it.response.length));
    const entropy = opts.entropy ? items.map((it) => new Float32Array(it.response.length)) : undefined;
    const rows = opts.rows ? items.map((it) => new Float32Array(it.response.length * V)) : undefined;
    const lsm = new Float64Array(V);
    this.forEachBatch(items, opts.mode, (mb, run) => {
      for (const { item, logit0, length } of mb.members) {
        for (let k = 0; k < length; k++) {
          const i = logit0 + k;
          const y = mb.plan.targets[i];
          if (!entropy && !rows) {
            // the chosen token's log-prob alone: its logit less the normaliser (logSoftmaxRow's bits, one exp pass)
            logp[item][k] = run.logits[i * V + y] * inv - logSumExpRow(run.logits, i * V, V, inv);
            continue;
          }
          const ent = logSoftmaxRow(lsm, run.logits, i * V, V, inv);
          logp[item][k] = lsm[y];
          if (entropy) entropy[item][k] = ent;
          if (rows) rows[item].set(lsm, k * V);
        }
      }
    });
    return { logp, ...(entropy ? { entropy } : {}), ...(rows ? { rows } : {}) };
  }

  /**
   * Accumulates scale * d/dparams of sum(wLogp * logp + wEnt * entropy) over the items' tokens;
   * returns that sum (unscaled). With temperature T the distribution is softmax(logits / T).
   * The callbacks below see views that the next micro-batch overwrites: they stay synchronous.
   */
  private accumulate(
    items: readonly ScoreItem[],
    mode: AttentionMode,
    wLogp: (i: number) => ArrayLike<number>,
    wEnt: ((i: number) => ArrayLike<number>) | null,
    temperature?: number,
    scale = 1,
  ): number {
    this.live();
    const V = this.vocabSize;
    const inv = 1 / checkTemperature(temperature);
    const lsm = new Float64Array(V);
    let total = 0;
    this.forEachBatch(items, mode, (mb, run) => {
      const NL = mb.plan.targets.length;
      if (NL === 0) return; // no token: nothing to sum or differentiate
      const dLogits = this.arena.get('head.dlogits', NL * V);
      dLogits.fill(0);
      for (const { item, logit0, length } of mb.members) {
        const wl = wLogp(item);
        const we = wEnt?.(item);
        for (let k = 0; k < length; k++) {
          const i = logit0 + k;
          const ent = logSoftmaxRow(lsm, run.logits, i * V, V, inv);
          const y = mb.plan.targets[i];
          const a = wl[k];
          const b = we ? we[k] : 0;
          total += a * lsm[y] + b * ent;
          // d logp_y / dz_j = 1[j = y] - p_j;  d H / dz_j = -p_j (log p_j + H); both times 1/T
          const o = i * V;
          for (let j = 0; j < V; j++) {
            const p = expNonPos(lsm[j]); // lsm[j] <= 0
            dLogits[o + j] = scale * inv * (-a * p - b * p * (lsm[j] + ent));
          }
          dLogits[o + y] += scale * inv * a;
        }
      }
      if (scale !== 0) decoderBackward(this.w, this.dw, this.config, V, this.arena, run, dLogits);
    });
    return total;
  }

  async backward(
    items: readonly ScoreItem[],
    dLogp: readonly Float32Array[],
    opts: { readonly mode: AttentionMode; readonly dEntropy?: readonly Float32Array[]; readonly temperature?: number },
  ): Promise<void> {
    this.live();
    checkCotangents(items, dLogp, opts.dEntropy);
    const dEnt = opts.dEntropy;
    this.accumulate(items, opts.mode, (i) => dLogp[i], dEnt ? (i) => dEnt[i] : null, opts.temperature);
  }

  async sftBackward(items: readonly ScoreItem[], scale: number, opts: { readonly mode: AttentionMode } = { mode: 'image' }): Promise<{ nll: number; tokens: number }> {
    // d/dparams of scale * NLL = scale * d/dparams sum(-1 * logp): weights -1 on every gold token
    const minusOnes = (i: number) => new Float32Array(items[i].response.length).fill(-1);
    const nll = this.accumulate(items, opts.mode, minusOnes, null, 1, scale);
    return { nll, tokens: items.reduce((n, it) => n + it.response.length, 0) };
  }

  /**
   * The reading loss (ocr.ts): sum over images, patches and outputs of softplus(z) - y z on the
   * reading head's logits z of the image tokens; accumulates scale times its gradient.
   */
  async visionBackward(images: readonly ReadingTarget[], scale: number): Promise<{ loss: number; terms: number }> {
    this.live();
    const cfg = this.config;
    const { N, F, C } = dims(cfg);
    const O = OCR_OUTPUTS;
    const per = 16;
    let total = 0;
    for (let at = 0; at < images.length; at += per) {
      const part = images.slice(at, at + per);
      const G = part.length;
      const patches = new Float32Array(G * N * F);
      const y = new Float32Array(G * N * O);
      part.forEach((im, g) => {
        patches.set(imagePatches(im.image, cfg), g * N * F);
        y.set(ocrTargets(im.glyphs, cfg), g * N * O);
      });
      const run = visionForward(this.w, cfg, this.arena, patches, G);
      const z = this.arena.get('ocr.z', G * N * O);
      linearForward(z, run.tokens, this.w.ocrW, this.w.ocrB, G * N, C, O);
      for (let i = 0; i < G * N * O; i++) {
        const zi = z[i];
        // softplus(z) = max(z, 0) + log1p(exp(-|z|)), stable for either sign
        total += Math.max(zi, 0) + Math.log1p(Math.exp(-Math.abs(zi))) - y[i] * zi;
        z[i] = scale * (1 / (1 + Math.exp(-zi)) - y[i]);
      }
      const dTokens = this.arena.get('ocr.dtokens', G * N * C);
      linearBackward(dTokens, this.dw.ocrW, this.dw.ocrB, z, run.tokens, this.w.ocrW, G * N, C, O);
      visionBackward(this.w, this.dw, cfg, this.arena, run, dTokens);
    }
    return { loss: total, terms: images.length * N * O };
  }

  parameterNames(): string[] {
    this.live();
    return this.layout.leaves.map((l) => l.name);
  }

  async logitScaleValue(): Promise<number> {
    return this.w.scale[0];
  }

  optimizerHeld(): { t: number; kind: OptimizerKind | null } {
    return { t: this.t, kind: this.kind };
  }

  async step(o: OptimStep): Promise<StepResult> {
    this.live();
    const byName = leafRates(this.parameterNames(), o);
    const rates = this.layout.leaves.map((l) => byName.get(l.name)!);
    // a frozen weight (rate 0) has its gradient zeroed before the norm, so it does not set the clip
    this.layout.leaves.forEach((l, i) => {
      if (rates[i] === 0) this.grad.fill(0, l.offset, l.offset + l.size);
    });
    let ss = 0;
    for (let i = 0; i < this.grad.length; i++) ss += this.grad[i] * this.grad[i];
    const gradNorm = Math.sqrt(ss);
    if (!Number.isFinite(gradNorm)) {
      this.zeroGrad();
      return { gradNorm, applied: false };
    }
    const kind: OptimizerKind = o.optimizer === 'sgd' ? 'sgd' : 'adamw';
    const why = optimizerMismatch({ t: this.t, kind: this.kind }, kind);
    if (why) throw new Error(why);
    this.kind = kind;
    const c = clipScale(gradNorm, o.maxGradNorm);
    const t = this.t + 1;
    const [b1, b2] = o.betas;
    const bc1 = 1 - b1 ** t;
    const bc2 = 1 - b2 ** t;
    const mu = o.momentum ?? 0.9;
    const { theta, grad, m, v } = this;
    this.layout.leaves.forEach((l, li) => {
      const lr = rates[li];
      const wd = l.shape.length >= 2 ? o.weightDecay : 0; // matrices decay; biases, gains, the scale do not
      const end = l.offset + l.size;
      if (kind === 'adamw') {
        for (let i = l.offset; i < end; i++) {
          const g = c * grad[i];
          m[i] = b1 * m[i] + (1 - b1) * g;
          v[i] = b2 * v[i] + (1 - b2) * g * g;
          theta[i] -= lr * (m[i] / bc1 / (Math.sqrt(v[i] / bc2) + o.eps) + wd * theta[i]);
        }
      } else {
        for (let i = l.offset; i < end; i++) {
          m[i] = mu * m[i] + c * grad[i];
          theta[i] -= lr * (m[i] + wd * theta[i]);
        }
      }
    });
    this.t = t;
    grad.fill(0);
    return { gradNorm, applied: true };
  }

  zeroGrad(): void {
    this.grad.fill(0);
  }

  resetOptimizer(): void {
    this.m.fill(0);
    this.v.fill(0);
    this.t = 0;
    this.kind = null;
  }

  async gradVector(): Promise<Float32Array> {
    return Float32Array.from(this.grad);
  }

  async sample(prompts: readonly PromptInput[], o: SampleOptions): Promise<Rollout[]> {
    this.live();
    const { perChunk, rng } = samplingPlan(this.config, prompts, o);
    const out: Rollout[] = [];
    for (let start = 0; start < prompts.length; start += perChunk) out.push(...(await this.sampleChunk(prompts.slice(start, start + perChunk), o, rng)));
    return out;
  }

  /** One chunk: prefill, then one decode step per token over the open rollouts only. */
  private async sampleChunk(prompts: readonly PromptInput[], o: SampleOptions, rng: Rng): Promise<Rollout[]> {
    const cfg = this.config;
    const { N } = dims(cfg);
    const V = this.vocabSize;
    const R = o.n;
    const cache = prefill(
      this.layout,
      this.theta,
      cfg,
      V,
      this.arena,
      prompts.map((p) => ({ image: p.image, prompt: p.prompt, response: [] })),
      R,
      o.maxNewTokens,
    );
    return rolloutLoop(prompts.length, V, cache.first, o, rng, async (open, tokens, t) => {
      const slots = Int32Array.from(open);
      const pos = Int32Array.from(open, (i) => N + prompts[Math.floor(i / R)].prompt.length + t);
      const logits = decodeStep(cfg, V, this.arena, cache, slots, tokens, pos, t);
      const row = new Map(open.map((s, a) => [s, a]));
      return { logits, rowOf: (slot: number) => row.get(slot)! };
    });
  }

  private host(flat: Float32Array): [string, HostTensor][] {
    return this.layout.leaves.map((l) => [l.name, { shape: [...l.shape], data: flat.slice(l.offset, l.offset + l.size) }]);
  }

  async save(dir: string, meta: Record<string, unknown> = {}): Promise<void> {
    this.live();
    writeCheckpoint(dir, {
      config: this.config,
      tokenizer: this.tokenizer,
      weights: this.host(this.theta),
      optimizer: { m: this.host(this.m), v: this.host(this.v), t: this.t, kind: this.kind },
      meta,
    });
  }

  dispose(): void {
    this.disposed = true;
  }

  /** Parameter paths and host copies (tests, analyses). */
  async weights(): Promise<Map<string, HostTensor>> {
    return new Map(this.host(this.theta));
  }

  /** The accumulated gradient by parameter path (tests). */
  async gradients(): Promise<Map<string, HostTensor>> {
    return new Map(this.host(this.grad));
  }

  async optimizerState(): Promise<{ m: Map<string, HostTensor>; v: Map<string, HostTensor>; t: number }> {
    return { m: new Map(this.host(this.m)), v: new Map(this.host(this.v)), t: this.t };
  }

  /** Replaces one weight (finite-difference tests). */
  setWeight(name: string, data: Float32Array): void {
    const view = this.layout.view(this.theta, name);
    if (view.length !== data.length) throw new Error(`parameter '${name}' has ${view.length} values, got ${data.length}`);
    view.set(data);
  }

  /** Bytes of activation buffers held (benchmarks). */
  bufferBytes(): number {
    return this.arena.bytes();
  }
}

export const nativeFactory: PolicyFactory = {
  create: (preset, seed) => NativePolicy.create(preset, seed),
  load: (dir) => NativePolicy.load(dir),
};
