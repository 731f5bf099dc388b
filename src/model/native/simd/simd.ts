/**
 * The WebAssembly SIMD kernels (kernels.wat, built into kernels.wasm) behind ops.ts's GELU and
 * layer norm, attention.ts's softmax blocks and decode.ts's attention. A kernel works on its
 * module's own memory, so each call copies its inputs in and its results out, chunk by chunk (a
 * chunk of 8K floats stays in cache; the copies are memcpys, a small part of the arithmetic they
 * replace). Only this file holds views of that memory, and it takes them again whenever the
 * memory grows. The decode is the exception: its KV cache stays in a memory of its own between
 * steps (`DecodeKernel`), shared with the helper threads when there are any (kernels.shared.wasm).
 *
 * PGPO_SIMD=0 turns the kernels off (the callers then run their JavaScript loops: the reference,
 * in float64, which rounds differently in the last bits).
 */

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';

// the little of WebAssembly's JS API used here (this project's lib settings do not declare it)
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
declare const WebAssembly: {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { readonly exports: unknown };
  Memory: new (d: { initial: number; maximum: number; shared: boolean }) => WasmMemory;
  CompileError: new () => Error;
};

interface Exports {
  readonly memory: WasmMemory;
  gelu_fwd(x: number, y: number, gate: number, n: number): void;
  gelu_bwd(dx: number, dy: number, x: number, gate: number, n: number): void;
  ln_fwd(y: number, mean: number, rstd: number, x: number, g: number, b: number, R: number, C: number, eps: number): void;
  ln_bwd(dx: number, dg: number, db: number, dy: number, x: number, mean: number, rstd: number, g: number, R: number, C: number, accumulate: number): void;
  attn_prefix_fwd(pp: number, S: number, causal: number, scr: number): void;
  attn_resp_fwd(sp: number, ss: number, S: number, n: number, scr: number): void;
  attn_prefix_bwd(pp: number, dp: number, S: number, scr: number): void;
  attn_resp_bwd(sp: number, dsp: number, ss: number, dss: number, S: number, n: number, scr: number): void;
  decode_attn(qkv: number, att: number, rows: number, A: number, H: number, D: number, t: number, T: number, alpha: number, kbase: number, vbase: number, qs: number, sc: number, ls: number): void;
  add_into(a: number, b: number, n: number): void;
}

/** Floats per chunk of the elementwise kernels. */
const CHUNK = 8192;

export class SimdKernels {
  private readonly k: Exports;
  private readonly module: object;
  private sharedModule: object | null = null;
  private heap: Float32Array;
  /** The first 12 hex digits of kernels.wasm's SHA-256: which kernels (and so which last bits) these are. */
  readonly digest: string;

  constructor(module: object, k: Exports, digest: string) {
    this.module = module;
    this.k = k;
    this.digest = digest;
    this.heap = new Float32Array(k.memory.buffer);
  }

  /** The memory as floats, at least n of them (the view kept until the memory grows). */
  private floats(n: number): Float32Array {
    growTo(this.k.memory, n);
    if (this.heap.buffer !== this.k.memory.buffer) this.heap = new Float32Array(this.k.memory.buffer);
    return this.heap;
  }

  /** y = gelu(x) over n values (y may be x); gate, when given, receives (1 + tanh u) / 2. */
  geluForward(y: Float32Array, x: Float32Array, n: number, gate?: Float32Array): void {
    const h = this.floats(3 * CHUNK);
    for (let i = 0; i < n; i += CHUNK) {
      const len = Math.min(CHUNK, n - i);
      h.set(x.subarray(i, i + len), 0);
      this.k.gelu_fwd(0, CHUNK * 4, 2 * CHUNK * 4, (len + 3) & ~3);
      y.set(h.subarray(CHUNK, CHUNK + len), i);
      if (gate) gate.set(h.subarray(2 * CHUNK, 2 * CHUNK + len), i);
    }
  }

  /** dx = dy * gelu'(x) from the kept gate (dx may be dy). */
  geluBackward(dx: Float32Array, dy: Float32Array, x: Float32Array, gate: Float32Array, n: number): void {
    const h = this.floats(3 * CHUNK);
    for (let i = 0; i < n; i += CHUNK) {
      const len = Math.min(CHUNK, n - i);
      h.set(dy.subarray(i, i + len), 0);
      h.set(x.subarray(i, i + len), CHUNK);
      h.set(gate.subarray(i, i + len), 2 * CHUNK);
      this.k.gelu_bwd(0, 0, CHUNK * 4, 2 * CHUNK * 4, (len + 3) & ~3);
      dx.set(h.subarray(0, len), i);
    }
  }

  /**
   * Layer norm of R rows of C (C a multiple of 4): ops.ts's layerNormForward. With `add`, first
   * x += add (add_into, written back to x): a residual add and the norm after it in one pass over
   * the data (ops.ts addLayerNormForward).
   */
  layerNormForward(y: Float32Array, mean: Float32Array, rstd: Float32Array, x: Float32Array, g: Float32Array, b: Float32Array, R: number, C: number, eps: number, add?: Float32Array): void {
    const rc = Math.max(1, Math.floor(CHUNK / C)); // rows per chunk
    // layout (floats): g [C] | b [C] | mean [rc] | rstd [rc] | x [rc C] | y [rc C] | add [rc C]
    const oM = 2 * C;
    const oR = oM + rc;
    const oX = (oR + rc + 3) & ~3;
    const oY = oX + rc * C;
    const oA = oY + rc * C;
    const h = this.floats(oA + (add ? rc * C : 0));
    h.set(g.subarray(0, C), 0);
    h.set(b.subarray(0, C), C);
    for (let r = 0; r < R; r += rc) {
      const n = Math.min(rc, R - r);
      h.set(x.subarray(r * C, (r + n) * C), oX);
      if (add) {
        h.set(add.subarray(r * C, (r + n) * C), oA);
        this.k.add_into(oX * 4, oA * 4, n * C);
        x.set(h.subarray(oX, oX + n * C), r * C);
      }
      this.k.ln_fwd(oY * 4, oM * 4, oR * 4, oX * 4, 0, C * 4, n, C, eps);
      y.set(h.subarray(oY, oY + n * C), r * C);
      mean.set(h.subarray(oM, oM + n), r);
      rstd.set(h.subarray(oR, oR + n), r);
    }
  }

  /** Its backward: ops.ts's layerNormBackward (dg, db accumulate; dx too when `accumulate`). */
  layerNormBackward(
    dx: Float32Array,
    dg: Float32Array,
    db: Float32Array,
    dy: Float32Array,
    x: Float32Array,
    mean: Float32Array,
    rstd: Float32Array,
    g: Float32Array,
    R: number,
    C: number,
    accumulate: boolean,
  ): void {
    const rc = Math.max(1, Math.floor(CHUNK / C));
    // layout (floats): g [C] | dg [C] | db [C] | mean [rc] | rstd [rc] | x | dy | dx [rc C each]
    const oM = 3 * C;
    const oR = oM + rc;
    const oX = (oR + rc + 3) & ~3;
    const oDy = oX + rc * C;
    const oDx = oDy + rc * C;
    const h = this.floats(oDx + rc * C);
    h.set(g.subarray(0, C), 0);
    h.set(dg.subarray(0, C), C);
    h.set(db.subarray(0, C), 2 * C);
    for (let r = 0; r < R; r += rc) {
      const n = Math.min(rc, R - r);
      h.set(x.subarray(r * C, (r + n) * C), oX);
      h.set(dy.subarray(r * C, (r + n) * C), oDy);
      if (accumulate) h.set(dx.subarray(r * C, (r + n) * C), oDx);
      h.set(mean.subarray(r, r + n), oM);
      h.set(rstd.subarray(r, r + n), oR);
      this.k.ln_bwd(oDx * 4, C * 4, 2 * C * 4, oDy * 4, oX * 4, oM * 4, oR * 4, 0, n, C, accumulate ? 1 : 0);
      dx.set(h.subarray(oDx, oDx + n * C), r * C);
    }
    dg.set(h.subarray(C, 2 * C));
    db.set(h.subarray(2 * C, 3 * C));
  }

  /**
   * The softmaxes of one (group, head) block of attention.ts's probabilities, in place: scores
   * [S, S] | [ntot, S] | [n_r, n_r] per response in, probabilities out (attentionForward's loops).
   */
  attentionSoftmax(block: Float32Array, S: number, causal: boolean, resp: readonly number[]): void {
    const len = block.length;
    const oScr = (len + 3) & ~3;
    const h = this.floats(oScr + 2 * (S + Math.max(0, ...resp) + 16));
    h.set(block, 0);
    this.k.attn_prefix_fwd(0, S, causal ? 1 : 0, oScr * 4);
    let sp = S * S;
    let ss = sp + resp.reduce((a, n) => a + n, 0) * S;
    for (const n of resp) {
      this.k.attn_resp_fwd(sp * 4, ss * 4, S, n, oScr * 4);
      sp += n * S;
      ss += n * n;
    }
    block.set(h.subarray(0, len));
  }

  /**
   * Its backward for one (group, head) block: `grad` (laid out as the block) holds dL/dP on entry
   * and dL/dscores on return (attentionBackward's loops).
   */
  attentionSoftmaxBackward(block: Float32Array, grad: Float32Array, S: number, resp: readonly number[]): void {
    const len = block.length;
    const oD = (len + 3) & ~3;
    const oScr = oD + oD;
    const h = this.floats(oScr + 2 * (S + Math.max(0, ...resp) + 16));
    h.set(block, 0);
    h.set(grad.subarray(0, len), oD);
    this.k.attn_prefix_bwd(0, oD * 4, S, oScr * 4);
    let sp = S * S;
    let ss = sp + resp.reduce((a, n) => a + n, 0) * S;
    for (const n of resp) {
      this.k.attn_resp_bwd(sp * 4, (oD + sp) * 4, ss * 4, (oD + ss) * 4, S, n, oScr * 4);
      sp += n * S;
      ss += n * n;
    }
    grad.set(h.subarray(oD, oD + len));
  }

  /**
   * A fresh instance of the kernels with a memory of its own, for decode.ts's KV cache: on a
   * shared memory (kernels.shared.wasm) when helper threads are to run its attention too
   * (`sharedDecodeKernel` there), else a plain one (JavaScript loops over shared memory run ~3x
   * slower, and prefill's are JavaScript).
   */
  decodeKernel(shared = false): DecodeKernel {
    if (!shared) return new DecodeKernel(new WebAssembly.Instance(this.module, {}).exports as unknown as Exports, null);
    const memory = new WebAssembly.Memory({ initial: 1, maximum: 65536, shared: true });
    return new DecodeKernel(new WebAssembly.Instance(this.shared(), { env: { memory } }).exports as unknown as Exports, { memory, id: ++decodeKernels });
  }

  /** kernels.shared.wasm, compiled on first use (only helper threads need it). */
  private shared(): object {
    return (this.sharedModule ??= new WebAssembly.Module(readFileSync(new URL('./kernels.shared.wasm', import.meta.url))));
  }

  /** Another thread's instance on the memory of a shared decode kernel (`DecodeKernel.shared`); the last one is kept. */
  sharedDecodeKernel(shared: SharedDecodeMemory): DecodeKernel {
    if (lastShared?.id !== shared.id)
      lastShared = { id: shared.id, kernel: new DecodeKernel(new WebAssembly.Instance(this.shared(), { env: { memory: shared.memory } }).exports as unknown as Exports, shared) };
    return lastShared.kernel;
  }
}

/** A decode kernel's shared memory as a message carries it to a helper thread (the same memory there), and a number naming it. */
export interface SharedDecodeMemory {
  readonly memory: WasmMemory;
  readonly id: number;
}

// decode kernels made on shared memory in this thread (their ids), and, in a helper thread, the
// instance on the last one it was sent (a policy's decode kernel lives as long as the policy)
let decodeKernels = 0;
let lastShared: { id: number; kernel: DecodeKernel } | null = null;

/**
 * decode.ts's KV cache and a decode step's attention (`decode_attn` in kernels.wat) in one
 * module instance's memory: the cache stays there between steps, so a layer's attention is one
 * call with nothing copied in or out (the step's projections are written there by BLAS, its
 * output read from there). Offsets are in floats.
 */
export class DecodeKernel {
  private readonly k: Exports;
  /** Its memory, when shared (helper threads can then run `attend` on it): null on a memory of its own. */
  readonly shared: SharedDecodeMemory | null;

  constructor(k: Exports, shared: SharedDecodeMemory | null) {
    this.k = k;
    this.shared = shared;
  }

  /** The memory as floats, at least n of them. Take it again after growing: earlier views are detached (a memory of its own) or keep the old length (a shared one). */
  floats(n: number): Float32Array {
    const memory = this.shared?.memory ?? this.k.memory;
    growTo(memory, n);
    return new Float32Array(memory.buffer);
  }

  /** Bytes of its memory (the KV cache's, mostly). */
  bytes(): number {
    return (this.shared?.memory ?? this.k.memory).buffer.byteLength;
  }

  // A decode step's other elementwise work, in place on this memory (float offsets, decode.ts):
  // the kernels SimdKernels runs on copies, so the same bits without the copies.

  /** Layer norm of R rows of C (ln_fwd; g and b are offsets too). */
  layerNorm(y: number, mean: number, rstd: number, x: number, g: number, b: number, R: number, C: number, eps: number): void {
    this.k.ln_fwd(y * 4, mean * 4, rstd * 4, x * 4, g * 4, b * 4, R, C, eps);
  }

  /** GELU in place over n floats, n rounded up to 4 (both regions must hold that many); the gate goes to a scratch region. */
  gelu(x: number, gate: number, n: number): void {
    this.k.gelu_fwd(x * 4, x * 4, gate * 4, (n + 3) & ~3);
  }

  /** a[i] += b[i] over n floats, n a multiple of 4. */
  add(a: number, b: number, n: number): void {
    this.k.add_into(a * 4, b * 4, n);
  }

  /** decode.ts `decodeAttentionJs`'s arithmetic (see there), in float32. D must be a multiple of 16. */
  attend(o: DecodeAttentionArgs): void {
    this.k.decode_attn(o.qkv * 4, o.att * 4, o.rows * 4, o.A, o.H, o.D, o.t, o.T, o.alpha, o.kbase * 4, o.vbase * 4, o.qs * 4, o.sc * 4, o.ls);
  }
}

/** Where one layer's decode attention finds its data in the cache's memory (float offsets) and its shape. */
export interface DecodeAttentionArgs {
  /** [A, 3C] this step's projections in, [A, C] the attention's output out. */
  readonly qkv: number;
  readonly att: number;
  /** Three int32 per open row: its group's block and its response's block (from kbase / vbase), and its prefix length. */
  readonly rows: number;
  readonly A: number;
  readonly H: number;
  readonly D: number;
  /** The step (the column the rows write) and the columns' capacity T (a multiple of 16). */
  readonly t: number;
  readonly T: number;
  readonly alpha: number;
  /** The layer's key and value regions. */
  readonly kbase: number;
  readonly vbase: number;
  /** Scratch: 4 C floats (the splatted query); H score rows of ls >= S + T + 16 floats each (the softmax pads to sixteen), then H floats. */
  readonly qs: number;
  readonly sc: number;
  readonly ls: number;
}

/** Grows a WebAssembly memory (64 KiB pages) to hold at least n floats. */
function growTo(memory: WasmMemory, n: number): void {
  const need = n * 4 - memory.buffer.byteLength;
  if (need > 0) memory.grow(Math.ceil(need / 65536));
}

let kernels: SimdKernels | null | undefined;

/** The kernels, loaded once per process; null when PGPO_SIMD=0 or this runtime has no WebAssembly SIMD. */
export function simdKernels(): SimdKernels | null {
  if (kernels !== undefined) return kernels;
  if (process.env.PGPO_SIMD === '0') return (kernels = null);
  let module: object;
  const bytes = readFileSync(new URL('./kernels.wasm', import.meta.url));
  try {
    module = new WebAssembly.Module(bytes);
  } catch (err) {
    if (err instanceof WebAssembly.CompileError) return (kernels = null); // no SIMD in this runtime: ops.ts's loops
    throw err;
  }
  const digest = createHash('sha256').update(bytes).digest('hex').slice(0, 12);
  return (kernels = new SimdKernels(module, new WebAssembly.Instance(module, {}).exports as unknown as Exports, digest));
}
