/**
 * Minimal reproductions of the jax-js 0.1.25 issues worked around in src/engine and src/model
 * (docs/engine-notes.md). Run: node --import tsx bench/engine-notes.repro.ts
 */
import { initEngine, numpy as np, jit, grad, random } from '../src/engine/jax.ts';
await initEngine();
const time = async (name: string, f: () => np.Array, reps = 5) => {
  await f().data();
  const t = performance.now();
  for (let i = 0; i < reps; i++) await f().data();
  console.log(name, ((performance.now() - t) / reps).toFixed(2), 'ms');
};
// 1. gather's gradient inside jit
const E = random.normal(random.key(1), [10, 4]);
const ids = np.array([1, 3, 3], { dtype: np.int32 });
try {
  const g = jit((e: np.Array, i: np.Array) => grad((t: np.Array) => np.take(t, i, 0).sum())(e));
  await g(E.ref, ids.ref).data();
  console.log('1. take grad in jit: ok');
} catch (e) {
  console.log('1. take grad in jit:', (e as Error).message);
}
// 2. odd output column counts
const mm = jit((a: np.Array, b: np.Array) => np.matmul(a, b));
const x = random.normal(random.key(2), [2048, 128]);
for (const n of [160, 162, 164]) await time(`2. matmul 2048x128x${n}`, () => mm(x.ref, random.normal(random.key(3), [128, n])));
// 3. a transpose feeding a matmul
const a = random.normal(random.key(4), [8, 4, 8, 48, 32]);
const W = random.normal(random.key(5), [128, 128]);
const viaT = jit((h: np.Array, w: np.Array) => np.matmul(h.transpose([0, 2, 3, 1, 4]).reshape([3072, 128]), w));
const viaCat = jit((h: np.Array, w: np.Array) => np.matmul(np.concatenate(np.unstack(h, 1), -1).reshape([3072, 128]), w));
await time('3. transpose -> matmul', () => viaT(a.ref, W.ref));
await time('3. unstack + concat -> matmul', () => viaCat(a.ref, W.ref));
// 4. slice(null, ...) adds an axis
console.log('4. ones([2,3]).slice(null, [0, 1]).shape =', np.ones([2, 3]).slice(null, [0, 1]).shape); // [1, 1, 3], not [2, 1]
// 5. einsum on Node 20
try {
  np.einsum('ij,jk->ik', np.ones([2, 2]), np.ones([2, 2]));
  console.log('5. einsum ok');
} catch (e) {
  console.log('5. einsum:', (e as Error).message);
}
process.exit(0);
