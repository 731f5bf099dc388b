import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initEngine, f32 } from '../../src/engine/jax.ts';
import { adamwInit, adamwStep, sgdStep, globalNorm, clipScale } from '../../src/engine/adamw.ts';
import { treeToHost, type ParamTree } from '../../src/engine/tree.ts';

await initEngine();

/** The same update in float64 JavaScript, written from the paper's algorithm. */
function reference(p: number[], g: number[], steps: number, o: { lr: number; b1: number; b2: number; eps: number; wd: number }, decay: boolean) {
  const m = p.map(() => 0);
  const v = p.map(() => 0);
  const q = [...p];
  for (let t = 1; t <= steps; t++) {
    for (let i = 0; i < q.length; i++) {
      m[i] = o.b1 * m[i] + (1 - o.b1) * g[i];
      v[i] = o.b2 * v[i] + (1 - o.b2) * g[i] * g[i];
      const mh = m[i] / (1 - o.b1 ** t);
      const vh = v[i] / (1 - o.b2 ** t);
      q[i] -= o.lr * (mh / (Math.sqrt(vh) + o.eps) + (decay ? o.wd * q[i] : 0));
    }
  }
  return { q, m, v };
}

// one 2x2 matrix (weight decay applies) and one vector (it does not), with a fixed gradient
const w = [0.5, -1, 2, 0.25];
const b = [1, -2];
const gw = [0.1, -0.2, 0.3, 0.05];
const gb = [-1, 0.5];
const close = (a: ArrayLike<number>, e: number[]) => e.forEach((x, i) => assert.ok(Math.abs(a[i] - x) < 1e-5, `${a[i]} vs ${x}`));

test('AdamW matches a hand-computed update (decay on matrices only, bias correction)', async () => {
  const o = { lr: 0.1, b1: 0.9, b2: 0.99, eps: 1e-8, wd: 0.5 };
  let params: ParamTree = { w: f32(w, [2, 2]), b: f32(b, [2]) };
  const state = adamwInit(params);
  for (let s = 0; s < 3; s++) {
    const grads: ParamTree = { w: f32(gw, [2, 2]), b: f32(gb, [2]) };
    params = adamwStep(params, grads, state, { lr: o.lr, betas: [o.b1, o.b2], eps: o.eps, weightDecay: o.wd });
  }
  assert.equal(state.t, 3);
  const got = await treeToHost(params);
  const rw = reference(w, gw, 3, o, true);
  const rb = reference(b, gb, 3, o, false);
  close(got.get('w')!.data, rw.q);
  close(got.get('b')!.data, rb.q);
  const m = await treeToHost(state.m);
  close(m.get('w')!.data, rw.m);
  const v = await treeToHost(state.v);
  close(v.get('b')!.data, rb.v);
});

test('AdamW and SGD take a learning rate per leaf by path', async () => {
  const o = { lr: 0.1, b1: 0.9, b2: 0.99, eps: 1e-8, wd: 0 };
  const lr = (path: string) => (path === 'b' ? 0.02 : 0.1);
  let params: ParamTree = { w: f32(w, [2, 2]), b: f32(b, [2]) };
  const state = adamwInit(params);
  for (let s = 0; s < 2; s++) params = adamwStep(params, { w: f32(gw, [2, 2]), b: f32(gb, [2]) }, state, { lr, betas: [o.b1, o.b2], eps: o.eps, weightDecay: 0 });
  const got = await treeToHost(params);
  close(got.get('w')!.data, reference(w, gw, 2, o, false).q);
  close(got.get('b')!.data, reference(b, gb, 2, { ...o, lr: 0.02 }, false).q);
  let sp: ParamTree = { w: f32(w, [2, 2]), b: f32(b, [2]) };
  const ss = adamwInit(sp);
  sp = sgdStep(sp, { w: f32(gw, [2, 2]), b: f32(gb, [2]) }, ss, { lr, momentum: 0.5, weightDecay: 0 });
  const sg = await treeToHost(sp);
  close(
    sg.get('w')!.data,
    w.map((x, i) => x - 0.1 * gw[i]),
  );
  close(
    sg.get('b')!.data,
    b.map((x, i) => x - 0.02 * gb[i]),
  );
});

test('SGD with momentum matches a hand-computed update (clip, decay on matrices only, velocity kept)', async () => {
  const o = { lr: 0.5, mu: 0.8, wd: 0.1, clip: 0.5 };
  const ref = (p: number[], g: number[], decay: boolean) => {
    const m = p.map(() => 0);
    const q = [...p];
    for (let t = 0; t < 3; t++)
      for (let i = 0; i < q.length; i++) {
        m[i] = o.mu * m[i] + o.clip * g[i];
        q[i] -= o.lr * (m[i] + (decay ? o.wd * q[i] : 0));
      }
    return { q, m };
  };
  let params: ParamTree = { w: f32(w, [2, 2]), b: f32(b, [2]) };
  const state = adamwInit(params);
  for (let s = 0; s < 3; s++) {
    const grads: ParamTree = { w: f32(gw, [2, 2]), b: f32(gb, [2]) };
    params = sgdStep(params, grads, state, { lr: o.lr, momentum: o.mu, weightDecay: o.wd }, o.clip);
  }
  assert.equal(state.t, 3);
  const got = await treeToHost(params);
  close(got.get('w')!.data, ref(w, gw, true).q);
  close(got.get('b')!.data, ref(b, gb, false).q);
  close((await treeToHost(state.m)).get('w')!.data, ref(w, gw, true).m);
});

test('global norm and clip scale', async () => {
  const g: ParamTree = { a: f32([3, 0], [2]), b: f32([[0, 4]].flat(), [1, 2]) };
  assert.ok(Math.abs((await globalNorm(g)) - 5) < 1e-6);
  assert.equal(clipScale(5, null), 1);
  assert.equal(clipScale(5, 10), 1);
  assert.ok(Math.abs(clipScale(5, 1) - 0.2) < 1e-6);
  assert.equal(clipScale(NaN, 1), 1);
  const bad: ParamTree = { a: f32([NaN, 1], [2]) };
  assert.ok(Number.isNaN(await globalNorm(bad)));
});
