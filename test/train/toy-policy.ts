/**
 * A pure-JS stand-in for the model behind the `Policy` seam, for fast tests of the trainer's
 * logic (resume determinism, NaN guard, every algorithm's data flow) without compiling a
 * transformer. It is a bigram table plus an image term:
 *   logits(prev, image) = W[prev] + [mode = image] * U[f(image)]
 * where f buckets the image's mean brightness. Gradients are written by hand, so it is exact.
 */
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RgbImage } from '../../src/core/image.ts';
import { Rng } from '../../src/engine/rng.ts';
import type { AttentionMode, OptimStep, Policy, PolicyFactory, PromptInput, Rollout, SampleOptions, ScoreItem, ScoreOptions, Scored, StepResult } from '../../src/core/policy.ts';

const SPECIALS = ['<pad>', '<bos>', '<eos>', '<image>'];
const CHARS = ['\n', ...Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i))];
const VOCAB = [...SPECIALS, ...CHARS];
const V = VOCAB.length;
const K = 4; // image buckets
const BOS = 1;
const EOS = 2;

function bucket(image: RgbImage): number {
  let s = 0;
  for (let i = 0; i < image.data.length; i++) s += image.data[i];
  return Math.min(K - 1, Math.floor((s / image.data.length / 256) * K));
}

export class ToyPolicy implements Policy {
  readonly vocabSize = V;
  readonly imageSize = 8;
  readonly patchSize = 4;
  readonly eos = EOS;
  /** Set by tests to make the next gradient non-finite. */
  poison = false;
  /** What "computes" it (Policy.engine): tests change it to resume a run on another engine. */
  engine = 'toy engine 1';
  private gW: Float64Array;
  private gU: Float64Array;
  private m: Float64Array;
  private v: Float64Array;
  private t = 0;
  kind: 'adamw' | 'sgd' | null = null; // which optimizer made the moments (checked on resume)

  constructor(
    readonly W: Float64Array,
    readonly U: Float64Array,
  ) {
    this.gW = new Float64Array(W.length);
    this.gU = new Float64Array(U.length);
    this.m = new Float64Array(W.length + U.length);
    this.v = new Float64Array(W.length + U.length);
  }

  static fresh(seed: number): ToyPolicy {
    const rng = Rng.seeded(seed);
    const W = new Float64Array(V * V).map(() => 0.1 * rng.normal());
    const U = new Float64Array(K * V).map(() => 0.1 * rng.normal());
    // make eos likely after a few characters so rollouts end
    for (let p = 0; p < V; p++) W[p * V + EOS] += 2;
    return new ToyPolicy(W, U);
  }

  get paramCount(): number {
    return this.W.length + this.U.length;
  }

  encode(text: string): number[] {
    return [...text].map((c) => {
      const i = VOCAB.indexOf(c, SPECIALS.length);
      if (i < 0) throw new Error(`toy tokenizer: ${JSON.stringify(c)}`);
      return i;
    });
  }

  encodePrompt(problem: string): number[] {
    return [BOS, ...this.encode(problem.replace('<image>', ''))];
  }

  decode(ids: readonly number[]): string {
    return ids
      .filter((i) => i >= SPECIALS.length)
      .map((i) => VOCAB[i])
      .join('');
  }

  private logits(prev: number, b: number | null): Float64Array {
    const z = this.W.slice(prev * V, prev * V + V);
    if (b !== null) for (let j = 0; j < V; j++) z[j] += this.U[b * V + j];
    return z;
  }

  /** logits / temperature; temperature 1 returns them as they are. */
  private static temper(z: Float64Array, temperature = 1): Float64Array {
    return temperature === 1 ? z : z.map((x) => x / temperature);
  }

  private static logSoftmax(z: Float64Array): Float64Array {
    let mx = -Infinity;
    for (const x of z) mx = Math.max(mx, x);
    let s = 0;
    for (const x of z) s += Math.exp(x - mx);
    const lse = mx + Math.log(s);
    return z.map((x) => x - lse);
  }

  async sample(prompts: readonly PromptInput[], opts: SampleOptions): Promise<Rollout[]> {
    const rng = Rng.seeded(opts.seed);
    const out: Rollout[] = [];
    for (const p of prompts) {
      const b = bucket(p.image);
      for (let r = 0; r < opts.n; r++) {
        let prev = p.prompt[p.prompt.length - 1];
        const tokens: number[] = [];
        const logp: number[] = [];
        const ent: number[] = [];
        let finished = false;
        while (tokens.length < opts.maxNewTokens) {
          const z = this.logits(prev, b);
          const ls = ToyPolicy.logSoftmax(z);
          // the distribution drawn from (the tempered one; greedy and temperature 1: ls itself)
          let drawn = ls;
          let tok = 0;
          if (opts.greedy) {
            for (let j = 1; j < V; j++) if (ls[j] > ls[tok]) tok = j;
          } else {
            const u = rng.float();
            let c = 0;
            const zt = ToyPolicy.logSoftmax(ls.map((x) => x / opts.temperature));
            for (tok = 0; tok < V - 1; tok++) {
              c += Math.exp(zt[tok]);
              if (u < c) break;
            }
            if (opts.temperature !== 1) drawn = ToyPolicy.logSoftmax(ToyPolicy.temper(z, opts.temperature));
          }
          tokens.push(tok);
          logp.push(drawn[tok]);
          ent.push(-drawn.reduce((a, x) => a + Math.exp(x) * x, 0));
          prev = tok;
          if (tok === EOS) {
            finished = true;
            break;
          }
        }
        out.push({ tokens, logp: Float32Array.from(logp), entropy: opts.entropy ? Float32Array.from(ent) : undefined, finished });
      }
    }
    return out;
  }

  async score(items: readonly ScoreItem[], opts: ScoreOptions): Promise<Scored> {
    const logp: Float32Array[] = [];
    const entropy: Float32Array[] = [];
    const rows: Float32Array[] = [];
    for (const it of items) {
      const b = opts.mode === 'image' ? bucket(it.image) : null;
      let prev = it.prompt[it.prompt.length - 1];
      const lp = new Float32Array(it.response.length);
      const en = new Float32Array(it.response.length);
      const rw = new Float32Array(it.response.length * V);
      it.response.forEach((tok, t) => {
        const ls = ToyPolicy.logSoftmax(ToyPolicy.temper(this.logits(prev, b), opts.temperature));
        lp[t] = ls[tok];
        en[t] = -ls.reduce((a, x) => a + Math.exp(x) * x, 0);
        rw.set(ls, t * V);
        prev = tok;
      });
      logp.push(lp);
      entropy.push(en);
      rows.push(rw);
    }
    return { logp, entropy: opts.entropy ? entropy : undefined, rows: opts.rows ? rows : undefined };
  }

  private accumulate(prev: number, b: number | null, dz: Float64Array): void {
    for (let j = 0; j < V; j++) {
      this.gW[prev * V + j] += dz[j];
      if (b !== null) this.gU[b * V + j] += dz[j];
    }
  }

  async backward(items: readonly ScoreItem[], dLogp: readonly Float32Array[], opts: { mode: 'image' | 'text-only'; dEntropy?: readonly Float32Array[]; temperature?: number }): Promise<void> {
    // logp, H of softmax(z / T): d/dz = (d/d(z/T)) / T
    const invT = 1 / (opts.temperature ?? 1);
    items.forEach((it, i) => {
      const b = opts.mode === 'image' ? bucket(it.image) : null;
      let prev = it.prompt[it.prompt.length - 1];
      it.response.forEach((tok, t) => {
        const ls = ToyPolicy.logSoftmax(ToyPolicy.temper(this.logits(prev, b), opts.temperature));
        const p = ls.map(Math.exp);
        const H = -ls.reduce((a, x, j) => a + p[j] * x, 0);
        const dz = new Float64Array(V);
        const g = dLogp[i][t];
        const ge = opts.dEntropy ? opts.dEntropy[i][t] : 0;
        for (let j = 0; j < V; j++) dz[j] = g * ((j === tok ? 1 : 0) - p[j]) + ge * -p[j] * (ls[j] + H);
        if (invT !== 1) for (let j = 0; j < V; j++) dz[j] *= invT;
        this.accumulate(prev, b, dz);
        prev = tok;
      });
    });
  }

  async sftBackward(items: readonly ScoreItem[], scale: number, opts: { readonly mode: AttentionMode } = { mode: 'image' }): Promise<{ nll: number; tokens: number }> {
    let nll = 0;
    let tokens = 0;
    const s = await this.score(items, opts);
    s.logp.forEach((row) => row.forEach((x) => ((nll -= x), tokens++)));
    await this.backward(
      items,
      s.logp.map((row) => row.map(() => -scale)),
      opts,
    );
    return { nll, tokens };
  }

  parameterNames(): string[] {
    return ['W', 'U'];
  }

  async step(o: OptimStep): Promise<StepResult> {
    const g = new Float64Array(this.m.length);
    g.set(this.gW, 0);
    g.set(this.gU, this.gW.length);
    for (const name of o.frozen ?? []) {
      if (name === 'W') g.fill(0, 0, this.gW.length);
      else if (name === 'U') g.fill(0, this.gW.length);
      else throw new Error(`experiment.freeze: "${name}" names no parameter (top-level groups: W, U)`);
    }
    if (this.poison) g[0] = NaN;
    let sq = 0;
    for (const x of g) sq += x * x;
    const gradNorm = Math.sqrt(sq);
    this.zeroGrad();
    if (!Number.isFinite(gradNorm)) return { gradNorm, applied: false };
    const clip = o.maxGradNorm !== null && gradNorm > o.maxGradNorm ? o.maxGradNorm / gradNorm : 1;
    this.t++;
    this.kind = o.optimizer ?? 'adamw';
    const [b1, b2] = o.betas;
    const params = [this.W, this.U];
    let k = 0;
    for (const P of params) {
      for (let j = 0; j < P.length; j++, k++) {
        const gj = g[k] * clip;
        if (o.frozen?.includes(P === this.W ? 'W' : 'U')) continue;
        if (o.optimizer === 'sgd') {
          this.m[k] = (o.momentum ?? 0.9) * this.m[k] + gj;
          P[j] -= o.lr * (this.m[k] + o.weightDecay * P[j]);
          continue;
        }
        this.m[k] = b1 * this.m[k] + (1 - b1) * gj;
        this.v[k] = b2 * this.v[k] + (1 - b2) * gj * gj;
        const mh = this.m[k] / (1 - b1 ** this.t);
        const vh = this.v[k] / (1 - b2 ** this.t);
        P[j] -= o.lr * (mh / (Math.sqrt(vh) + o.eps) + o.weightDecay * P[j]);
      }
    }
    return { gradNorm, applied: true };
  }

  resetOptimizer(): void {
    this.m.fill(0);
    this.v.fill(0);
    this.t = 0;
    this.kind = null;
  }

  optimizerHeld(): { t: number; kind: 'adamw' | 'sgd' | null } {
    return { t: this.t, kind: this.kind };
  }

  zeroGrad(): void {
    this.gW.fill(0);
    this.gU.fill(0);
  }

  async gradVector(): Promise<Float32Array> {
    const g = new Float32Array(this.paramCount);
    g.set(this.gW, 0);
    g.set(this.gU, this.gW.length);
    return g;
  }

  async save(dir: string, meta: Record<string, unknown> = {}): Promise<void> {
    mkdirSync(dir, { recursive: true });
    const state = { W: [...this.W], U: [...this.U], m: [...this.m], v: [...this.v], t: this.t, kind: this.kind, meta };
    const tmp = join(dir, 'toy.json.tmp');
    writeFileSync(tmp, JSON.stringify(state));
    renameSync(tmp, join(dir, 'toy.json'));
  }

  dispose(): void {}
}

export const toyFactory: PolicyFactory = {
  async create(_preset, seed) {
    return ToyPolicy.fresh(seed);
  },
  async load(dir) {
    const s = JSON.parse(readFileSync(join(dir, 'toy.json'), 'utf8'));
    const p = new ToyPolicy(Float64Array.from(s.W), Float64Array.from(s.U));
    (p as unknown as { m: Float64Array }).m = Float64Array.from(s.m);
    (p as unknown as { v: Float64Array }).v = Float64Array.from(s.v);
    (p as unknown as { t: number }).t = s.t;
    p.kind = s.kind ?? null;
    return { policy: p, meta: s.meta };
  },
};

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}
