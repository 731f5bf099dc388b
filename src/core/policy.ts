/**
 * What the trainer needs from a policy, and nothing more: the seam between the RL loop and the
 * model. Everything crossing it is plain host data (token ids, Float32Arrays, RGB images), so the
 * loop, the evaluation and the tests never touch the engine. `src/model` implements it; this
 * folder (src/core) imports nothing else of the project.
 *
 * Gradient contract: `backward`, `sftBackward` ACCUMULATE into the policy's gradient buffer;
 * `step` clips, applies AdamW and clears it. Upstream gradients are those of the whole batch
 * loss (src/algo's losses already include aggregation coefficients), so summing the micro-batch
 * contributions gives the exact gradient of the batch loss.
 *
 * Temperature contract (as verl): a rollout's `logp` and `entropy` are those of the distribution
 * its token was drawn from, softmax(logits / temperature) (greedy: temperature 1); `score` and
 * `backward` take the same `temperature` (default 1) and divide the logits by it before the
 * log-softmax, so an RL update compares and differentiates the same tempered policy.
 */
import type { RgbImage } from './image.ts';

/** Which optimizer made a policy's optimizer state. */
export type OptimizerKind = 'adamw' | 'sgd';

/** `image`: normal pass; `text-only`: every image token masked, positions unchanged (PGPO). */
export type AttentionMode = 'image' | 'text-only';

export interface PromptInput {
  readonly image: RgbImage;
  /** Prompt token ids, bos first (from `encodePrompt`). */
  readonly prompt: readonly number[];
}

export interface SampleOptions {
  /** Rollouts per prompt (the group size G). */
  readonly n: number;
  readonly temperature: number;
  readonly topP: number;
  readonly maxNewTokens: number;
  /** Greedy (argmax) decoding; temperature and topP are then ignored. */
  readonly greedy?: boolean;
  /** Any uint32; the same seed gives the same rollouts. */
  readonly seed: number;
  readonly entropy?: boolean;
}

export interface Rollout {
  /** Generated ids, eos included when it was sampled. */
  readonly tokens: number[];
  /** log pi(token | prefix) of the distribution the token was drawn from, softmax(logits / temperature)
   *  (greedy: temperature 1): the old-policy log-probs. */
  readonly logp: Float32Array;
  /** Entropy of that next-token distribution at each step, when asked. */
  readonly entropy?: Float32Array;
  /** True if it ended with eos (false: cut at maxNewTokens). */
  readonly finished: boolean;
}

/** An image and the characters drawn in it, at their glyph centres in pixels. */
export interface ReadingTarget {
  readonly image: RgbImage;
  readonly glyphs: readonly { readonly ch: string; readonly cx: number; readonly cy: number }[];
}

/** One response to score or train on, after its image and prompt (a rollout, a gold answer). */
export interface ScoreItem {
  readonly image: RgbImage;
  readonly prompt: readonly number[];
  readonly response: readonly number[];
}

export interface ScoreOptions {
  readonly mode: AttentionMode;
  readonly entropy?: boolean;
  /** Full log-softmax rows (response length x vocab), for the exact KL estimator. */
  readonly rows?: boolean;
  /** Logits are divided by it before the log-softmax (logp, entropy and rows alike); default 1. */
  readonly temperature?: number;
}

export interface Scored {
  readonly logp: Float32Array[];
  readonly entropy?: Float32Array[];
  /** rows[i] is a (len_i x vocab) row-major Float32Array. */
  readonly rows?: Float32Array[];
}

export interface OptimStep {
  readonly lr: number;
  readonly weightDecay: number;
  readonly betas: readonly [number, number];
  readonly eps: number;
  /** 'sgd': SGD with momentum (`momentum`; betas and eps unused). Default 'adamw'. */
  readonly optimizer?: OptimizerKind;
  readonly momentum?: number;
  /** Parameter paths (or path prefixes, e.g. 'vision') left unchanged by the update. */
  readonly frozen?: readonly string[];
  /** Learning rates for some parameters by path (or prefix), in place of `lr`: 'decoder.scale'.
   *  A rate of 0 freezes them, as `frozen` does. */
  readonly lrFor?: Readonly<Record<string, number>>;
  /** Global-norm clip; null: none. */
  readonly maxGradNorm: number | null;
}

export interface StepResult {
  /** Global norm of the accumulated gradient before clipping (NaN/Inf if any entry is). */
  readonly gradNorm: number;
  /** False if the gradient was not finite: nothing was changed (the buffer is cleared). */
  readonly applied: boolean;
}

export interface Policy {
  readonly vocabSize: number;
  readonly paramCount: number;
  /** What computes it, as far as the last bits of its numbers depend on it (library, kernels,
   *  threads): a run records it, and a resume on another engine says so. */
  readonly engine?: string;
  /** The path of the policy's learned logit scale (an inverse temperature), if it has one: the
   *  trainer gives it `worker.actor.optim.logit_scale_lr`. */
  readonly logitScale?: string;
  /** Its current value (logged as `logit_scale`). */
  logitScaleValue?(): Promise<number>;
  /** Side of the square RGB images the model takes. */
  readonly imageSize: number;
  readonly patchSize: number;
  readonly eos: number;
  /** Problem text (with its `<image>` marker) -> prompt ids, bos first. */
  encodePrompt(problem: string): number[];
  /** Text -> ids (no specials), for gold responses. */
  encode(text: string): number[];
  /** Ids -> text, specials dropped. */
  decode(ids: readonly number[]): string;

  /** Prompts x n rollouts, in order: rollouts of prompt 0 first. */
  sample(prompts: readonly PromptInput[], opts: SampleOptions): Promise<Rollout[]>;
  score(items: readonly ScoreItem[], opts: ScoreOptions): Promise<Scored>;
  /** Accumulates d(loss)/d(params) given d(loss)/d(logp) (and optionally d(loss)/d(entropy)), logp and
   *  entropy being those of softmax(logits / temperature) (default 1), as `score` gives them. */
  backward(
    items: readonly ScoreItem[],
    dLogp: readonly Float32Array[],
    opts: { readonly mode: AttentionMode; readonly dEntropy?: readonly Float32Array[]; readonly temperature?: number },
  ): Promise<void>;
  /**
   * Teacher forcing on gold responses: accumulates grad of (sum of token NLL) * scale; returns the
   * NLL sum and token count. `mode` defaults to `image` (text-only: responses that need no image).
   */
  sftBackward(items: readonly ScoreItem[], scale: number, opts?: { readonly mode: AttentionMode }): Promise<{ nll: number; tokens: number }>;
  /**
   * Optional: a direct reading loss for the vision encoder on images whose drawn characters are
   * known (the VLM's is src/model/ocr.ts). Accumulates scale * its gradient; returns the summed
   * loss and the number of terms summed. SFT uses it when the policy has it.
   */
  visionBackward?(images: readonly ReadingTarget[], scale: number): Promise<{ loss: number; terms: number }>;
  /** Optional: the parameter paths ('decoder.head', ...), so experiment.freeze is checked before the first step. */
  parameterNames?(): string[];
  /** Optional: updates in the optimizer state and which optimizer made them, so a resumed run's experiment.optimizer is checked before its first step. */
  optimizerHeld?(): { t: number; kind: OptimizerKind | null };
  /** Clip, AdamW, clear the gradient buffer. */
  step(opts: OptimStep): Promise<StepResult>;
  /** Clears the gradient buffer without a step. */
  zeroGrad(): void;
  /** Forgets the optimizer's moments and step count (RL starting from a warm-started checkpoint). */
  resetOptimizer(): void;
  /** The accumulated gradient flattened into one host vector (analyses: policy-gradient variance). */
  gradVector(): Promise<Float32Array>;

  /** Writes weights, optimizer state and a JSON sidecar into dir (atomically: tmp + rename). */
  save(dir: string, meta?: Record<string, unknown>): Promise<void>;
  /** Frees device memory. */
  dispose(): void;
}

/** How a policy comes to be: fresh from a preset and a seed, or from a saved directory. */
export interface PolicyFactory {
  create(preset: 'tiny' | 'small' | 'medium', seed: number): Promise<Policy>;
  /** Loads weights, optimizer state and config; `meta` is the sidecar's user metadata. */
  load(dir: string): Promise<{ policy: Policy; meta: Record<string, unknown> }>;
}
