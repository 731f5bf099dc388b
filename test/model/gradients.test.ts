/**
 * Finite-difference checks of `backward` (both attention modes, with and without an entropy
 * term) and of `sftBackward`, on the tiny preset: the directional derivative along a random
 * direction of a few parameter tensors must match <gradient, direction>. Every check runs on
 * both backends (jax-js autodiff, and the native engine's hand-written backward).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/engine/rng.ts';
import { BACKENDS, type Backend } from '../../src/model/config.ts';
import type { AttentionMode } from '../../src/core/policy.ts';
import { type TestPolicy, fixtureItems, randomPerToken, tinyPolicy } from './helpers.ts';

async function suite(backend: Backend) {
  const pol = await tinyPolicy(3, backend);
  const items = fixtureItems(pol);
  const LEAVES = ['decoder.tok', 'decoder.pos', 'decoder.layers.1.qkv.w', 'decoder.layers.0.fc.b', 'decoder.head', 'decoder.scale', 'vision.patch.w', 'vision.layers.0.out.w'];

  /** f(theta) = sum(dLogp * logp + dEnt * entropy), computed by `score` in float32. */
  async function objective(p: TestPolicy, mode: AttentionMode, dLogp: Float32Array[], dEnt?: Float32Array[], temperature = 1): Promise<number> {
    const s = await p.score(items, { mode, entropy: !!dEnt, temperature });
    let f = 0;
    s.logp.forEach((lp, i) => lp.forEach((x, k) => (f += dLogp[i][k] * x)));
    if (dEnt) s.entropy!.forEach((en, i) => en.forEach((x, k) => (f += dEnt[i][k] * x)));
    return f;
  }

  /** Central difference of f along a random unit-RMS direction u of one tensor, vs <g, u>. */
  async function checkLeaf(name: string, f: () => Promise<number>, grads: Map<string, { data: Float32Array }>, rng: Rng, eps = 1e-3) {
    const w = (await pol.weights()).get(name)!;
    const u = Float32Array.from(w.data, () => rng.normal());
    const g = grads.get(name)!.data;
    let analytic = 0;
    for (let i = 0; i < u.length; i++) analytic += g[i] * u[i];
    const shifted = (s: number) => Float32Array.from(w.data, (x, i) => x + s * eps * u[i]);
    pol.setWeight(name, shifted(1));
    const fp = await f();
    pol.setWeight(name, shifted(-1));
    const fm = await f();
    pol.setWeight(name, w.data);
    const numeric = (fp - fm) / (2 * eps);
    return { analytic, numeric };
  }

  function assertClose(name: string, r: { analytic: number; numeric: number }) {
    // float32 forward passes put a noise floor of a few 1e-2 under the central difference.
    const tol = 3e-2 + 2e-2 * Math.abs(r.analytic);
    if (process.env.FD_VERBOSE) console.log(name, r);
    assert.ok(Math.abs(r.analytic - r.numeric) <= tol, `${name}: analytic ${r.analytic} vs finite difference ${r.numeric}`);
  }

  for (const mode of ['image', 'text-only'] as const) {
    test(`${backend}: ` + `backward in ${mode} mode matches finite differences (logp and entropy terms)`, async () => {
      const rng = Rng.seeded(mode === 'image' ? 11 : 12);
      const dLogp = randomPerToken(items, rng);
      const dEnt = randomPerToken(items, rng, 0.5);
      pol.zeroGrad();
      await pol.backward(items, dLogp, { mode, dEntropy: dEnt });
      const grads = await pol.gradients();
      for (const name of LEAVES) {
        if (mode === 'text-only' && name.startsWith('vision.')) {
          // The text-only pass never sees the image: the vision tower gets exactly no gradient.
          assert.ok(
            grads.get(name)!.data.every((x) => x === 0),
            `${name} has a gradient in text-only mode`,
          );
          continue;
        }
        assertClose(name, await checkLeaf(name, () => objective(pol, mode, dLogp, dEnt), grads, rng));
      }
      pol.zeroGrad();
    });
  }

  test(`${backend}: ` + 'backward accumulates: two calls give the sum, zeroGrad clears', async () => {
    const rng = Rng.seeded(5);
    const d1 = randomPerToken(items, rng);
    pol.zeroGrad();
    await pol.backward(items, d1, { mode: 'image' });
    const once = await pol.gradVector();
    await pol.backward(items, d1, { mode: 'image' });
    const twice = await pol.gradVector();
    let m = 0;
    for (let i = 0; i < once.length; i++) m = Math.max(m, Math.abs(twice[i] - 2 * once[i]) / (1e-3 + Math.abs(once[i])));
    assert.ok(m < 1e-3, `relative mismatch ${m}`);
    assert.equal(once.length, pol.paramCount);
    pol.zeroGrad();
    assert.ok((await pol.gradVector()).every((x) => x === 0));
  });

  test(`${backend}: ` + 'sftBackward returns the NLL of the gold tokens and its gradient matches finite differences', async () => {
    const rng = Rng.seeded(13);
    const scale = 0.25;
    pol.zeroGrad();
    const { nll, tokens } = await pol.sftBackward(items, scale);
    const s = await pol.score(items, { mode: 'image' });
    const want = -s.logp.reduce((a, lp) => a + lp.reduce((x, y) => x + y, 0), 0);
    assert.equal(
      tokens,
      items.reduce((n, it) => n + it.response.length, 0),
    );
    assert.ok(Math.abs(nll - want) < 1e-3 * Math.abs(want), `nll ${nll} vs ${want}`);
    const grads = await pol.gradients();
    const f = async () => {
      const sc = await pol.score(items, { mode: 'image' });
      return -scale * sc.logp.reduce((a, lp) => a + lp.reduce((x, y) => x + y, 0), 0);
    };
    for (const name of ['decoder.tok', 'decoder.layers.0.qkv.w', 'vision.proj.w']) assertClose(name, await checkLeaf(name, f, grads, rng));
    pol.zeroGrad();
  });

  test(`${backend}: ` + 'step skips a non-finite gradient, reports it, leaves the weights and clears the buffer', async () => {
    const before = (await pol.weights()).get('decoder.head')!.data;
    const d = items.map((it) => new Float32Array(it.response.length).fill(1));
    d[0][0] = NaN;
    await pol.backward(items, d, { mode: 'image' });
    const r = await pol.step({ lr: 0.1, weightDecay: 0, betas: [0.9, 0.999], eps: 1e-8, maxGradNorm: 1 });
    assert.equal(r.applied, false);
    assert.ok(Number.isNaN(r.gradNorm));
    assert.deepEqual((await pol.weights()).get('decoder.head')!.data, before);
    assert.ok((await pol.gradVector()).every((x) => x === 0));
    await pol.backward(
      items,
      items.map((it) => new Float32Array(it.response.length).fill(1)),
      { mode: 'image' },
    );
    const ok = await pol.step({ lr: 0.1, weightDecay: 0, betas: [0.9, 0.999], eps: 1e-8, maxGradNorm: 1 });
    assert.equal(ok.applied, true);
    assert.ok(ok.gradNorm > 0 && Number.isFinite(ok.gradNorm));
    assert.notDeepEqual((await pol.weights()).get('decoder.head')!.data, before);
  });

  test(`${backend}: ` + 'step with frozen prefixes leaves those weights exactly, moves the rest, and rejects an unknown prefix', async () => {
    const before = await pol.weights();
    const ones = () => items.map((it) => new Float32Array(it.response.length).fill(1));
    await pol.backward(items, ones(), { mode: 'image' });
    const hp = { lr: 0.1, weightDecay: 0.5, betas: [0.9, 0.999] as const, eps: 1e-8, maxGradNorm: 1 };
    // the clip norm leaves the frozen gradients out
    let sq = 0;
    for (const [name, g] of await pol.gradients()) if (!name.startsWith('vision.') && !name.startsWith('decoder.layers.0.')) for (const x of g.data) sq += x * x;
    const r = await pol.step({ ...hp, frozen: ['vision', 'decoder.layers.0'] });
    assert.equal(r.applied, true);
    assert.ok(Math.abs(r.gradNorm - Math.sqrt(sq)) < 1e-4 * Math.sqrt(sq), `grad norm ${r.gradNorm}, of the trained weights ${Math.sqrt(sq)}`);
    const after = await pol.weights();
    let frozen = 0;
    for (const [name, w] of after) {
      const same = w.data.every((x, i) => x === before.get(name)!.data[i]);
      const under = name.startsWith('vision.') || name.startsWith('decoder.layers.0.');
      if (under) frozen++;
      if (under) assert.ok(same, `${name} moved although frozen`);
      else if (!name.endsWith('.b') && !name.endsWith('.g')) assert.ok(!same, `${name} did not move`);
    }
    assert.ok(frozen > 10);
    await pol.backward(items, ones(), { mode: 'image' });
    await assert.rejects(pol.step({ ...hp, frozen: ['decoder.layer'] }), /experiment\.freeze: "decoder\.layer" names no parameter/);
    pol.zeroGrad();
  });

  test(`${backend}: ` + 'an SGD step on the real policy: p - lr * clip * g on a fresh state (a bias: no weight decay)', async () => {
    const fresh = await tinyPolicy(5, backend);
    const its = fixtureItems(fresh);
    await fresh.backward(
      its,
      its.map((it) => new Float32Array(it.response.length).fill(1)),
      { mode: 'image' },
    );
    const p0 = (await fresh.weights()).get('decoder.layers.1.fc.b')!.data;
    const g = (await fresh.gradients()).get('decoder.layers.1.fc.b')!.data;
    const r = await fresh.step({ lr: 0.3, weightDecay: 0.5, betas: [0.9, 0.999], eps: 1e-8, optimizer: 'sgd', momentum: 0.9, maxGradNorm: 1 });
    const clip = Math.min(1, 1 / (r.gradNorm + 1e-6));
    const p1 = (await fresh.weights()).get('decoder.layers.1.fc.b')!.data;
    assert.ok(g.some((x) => x !== 0));
    p1.forEach((x, i) => assert.ok(Math.abs(x - (p0[i] - 0.3 * clip * g[i])) < 1e-6, `[${i}] ${x} vs ${p0[i] - 0.3 * clip * g[i]}`));
    fresh.dispose();
  });

  test(`${backend}: ` + 'backward rejects upstream gradients that do not match the responses', async () => {
    await assert.rejects(pol.backward(items, [new Float32Array(1)], { mode: 'image' }), /dLogp has 1 rows for 4 items/);
    await assert.rejects(
      pol.backward(
        items,
        items.map(() => new Float32Array(1)),
        { mode: 'image' },
      ),
      /dLogp\[0\] has 1 values/,
    );
  });

  test(`${backend}: ` + "the vision encoder's reading loss: its gradient matches finite differences and reaches no decoder weight", async () => {
    const rng = Rng.seeded(17);
    const images = items.map((it, i) => ({
      image: it.image,
      glyphs: [
        { ch: String(i % 10), cx: 5 + 9 * i, cy: 20 },
        { ch: 'A', cx: 40, cy: 7 },
      ],
    }));
    const scale = 0.1;
    pol.zeroGrad();
    const { loss, terms } = await pol.visionBackward(images, scale);
    assert.ok(Number.isFinite(loss) && loss > 0);
    assert.equal(terms, images.length * 9 * 96); // tiny: 9 patches, 2 slots x 48 classes
    const grads = await pol.gradients();
    for (const [name, g] of grads)
      if (name.startsWith('decoder.'))
        assert.ok(
          g.data.every((x) => x === 0),
          `${name} has a gradient from the reading loss`,
        );
    pol.zeroGrad();
    const f = async () => {
      const v = (await pol.visionBackward(images, 0)).loss * scale;
      pol.zeroGrad();
      return v;
    };
    for (const name of ['vision.ocr.w', 'vision.ocr.b', 'vision.proj.w', 'vision.patch.w', 'vision.layers.0.qkv.w']) assertClose(name, await checkLeaf(name, f, grads, rng));
    pol.zeroGrad();
  });

  test(`${backend}: ` + "the logit scale's gradient matches a finite difference (summed log-probs: a gradient well above the noise floor)", async () => {
    const ones = items.map((it) => new Float32Array(it.response.length).fill(1));
    pol.zeroGrad();
    await pol.backward(items, ones, { mode: 'image' });
    const grads = await pol.gradients();
    const r = await checkLeaf('decoder.scale', () => objective(pol, 'image', ones), grads, Rng.seeded(21));
    assert.ok(Math.abs(r.analytic) > 0.5, `gradient ${r.analytic} too small to test`);
    assertClose('decoder.scale', r);
    pol.zeroGrad();
  });

  test(`${backend}: at a temperature other than 1, backward is the gradient of the tempered log-probs and entropies that score gives`, async () => {
    const rng = Rng.seeded(23);
    const dLogp = randomPerToken(items, rng);
    const dEnt = randomPerToken(items, rng, 0.5);
    pol.zeroGrad();
    await pol.backward(items, dLogp, { mode: 'image', dEntropy: dEnt, temperature: 0.7 });
    const grads = await pol.gradients();
    for (const leaf of ['decoder.scale', 'decoder.head']) assertClose(leaf, await checkLeaf(leaf, () => objective(pol, 'image', dLogp, dEnt, 0.7), grads, rng));
    pol.zeroGrad();
  });

  test(`${backend}: ` + 'lrFor gives the logit scale a rate of its own; the other weights move by lr; an unknown path is refused', async () => {
    const fresh = await tinyPolicy(5, backend);
    const its = fixtureItems(fresh);
    const ones = () => its.map((it) => new Float32Array(it.response.length).fill(1));
    const before = await fresh.weights();
    assert.deepEqual([...before.get('decoder.scale')!.data], [1]);
    await fresh.backward(its, ones(), { mode: 'image' });
    const g = (await fresh.gradients()).get('decoder.scale')!.data[0];
    assert.notEqual(g, 0);
    // AdamW's first step moves a weight by its lr times sign(g) (bias-corrected m / sqrt(v) = g / |g|)
    const hp = { lr: 1e-3, weightDecay: 0, betas: [0.9, 0.999] as const, eps: 1e-12, maxGradNorm: null };
    const r1 = await fresh.step({ ...hp, lrFor: { [fresh.logitScale]: 0.25 } });
    const after = await fresh.weights();
    const scale = after.get('decoder.scale')!.data[0];
    assert.ok(Math.abs(scale - (1 - 0.25 * Math.sign(g))) < 1e-5, `scale ${scale}`); // float32 bias correction
    const [h0, h1] = [before.get('decoder.head')!.data, after.get('decoder.head')!.data];
    const moved = h1.reduce((m, x, i) => Math.max(m, Math.abs(x - h0[i])), 0);
    assert.ok(moved > 0.99e-3 && moved < 1.01e-3, `the head moved by up to ${moved}`);
    // a rate of 0 freezes, as `frozen` does: the weight stays exactly (weight decay included) and
    // its gradient stays out of the clipping norm
    const decay = { ...hp, weightDecay: 0.5 };
    const [a, b] = [await tinyPolicy(5, backend), await tinyPolicy(5, backend)];
    for (const p of [a, b]) await p.backward(its, ones(), { mode: 'image' });
    const head0 = (await a.weights()).get('decoder.head')!.data;
    const zero = await a.step({ ...decay, lrFor: { 'decoder.head': 0 } });
    const frozen = await b.step({ ...decay, frozen: ['decoder.head'] });
    assert.deepEqual((await a.weights()).get('decoder.head')!.data, head0);
    assert.equal(zero.gradNorm, frozen.gradNorm);
    assert.ok(zero.gradNorm < r1.gradNorm, `${zero.gradNorm} vs ${r1.gradNorm} with the head's gradient`);
    a.dispose();
    b.dispose();
    await fresh.backward(its, ones(), { mode: 'image' });
    await assert.rejects(fresh.step({ ...hp, lrFor: { 'decoder.scal': 1 } }), /"decoder\.scal" names no parameter/);
    fresh.dispose();
  });
}

for (const backend of BACKENDS) await suite(backend);
