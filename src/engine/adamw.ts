/**
 * AdamW (Loshchilov & Hutter: decoupled weight decay, bias-corrected moments), SGD with momentum
 * (sgdStep, below) and global-norm gradient clipping over a parameter tree, each one jitted call over the whole tree. Written here
 * because @jax-js/optax is not on the registry. Hyperparameters travel as scalar arrays, so a
 * changing learning rate or step count never recompiles.
 *
 * Update for every leaf p with gradient g (c = clip scale, t = step number from 1):
 *   g' = c g;  m = b1 m + (1 - b1) g';  v = b2 v + (1 - b2) g'^2
 *   p  = p - lr * ( (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)  +  wd_p * p )
 * where wd_p = weightDecay for matrices (rank >= 2: linear weights, embeddings) and 0 for
 * vectors (biases, norm gains), the usual choice. `lr` may differ per leaf (`LeafLr`): the
 * learned logit scale, one number whose gradient sums over every token, gets its own.
 */
import type { OptimizerKind } from '../core/policy.ts';

import { numpy as np, jit, tree as jtree } from './jax.ts';
import { type ParamTree, zerosLike, disposeTree, refTree, mapNamed } from './tree.ts';

/** A learning rate for every leaf, or one for each leaf by its path ('decoder.scale'). */
export type LeafLr = number | ((path: string) => number);

export interface AdamWHyper {
  readonly lr: LeafLr;
  readonly betas: readonly [number, number];
  readonly eps: number;
  readonly weightDecay: number;
}

export interface AdamWState {
  m: ParamTree;
  v: ParamTree;
  /** Updates applied so far (bias correction uses t + 1 for the next one). */
  t: number;
  /** Which update wrote the moments (sgdStep uses `m` as its velocity); null while t = 0. */
  kind: OptimizerKind | null;
}

export function adamwInit(params: ParamTree): AdamWState {
  return { m: zerosLike(params), v: zerosLike(params), t: 0, kind: null };
}

/**
 * Why a state written by one optimizer cannot be continued by `kind` (its moments mean something
 * else to the other one), or null when it can. The trainer asks before a resumed run's first step.
 */
export function optimizerMismatch(held: { readonly t: number; readonly kind: OptimizerKind | null }, kind: OptimizerKind): string | null {
  if (held.t === 0 || held.kind === null || held.kind === kind) return null;
  return `experiment.optimizer: the optimizer state holds ${held.t} updates of ${held.kind}, not ${kind}; continue with experiment.optimizer=${held.kind} (or start the run anew from its weights with --init)`;
}

/** Refuse rather than misuse another optimizer's moments. */
function claim(state: AdamWState, kind: OptimizerKind): void {
  const why = optimizerMismatch(state, kind);
  if (why) throw new Error(why);
  state.kind = kind;
}

type Scalars = { b1: np.Array; b2: np.Array; eps: np.Array; wd: np.Array; clip: np.Array; bc1: np.Array; bc2: np.Array };

const scalar = (x: number) => np.array(new Float32Array([x])).reshape([]);

/** One scalar array per leaf: a tree with the parameters' structure (a jit argument like them). */
function leafRates(params: ParamTree, lr: LeafLr): ParamTree {
  return mapNamed(params, (_, name) => scalar(typeof lr === 'number' ? lr : lr(name)));
}

// One program for the whole tree. Every argument is consumed (jit's ownership rule).
const update = jit((p: ParamTree, g: ParamTree, m: ParamTree, v: ParamTree, lr: ParamTree, h: Scalars) => {
  const [ps, def] = jtree.flatten(p) as [np.Array[], jtree.JsTreeDef];
  const [lrs] = jtree.flatten(lr) as [np.Array[], unknown];
  const [gs] = jtree.flatten(g) as [np.Array[], unknown];
  const [ms] = jtree.flatten(m) as [np.Array[], unknown];
  const [vs] = jtree.flatten(v) as [np.Array[], unknown];
  const np_: np.Array[] = [];
  const nm: np.Array[] = [];
  const nv: np.Array[] = [];
  for (let i = 0; i < ps.length; i++) {
    const gi = gs[i].mul(h.clip.ref);
    const mi = ms[i].mul(h.b1.ref).add(gi.ref.mul(np.subtract(1, h.b1.ref)));
    const vi = vs[i].mul(h.b2.ref).add(np.square(gi).mul(np.subtract(1, h.b2.ref)));
    const mhat = mi.ref.div(h.bc1.ref);
    const vhat = vi.ref.div(h.bc2.ref);
    let step = mhat.div(np.sqrt(vhat).add(h.eps.ref));
    const pi = ps[i];
    if (pi.ndim >= 2) step = step.add(pi.ref.mul(h.wd.ref));
    np_.push(pi.sub(step.mul(lrs[i])));
    nm.push(mi);
    nv.push(vi);
  }
  jtree.dispose(h);
  return [jtree.unflatten(def, np_), jtree.unflatten(def, nm), jtree.unflatten(def, nv)] as [ParamTree, ParamTree, ParamTree];
});

const sumSquares = jit((g: ParamTree) => {
  const leaves = jtree.leaves(g) as np.Array[];
  let s = np.square(leaves[0]).sum();
  for (let i = 1; i < leaves.length; i++) s = s.add(np.square(leaves[i]).sum());
  return s;
});

/** Global L2 norm of a gradient tree (NaN/Inf if any entry is). Borrows g. */
export async function globalNorm(g: ParamTree): Promise<number> {
  const s = await sumSquares(refTree(g)).data();
  return Math.sqrt(s[0]);
}

/** The factor that brings a gradient of norm `norm` down to `maxNorm` (1 if already within). */
export function clipScale(norm: number, maxNorm: number | null): number {
  if (maxNorm === null || !(norm > maxNorm)) return 1;
  return maxNorm / (norm + 1e-6);
}

/**
 * One AdamW update. Consumes `params` and `grads`, replaces `state.m`/`state.v`, increments
 * `state.t`, returns the new parameters. `clip` multiplies the gradient first.
 */
export function adamwStep(params: ParamTree, grads: ParamTree, state: AdamWState, hp: AdamWHyper, clip = 1): ParamTree {
  claim(state, 'adamw');
  const t = state.t + 1;
  const [b1, b2] = hp.betas;
  const h: Scalars = {
    b1: scalar(b1),
    b2: scalar(b2),
    eps: scalar(hp.eps),
    wd: scalar(hp.weightDecay),
    clip: scalar(clip),
    bc1: scalar(1 - b1 ** t),
    bc2: scalar(1 - b2 ** t),
  };
  const [p, m, v] = update(params, grads, state.m, state.v, leafRates(params, hp.lr), h);
  state.m = m;
  state.v = v;
  state.t = t;
  return p;
}

// SGD with heavy-ball momentum over the same tree; `m` is the velocity (AdamW's `v` is left alone).
//   g' = c g;  m = mu m + g';  p = p - lr * (m + wd_p * p)
const sgdUpdate = jit((p: ParamTree, g: ParamTree, m: ParamTree, lr: ParamTree, h: { mu: np.Array; wd: np.Array; clip: np.Array }) => {
  const [ps, def] = jtree.flatten(p) as [np.Array[], jtree.JsTreeDef];
  const [lrs] = jtree.flatten(lr) as [np.Array[], unknown];
  const [gs] = jtree.flatten(g) as [np.Array[], unknown];
  const [ms] = jtree.flatten(m) as [np.Array[], unknown];
  const np_: np.Array[] = [];
  const nm: np.Array[] = [];
  for (let i = 0; i < ps.length; i++) {
    const mi = ms[i].mul(h.mu.ref).add(gs[i].mul(h.clip.ref));
    const pi = ps[i];
    let step = mi.ref;
    if (pi.ndim >= 2) step = step.add(pi.ref.mul(h.wd.ref));
    np_.push(pi.sub(step.mul(lrs[i])));
    nm.push(mi);
  }
  jtree.dispose(h);
  return [jtree.unflatten(def, np_), jtree.unflatten(def, nm)] as [ParamTree, ParamTree];
});

/**
 * One SGD-with-momentum update (the alternative to AdamW: a weight moves in proportion to its
 * gradient, not by about `lr` whatever the gradient). Uses `state.m` as the velocity; consumes
 * `params` and `grads` like adamwStep.
 */
export function sgdStep(params: ParamTree, grads: ParamTree, state: AdamWState, hp: { readonly lr: LeafLr; readonly momentum: number; readonly weightDecay: number }, clip = 1): ParamTree {
  claim(state, 'sgd');
  const h = { mu: scalar(hp.momentum), wd: scalar(hp.weightDecay), clip: scalar(clip) };
  const [p, m] = sgdUpdate(params, grads, state.m, leafRates(params, hp.lr), h);
  state.m = m;
  state.t += 1;
  return p;
}

export function disposeAdamW(state: AdamWState): void {
  disposeTree(state.m);
  disposeTree(state.v);
}
