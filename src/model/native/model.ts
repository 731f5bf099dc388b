/**
 * The compact VLM on the native engine, top to bottom, each stage's forward beside its backward
 * (llm.c style). The architecture is docs/model.md's and the parameters are the jax-js policy's,
 * by the same dotted names (params.ts `paramShapes`), held in ONE flat Float32Array (and one for
 * the gradient) so the optimizer, the gradient norm and checkpoints are plain loops.
 *
 * Shape legend (rows are real tokens: nothing is padded)
 *   Gi images in a micro-batch    N patches per image    F features per patch    Cv, C widths
 *   rows   decoder rows: per group [image N (image mode) | prompt L | responses' inputs]
 *   NL     logit rows: one per response token (row 0 of a response reads the prefix's last row,
 *          row k its own input row k - 1, so a response's last token is only ever a target)
 *   V      vocabulary (the head's padding columns, params.ts `headWidth`, are never read)
 *
 * Activations the backward pass needs are kept in buffers that grow to the largest micro-batch
 * seen and are reused by every later call (`Arena`).
 */

import type { ModelConfig, TransformerConfig } from '../config.ts';
import { dims } from '../config.ts';
import { paramShapes } from '../params.ts';
import { type AttnSpec, attentionBackward, attentionForward, probsLayout } from './attention.ts';
import { gemm } from './blas.ts';
import type { HelperThreads } from './helper-threads.ts';
import { addInto, addLayerNormForward, geluBackward, geluForwardSplit, layerNormBackward, layerNormForward, linearBackward, linearForward } from './ops.ts';

// ---------------------------------------------------------------------------------------------
// Parameters: one flat array, named views
// ---------------------------------------------------------------------------------------------

export interface BlockW {
  ln1g: Float32Array;
  ln1b: Float32Array;
  qkvW: Float32Array; // [C, 3C]
  qkvB: Float32Array;
  outW: Float32Array; // [C, C]
  outB: Float32Array;
  ln2g: Float32Array;
  ln2b: Float32Array;
  fcW: Float32Array; // [C, M]
  fcB: Float32Array;
  projW: Float32Array; // [M, C]
  projB: Float32Array;
}

export interface Weights {
  patchW: Float32Array; // [F, Cv]
  patchB: Float32Array;
  vpos: Float32Array; // [N, Cv]
  vision: BlockW[];
  vlnfG: Float32Array;
  vlnfB: Float32Array;
  projW: Float32Array; // [Cv, C]: the projector
  projB: Float32Array;
  ocrW: Float32Array; // [C, O]: the reading head
  ocrB: Float32Array;
  tok: Float32Array; // [V, C]
  pos: Float32Array; // [N + maxText, C]
  decoder: BlockW[];
  lnfG: Float32Array;
  lnfB: Float32Array;
  head: Float32Array; // [C, Vp]
  scale: Float32Array; // [1]
}

export interface Leaf {
  readonly name: string;
  readonly shape: readonly number[];
  readonly offset: number;
  readonly size: number;
}

/** Where each named parameter lives in the flat array, in `paramShapes` order. */
export class ParamLayout {
  readonly leaves: readonly Leaf[];
  readonly total: number;
  private readonly byName: Map<string, Leaf>;

  constructor(cfg: ModelConfig, V: number) {
    const leaves: Leaf[] = [];
    let offset = 0;
    for (const [name, shape] of paramShapes(cfg, V)) {
      const size = shape.reduce((a, b) => a * b, 1);
      leaves.push({ name, shape, offset, size });
      offset += size;
    }
    this.leaves = leaves;
    this.total = offset;
    this.byName = new Map(leaves.map((l) => [l.name, l]));
  }

  leaf(name: string): Leaf {
    const l = this.byName.get(name);
    if (!l) throw new Error(`no parameter '${name}'`);
    return l;
  }

  view(flat: Float32Array, name: string): Float32Array {
    const l = this.leaf(name);
    return flat.subarray(l.offset, l.offset + l.size);
  }

  /** The named views of a flat parameter (or gradient, or moment) array. */
  weights(flat: Float32Array, cfg: ModelConfig): Weights {
    const v = (n: string) => this.view(flat, n);
    const block = (p: string): BlockW => ({
      ln1g: v(`${p}.ln1.g`),
      ln1b: v(`${p}.ln1.b`),
      qkvW: v(`${p}.qkv.w`),
      qkvB: v(`${p}.qkv.b`),
      outW: v(`${p}.out.w`),
      outB: v(`${p}.out.b`),
      ln2g: v(`${p}.ln2.g`),
      ln2b: v(`${p}.ln2.b`),
      fcW: v(`${p}.fc.w`),
      fcB: v(`${p}.fc.b`),
      projW: v(`${p}.proj.w`),
      projB: v(`${p}.proj.b`),
    });
    return {
      patchW: v('vision.patch.w'),
      patchB: v('vision.patch.b'),
      vpos: v('vision.pos'),
      vision: Array.from({ length: cfg.vision.layers }, (_, l) => block(`vision.layers.${l}`)),
      vlnfG: v('vision.lnf.g'),
      vlnfB: v('vision.lnf.b'),
      projW: v('vision.proj.w'),
      projB: v('vision.proj.b'),
      ocrW: v('vision.ocr.w'),
      ocrB: v('vision.ocr.b'),
      tok: v('decoder.tok'),
      pos: v('decoder.pos'),
      decoder: Array.from({ length: cfg.decoder.layers }, (_, l) => block(`decoder.layers.${l}`)),
      lnfG: v('decoder.lnf.g'),
      lnfB: v('decoder.lnf.b'),
      head: v('decoder.head'),
      scale: v('decoder.scale'),
    };
  }
}

// ---------------------------------------------------------------------------------------------
// Buffers that grow to the largest batch and are reused
// ---------------------------------------------------------------------------------------------

export class Arena {
  private readonly bufs = new Map<string, Float32Array>();
  private readonly objects = new Map<string, { bytes(): number }>();
  /** The threads attention is split over (helper-threads.ts), or null for this thread alone. */
  readonly helpers: HelperThreads | null;

  constructor(helpers: HelperThreads | null = null) {
    this.helpers = helpers;
  }

  /** A buffer of at least n floats under this name (contents unspecified). */
  get(name: string, n: number): Float32Array {
    return this.buffer(name, n, false);
  }

  /**
   * The same for a buffer helper threads read or write (attention's inputs, outputs and scratch; GELU's):
   * on a SharedArrayBuffer when there are helpers, so that their shares are views of it. Only
   * those: V8's JavaScript loops run about 3x slower over shared memory.
   */
  shared(name: string, n: number): Float32Array {
    return this.buffer(name, n, this.helpers !== null);
  }

  private buffer(name: string, n: number, shared: boolean): Float32Array {
    let b = this.bufs.get(name);
    if (!b || b.length < n) {
      const floats = Math.max(n, Math.ceil((b?.length ?? 0) * 1.25));
      b = new Float32Array(shared ? new SharedArrayBuffer(4 * floats) : new ArrayBuffer(4 * floats));
      this.bufs.set(name, b);
    }
    return b.subarray(0, n);
  }

  /** An object kept under this name, made on first use (decode.ts's WebAssembly instance); its bytes count in `bytes()`. */
  keep<T extends { bytes(): number }>(name: string, make: () => T): T {
    if (!this.objects.has(name)) this.objects.set(name, make());
    return this.objects.get(name) as T;
  }

  /** Bytes held, kept objects' own memory included (peak-memory reports). */
  bytes(): number {
    let n = 0;
    for (const b of this.bufs.values()) n += b.byteLength;
    for (const o of this.objects.values()) n += o.bytes();
    return n;
  }
}

// ---------------------------------------------------------------------------------------------
// One pre-norm transformer block over `rows` rows: forward, then backward
// ---------------------------------------------------------------------------------------------

/** What a block keeps from its forward pass for its backward pass. */
interface BlockActs {
  ln1: Float32Array; // [rows, C]
  m1: Float32Array; // [rows]
  r1: Float32Array;
  qkv: Float32Array; // [rows, 3C]
  att: Float32Array; // [rows, C]
  probs: Float32Array;
  x1: Float32Array; // [rows, C] after the attention residual
  ln2: Float32Array;
  m2: Float32Array;
  r2: Float32Array;
  f: Float32Array; // [rows, M] before GELU
  g: Float32Array; // [rows, M] after GELU
  gate: Float32Array; // [rows, M] GELU's sigmoid, for its backward
}

function blockActs(arena: Arena, key: string, rows: number, t: TransformerConfig, spec: AttnSpec): BlockActs {
  const C = t.width;
  const M = t.mlp;
  return {
    ln1: arena.get(`${key}.ln1`, rows * C),
    m1: arena.get(`${key}.m1`, rows),
    r1: arena.get(`${key}.r1`, rows),
    qkv: arena.shared(`${key}.qkv`, rows * 3 * C),
    att: arena.shared(`${key}.att`, rows * C),
    probs: arena.shared(`${key}.probs`, probsLayout(spec).total),
    x1: arena.get(`${key}.x1`, rows * C),
    ln2: arena.get(`${key}.ln2`, rows * C),
    m2: arena.get(`${key}.m2`, rows),
    r2: arena.get(`${key}.r2`, rows),
    f: arena.shared(`${key}.f`, rows * M),
    g: arena.shared(`${key}.g`, rows * M),
    gate: arena.shared(`${key}.gate`, rows * M),
  };
}

/** x [rows, C] -> y [rows, C]:  x1 = x + attn(ln1(x)) W_out;  y = x1 + gelu(ln2(x1) W_fc) W_proj. */
function blockForward(w: BlockW, a: BlockActs, x: Float32Array, y: Float32Array, spec: AttnSpec, rows: number, t: TransformerConfig, helpers: HelperThreads | null): void {
  const C = t.width;
  const M = t.mlp;
  layerNormForward(a.ln1, a.m1, a.r1, x, w.ln1g, w.ln1b, rows, C);
  linearForward(a.qkv, a.ln1, w.qkvW, w.qkvB, rows, C, 3 * C);
  attentionForward(a.att, a.probs, a.qkv, spec, helpers);
  linearForward(a.x1, a.att, w.outW, w.outB, rows, C, C);
  addLayerNormForward(a.ln2, a.m2, a.r2, a.x1, x, w.ln2g, w.ln2b, rows, C); // x1 += x, then its norm
  linearForward(a.f, a.ln2, w.fcW, w.fcB, rows, C, M);
  geluForwardSplit(a.g, a.f, rows * M, a.gate, helpers);
  linearForward(y, a.g, w.projW, w.projB, rows, M, C);
  addInto(y, a.x1, rows * C);
}

/** In place: dx holds d(loss)/dy on entry and d(loss)/dx on return; parameter grads accumulate into dw. */
function blockBackward(w: BlockW, dw: BlockW, a: BlockActs, x: Float32Array, dx: Float32Array, spec: AttnSpec, rows: number, t: TransformerConfig, arena: Arena): void {
  const C = t.width;
  const M = t.mlp;
  const dHidden = arena.get('bwd.hidden', rows * M);
  const dNorm = arena.get('bwd.norm', rows * C);
  const dQkv = arena.shared('bwd.qkv', rows * 3 * C);
  // MLP: y = x1 + gelu(f) W_proj + b
  linearBackward(dHidden, dw.projW, dw.projB, dx, a.g, w.projW, rows, M, C);
  geluBackward(dHidden, dHidden, a.f, a.gate, rows * M);
  linearBackward(dNorm, dw.fcW, dw.fcB, dHidden, a.ln2, w.fcW, rows, C, M);
  layerNormBackward(dx, dw.ln2g, dw.ln2b, dNorm, a.x1, a.m2, a.r2, w.ln2g, rows, C, true); // dx = d/dx1
  // attention: x1 = x + att W_out + b
  const dAtt = arena.shared('bwd.att', rows * C);
  linearBackward(dAtt, dw.outW, dw.outB, dx, a.att, w.outW, rows, C, C);
  const block = probsLayout(spec).block;
  const scratch = Array.from({ length: arena.helpers?.parts ?? 1 }, (_, i) => arena.shared(`bwd.scratch${i}`, block));
  attentionBackward(dQkv, dAtt, a.probs, a.qkv, spec, rows, scratch, arena.helpers);
  linearBackward(dNorm, dw.qkvW, dw.qkvB, dQkv, a.ln1, w.qkvW, rows, C, 3 * C);
  layerNormBackward(dx, dw.ln1g, dw.ln1b, dNorm, x, a.m1, a.r1, w.ln1g, rows, C, true); // dx = d/dx
}

// ---------------------------------------------------------------------------------------------
// Vision encoder: patches [Gi, N, F] -> image tokens in the decoder's width [Gi, N, C]
// ---------------------------------------------------------------------------------------------

interface VisionRun {
  readonly images: number;
  readonly patches: Float32Array;
  readonly stream: Float32Array[]; // per layer input, then the tower's output: [Gi*N, Cv]
  readonly acts: BlockActs[];
  readonly spec: AttnSpec;
  readonly lnf: Float32Array;
  readonly mf: Float32Array;
  readonly rf: Float32Array;
  /** [Gi*N, C]: what the decoder receives (before its position rows are added). */
  readonly tokens: Float32Array;
}

export function visionForward(w: Weights, cfg: ModelConfig, arena: Arena, patches: Float32Array, images: number): VisionRun {
  const { N, F, C, Cv } = dims(cfg);
  const rows = images * N;
  const spec: AttnSpec = { groups: Array.from({ length: images }, (_, g) => ({ p0: g * N, S: N, resp: [] })), causal: false, H: cfg.vision.heads, D: Cv / cfg.vision.heads };
  const stream = Array.from({ length: cfg.vision.layers + 1 }, (_, l) => arena.get(`vis.x${l}`, rows * Cv));
  linearForward(stream[0], patches, w.patchW, w.patchB, rows, F, Cv);
  for (let g = 0; g < images; g++) addInto(stream[0].subarray(g * N * Cv), w.vpos, N * Cv);
  const acts = w.vision.map((bw, l) => {
    const a = blockActs(arena, `vis.${l}`, rows, cfg.vision, spec);
    blockForward(bw, a, stream[l], stream[l + 1], spec, rows, cfg.vision, arena.helpers);
    return a;
  });
  const lnf = arena.get('vis.lnf', rows * Cv);
  const mf = arena.get('vis.mf', rows);
  const rf = arena.get('vis.rf', rows);
  layerNormForward(lnf, mf, rf, stream[cfg.vision.layers], w.vlnfG, w.vlnfB, rows, Cv);
  const tokens = arena.get('vis.tokens', rows * C);
  linearForward(tokens, lnf, w.projW, w.projB, rows, Cv, C);
  return { images, patches, stream, acts, spec, lnf, mf, rf, tokens };
}

/** Accumulates the encoder's parameter gradients from dTokens [Gi*N, C] (consumed as scratch). */
export function visionBackward(w: Weights, dw: Weights, cfg: ModelConfig, arena: Arena, run: VisionRun, dTokens: Float32Array): void {
  const { N, F, C, Cv } = dims(cfg);
  const rows = run.images * N;
  const dLnf = arena.get('vis.dlnf', rows * Cv);
  linearBackward(dLnf, dw.projW, dw.projB, dTokens, run.lnf, w.projW, rows, Cv, C);
  const dx = arena.get('vis.dx', rows * Cv);
  const L = cfg.vision.layers;
  layerNormBackward(dx, dw.vlnfG, dw.vlnfB, dLnf, run.stream[L], run.mf, run.rf, w.vlnfG, rows, Cv, false);
  for (let l = L - 1; l >= 0; l--) blockBackward(w.vision[l], dw.vision[l], run.acts[l], run.stream[l], dx, run.spec, rows, cfg.vision, arena);
  for (let g = 0; g < run.images; g++) addInto(dw.vpos, dx.subarray(g * N * Cv, (g + 1) * N * Cv), N * Cv);
  linearBackward(null, dw.patchW, dw.patchB, dx, run.patches, w.patchW, rows, F, Cv);
}

// ---------------------------------------------------------------------------------------------
// Decoder: rows of [image | prompt | responses] -> hidden states -> logits of the response tokens
// ---------------------------------------------------------------------------------------------

/** A micro-batch laid out for the decoder (built by plan.ts). */
export interface DecoderPlan {
  readonly rows: number;
  /** Token id per row; -1 for an image row. */
  readonly ids: Int32Array;
  /** Position id per row (image patch i: i; text: N + its index in bos + prompt + response). */
  readonly pos: Int32Array;
  /** For an image row, its row in the vision run's tokens; -1 otherwise. */
  readonly imageRow: Int32Array;
  readonly spec: AttnSpec;
  /** Logit rows: the decoder row each reads, and the token it predicts. */
  readonly logitFrom: Int32Array;
  readonly targets: Int32Array;
}

export interface DecoderRun {
  readonly plan: DecoderPlan;
  readonly vision: VisionRun | null;
  readonly stream: Float32Array[]; // [rows, C] per layer input, then the output
  readonly acts: BlockActs[];
  readonly hidden: Float32Array; // [NL, C] gathered final rows
  readonly normed: Float32Array; // [NL, C] after the final layer norm
  readonly mf: Float32Array;
  readonly rf: Float32Array;
  /** [NL, V] x W_head, before the logit scale. */
  readonly unscaled: Float32Array;
  /** [NL, V] the logits (unscaled x scale). */
  readonly logits: Float32Array;
}

export function decoderForward(w: Weights, cfg: ModelConfig, V: number, arena: Arena, plan: DecoderPlan, vision: VisionRun | null): DecoderRun {
  const { C } = dims(cfg);
  const { rows } = plan;
  const Vp = w.head.length / C;
  const stream = Array.from({ length: cfg.decoder.layers + 1 }, (_, l) => arena.get(`dec.x${l}`, rows * C));
  const x0 = stream[0];
  for (let r = 0; r < rows; r++) {
    const o = r * C;
    const po = plan.pos[r] * C;
    if (plan.ids[r] < 0) {
      const io = plan.imageRow[r] * C;
      for (let j = 0; j < C; j++) x0[o + j] = vision!.tokens[io + j] + w.pos[po + j];
    } else {
      const to = plan.ids[r] * C;
      for (let j = 0; j < C; j++) x0[o + j] = w.tok[to + j] + w.pos[po + j];
    }
  }
  const acts = w.decoder.map((bw, l) => {
    const a = blockActs(arena, `dec.${l}`, rows, cfg.decoder, plan.spec);
    blockForward(bw, a, stream[l], stream[l + 1], plan.spec, rows, cfg.decoder, arena.helpers);
    return a;
  });
  const NL = plan.logitFrom.length;
  const out = stream[cfg.decoder.layers];
  const hidden = arena.get('dec.hidden', NL * C);
  for (let i = 0; i < NL; i++) copyRow(hidden, i * C, out, plan.logitFrom[i] * C, C);
  const normed = arena.get('dec.normed', NL * C);
  const mf = arena.get('dec.mf', NL);
  const rf = arena.get('dec.rf', NL);
  layerNormForward(normed, mf, rf, hidden, w.lnfG, w.lnfB, NL, C);
  const unscaled = arena.get('dec.unscaled', NL * V);
  gemm(false, false, NL, V, C, 1, normed, C, w.head, Vp, 0, unscaled, V);
  const logits = arena.get('dec.logits', NL * V);
  const s = w.scale[0];
  for (let i = 0; i < NL * V; i++) logits[i] = unscaled[i] * s;
  return { plan, vision, stream, acts, hidden, normed, mf, rf, unscaled, logits };
}

/**
 * Accumulates every parameter gradient from dLogits [NL, V] (consumed as scratch): the head,
 * the logit scale, the decoder blocks, the embeddings and, through the image rows, the encoder.
 */
export function decoderBackward(w: Weights, dw: Weights, cfg: ModelConfig, V: number, arena: Arena, run: DecoderRun, dLogits: Float32Array): void {
  const { C, N } = dims(cfg);
  const { plan } = run;
  const { rows } = plan;
  const NL = plan.logitFrom.length;
  const Vp = w.head.length / C;
  // logits = s * unscaled:  ds = sum dlogits * unscaled,  d(unscaled) = s * dlogits
  const s = w.scale[0];
  let ds = 0;
  for (let i = 0; i < NL * V; i++) {
    ds += dLogits[i] * run.unscaled[i];
    dLogits[i] *= s;
  }
  dw.scale[0] += ds;
  // unscaled = normed @ head[:, :V]
  gemm(true, false, C, V, NL, 1, run.normed, C, dLogits, V, 1, dw.head, Vp);
  const dNormed = arena.get('dec.dnormed', NL * C);
  gemm(false, true, NL, C, V, 1, dLogits, V, w.head, Vp, 0, dNormed, C);
  const dHidden = arena.get('dec.dhidden', NL * C);
  layerNormBackward(dHidden, dw.lnfG, dw.lnfB, dNormed, run.hidden, run.mf, run.rf, w.lnfG, NL, C, false);
  const dx = arena.get('dec.dx', rows * C);
  dx.fill(0);
  for (let i = 0; i < NL; i++) addRow(dx, plan.logitFrom[i] * C, dHidden, i * C, C);
  for (let l = cfg.decoder.layers - 1; l >= 0; l--) blockBackward(w.decoder[l], dw.decoder[l], run.acts[l], run.stream[l], dx, plan.spec, rows, cfg.decoder, arena);
  // embeddings: text rows into tok and pos, image rows into pos and the encoder
  const vision = run.vision;
  const dTokens = vision ? arena.get('dec.dimage', vision.images * N * C) : null;
  for (let r = 0; r < rows; r++) {
    addRow(dw.pos, plan.pos[r] * C, dx, r * C, C);
    if (plan.ids[r] >= 0) addRow(dw.tok, plan.ids[r] * C, dx, r * C, C);
    else copyRow(dTokens!, plan.imageRow[r] * C, dx, r * C, C);
  }
  if (vision && dTokens) visionBackward(w, dw, cfg, arena, vision, dTokens);
}

/** a[ao .. ao + n) = b[bo .. bo + n). */
function copyRow(a: Float32Array, ao: number, b: Float32Array, bo: number, n: number): void {
  for (let j = 0; j < n; j++) a[ao + j] = b[bo + j];
}

/** a[ao .. ao + n) += b[bo .. bo + n). */
function addRow(a: Float32Array, ao: number, b: Float32Array, bo: number, n: number): void {
  for (let j = 0; j < n; j++) a[ao + j] += b[bo + j];
}
