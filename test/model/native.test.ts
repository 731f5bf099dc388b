/**
 * The native engine against the jax-js policy on the same weights (both presets): log-probs and
 * entropies in both attention modes, full log-softmax rows, gradients of every parameter, sampled
 * tokens; and the native KV-cache decode against its own full forward pass (with the SIMD kernels
 * and without), checkpoints in both
 * directions, the shipped base. Finite-difference checks of the native backward are in
 * gradients.test.ts (run there on both backends).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng } from '../../src/engine/rng.ts';
import { VlmPolicy } from '../../src/model/index.ts';
import { NativePolicy } from '../../src/model/native/policy.ts';
import { gemm } from '../../src/model/native/blas.ts';
import { fastTanh, logSoftmaxRow, logSumExpRow } from '../../src/model/native/ops.ts';
import { expNonPos } from '../../src/model/exp.ts';
import { fixtureItems, maxAbsDiff, randomPerToken } from './helpers.ts';

/** max |a - b| / max(1, |b|) over paired arrays. */
function relDiff(a: readonly Float32Array[], b: readonly Float32Array[]): number {
  let m = 0;
  a.forEach((x, i) => x.forEach((v, k) => (m = Math.max(m, Math.abs(v - b[i][k]) / Math.max(1, Math.abs(b[i][k]))))));
  return m;
}

test('gemm computes row-major products with transposes, strides and beta (checked against a loop)', () => {
  const rng = Rng.seeded(1);
  const [M, N, K] = [5, 7, 3];
  const A = Float32Array.from({ length: K * (M + 2) }, () => rng.normal()); // A^T stored [K, M] with row stride M + 2
  const B = Float32Array.from({ length: K * N }, () => rng.normal());
  const C = Float32Array.from({ length: M * N }, () => rng.normal());
  const want = Float32Array.from(C, (c, idx) => {
    const [i, j] = [Math.floor(idx / N), idx % N];
    let s = 0;
    for (let k = 0; k < K; k++) s += A[k * (M + 2) + i] * B[k * N + j];
    return 2 * s + 0.5 * c;
  });
  gemm(true, false, M, N, K, 2, A, M + 2, B, N, 0.5, C, N);
  assert.ok(maxAbsDiff(C, want) < 1e-5, `max diff ${maxAbsDiff(C, want)}`);
});

test('fastTanh is tanh to 3e-7 over the whole line, a few float32 ulps (GELU uses it)', () => {
  let worst = 0;
  for (let x = -20; x <= 20; x += 1e-3) worst = Math.max(worst, Math.abs(fastTanh(x) - Math.tanh(x)));
  assert.ok(worst < 3e-7, `max error ${worst}`);
  assert.equal(fastTanh(0), 0);
});

test("logSumExpRow is logSoftmaxRow's normaliser: z_y / T minus it gives the same bits as logSoftmaxRow's log-prob", () => {
  const rng = Rng.seeded('native.test lse');
  const V = 41;
  const z = Float32Array.from({ length: 3 * V }, () => rng.normal() * 5);
  const out = new Float64Array(V);
  for (const inv of [1, 1 / 0.7, 1 / 1.3])
    for (let r = 0; r < 3; r++) {
      logSoftmaxRow(out, z, r * V, V, inv);
      const lse = logSumExpRow(z, r * V, V, inv);
      for (let y = 0; y < V; y++) assert.equal(z[r * V + y] * inv - lse, out[y]);
    }
});

test('expNonPos is e^x to 3e-11 relative for x <= 0, rounds to the same float32 as Math.exp, and is 0 at and below e^-745', () => {
  let worst = 0;
  let f32 = 0;
  for (let x = -100; x <= 0; x += 1.37e-4) {
    const [a, b] = [expNonPos(x), Math.exp(x)];
    worst = Math.max(worst, Math.abs(a - b) / b);
    if (Math.fround(a) !== Math.fround(b)) f32++;
  }
  for (let x = -744; x < -100; x += 0.0137) worst = Math.max(worst, Math.abs(expNonPos(x) - Math.exp(x)) / Math.exp(x));
  assert.ok(worst < 3e-11, `max relative error ${worst}`);
  assert.ok(f32 <= 5, `${f32} of 730,000 float32 results differ from Math.exp's`);
  assert.equal(expNonPos(0), 1);
  assert.equal(expNonPos(-0), 1);
  assert.equal(expNonPos(-Infinity), 0); // a masked score
  assert.equal(expNonPos(-746), 0);
});

for (const preset of ['tiny', 'small'] as const) {
  test(`${preset}: native and jax-js agree on log-probs, entropies, rows and gradients in both modes`, async () => {
    const jax = await VlmPolicy.create(preset, 3);
    const nat = await NativePolicy.create(preset, 3);
    assert.deepEqual(await nat.weights(), await jax.weights(), 'the same initial weights');
    const items = fixtureItems(nat);
    for (const mode of ['image', 'text-only'] as const) {
      const a = await nat.score(items, { mode, entropy: true, rows: preset === 'tiny' });
      const b = await jax.score(items, { mode, entropy: true, rows: preset === 'tiny' });
      assert.ok(relDiff(a.logp, b.logp) < 1e-4, `${mode} logp: ${relDiff(a.logp, b.logp)}`);
      assert.ok(relDiff(a.entropy!, b.entropy!) < 1e-4, `${mode} entropy: ${relDiff(a.entropy!, b.entropy!)}`);
      if (a.rows) assert.ok(relDiff(a.rows, b.rows!) < 1e-4, `${mode} rows`);
      const rng = Rng.seeded(mode === 'image' ? 5 : 6);
      const d = randomPerToken(items, rng);
      const dEnt = randomPerToken(items, rng, 0.5);
      await nat.backward(items, d, { mode, dEntropy: dEnt });
      await jax.backward(items, d, { mode, dEntropy: dEnt });
      const gj = await jax.gradients();
      for (const [name, g] of await nat.gradients()) {
        const ref = gj.get(name)!.data;
        const scale = ref.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
        const diff = maxAbsDiff(g.data, ref);
        assert.ok(diff <= 1e-3 * scale + 1e-9, `${mode} gradient of ${name}: max diff ${diff} at scale ${scale}`);
      }
      nat.zeroGrad();
      jax.zeroGrad();
    }
    jax.dispose();
  });
}

test('native sampling: the KV-cache decode equals a full forward pass, and draws the tokens jax-js draws', async () => {
  const jax = await VlmPolicy.create('tiny', 4);
  const nat = await NativePolicy.create('tiny', 4);
  const items = fixtureItems(nat, Rng.seeded(9));
  const prompts = [items[0], items[3]].map((it) => ({ image: it.image, prompt: it.prompt }));
  for (const o of [
    { temperature: 1, topP: 1 },
    { temperature: 0.7, topP: 0.9 },
    { temperature: 1, topP: 1, greedy: true },
  ]) {
    const opts = { n: 3, maxNewTokens: 20, seed: 11, entropy: true, ...o };
    const a = await nat.sample(prompts, opts);
    const b = await jax.sample(prompts, opts);
    assert.deepEqual(
      a.map((r) => r.tokens),
      b.map((r) => r.tokens),
      JSON.stringify(o),
    );
    // the rollouts' log-probs are those of the distribution drawn from (greedy: temperature 1)
    const temperature = 'greedy' in o ? 1 : o.temperature;
    const scored = await nat.score(
      a.map((r, i) => ({ ...prompts[Math.floor(i / 3)], response: r.tokens })),
      { mode: 'image', entropy: true, temperature },
    );
    a.forEach((r, i) => {
      assert.ok(maxAbsDiff(r.logp, scored.logp[i]) < 1e-5, `rollout ${i}: decode vs full forward`);
      assert.ok(maxAbsDiff(r.entropy!, scored.entropy![i]) < 1e-4, `rollout ${i}: entropy`);
      assert.equal(r.finished, r.tokens[r.tokens.length - 1] === nat.eos);
    });
  }
  jax.dispose();
});

test('with the SIMD kernels off (PGPO_SIMD=0) the KV-cache decode, then all JavaScript loops, still equals a full forward pass', () => {
  // simdKernels() is decided once per process: a fresh one with the kernels off
  const root = join(import.meta.dirname, '..', '..');
  const code = `
    const { Rng } = await import(${JSON.stringify(join(root, 'src/engine/rng.ts'))});
    const { NativePolicy } = await import(${JSON.stringify(join(root, 'src/model/native/policy.ts'))});
    const { simdKernels } = await import(${JSON.stringify(join(root, 'src/model/native/simd/simd.ts'))});
    const { fixtureItems, maxAbsDiff } = await import(${JSON.stringify(join(root, 'test/model/helpers.ts'))});
    const nat = await NativePolicy.create('tiny', 4);
    const items = fixtureItems(nat, Rng.seeded(9));
    const prompts = [items[0], items[3]].map((it) => ({ image: it.image, prompt: it.prompt }));
    const a = await nat.sample(prompts, { n: 3, maxNewTokens: 20, seed: 11, entropy: true, temperature: 1, topP: 1 });
    const scored = await nat.score(a.map((r, i) => ({ ...prompts[Math.floor(i / 3)], response: r.tokens })), { mode: 'image', entropy: true });
    const worst = (k) => Math.max(...a.map((r, i) => maxAbsDiff(r[k], scored[k][i])));
    console.log(JSON.stringify({ simd: simdKernels() !== null, tokens: a.reduce((n, r) => n + r.tokens.length, 0), logp: worst('logp'), entropy: worst('entropy') }));
    process.exit(0);`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { env: { ...process.env, PGPO_SIMD: '0' }, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const got = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { simd: boolean; tokens: number; logp: number; entropy: number };
  assert.equal(got.simd, false, 'the kernels were not off');
  assert.ok(got.tokens > 6, `only ${got.tokens} tokens sampled`);
  assert.ok(got.logp < 1e-5, `decode vs full forward: log-probs differ by ${got.logp}`);
  assert.ok(got.entropy < 1e-4, `decode vs full forward: entropies differ by ${got.entropy}`);
});

test('native score with a temperature is the log-softmax of logits / T', async () => {
  const nat = await NativePolicy.create('tiny', 2);
  const items = fixtureItems(nat);
  const V = nat.vocabSize;
  const one = await nat.score(items, { mode: 'image', rows: true });
  const hot = await nat.score(items, { mode: 'image', temperature: 2 } as Parameters<NativePolicy['score']>[1]);
  items.forEach((it, i) => {
    for (let k = 0; k < it.response.length; k++) {
      const row = one.rows![i].subarray(k * V, (k + 1) * V);
      let z = 0;
      for (const x of row) z += Math.exp(x / 2);
      const want = row[it.response[k]] / 2 - Math.log(z);
      assert.ok(Math.abs(hot.logp[i][k] - want) < 1e-5, `item ${i} token ${k}: ${hot.logp[i][k]} vs ${want}`);
    }
  });
});

test('checkpoints move between the backends; the shipped base scores alike on both', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pgpo-native-'));
  const nat = await NativePolicy.create('tiny', 8);
  const items = fixtureItems(nat);
  await nat.backward(
    items,
    items.map((it) => new Float32Array(it.response.length).fill(1)),
    { mode: 'image' },
  );
  await nat.step({ lr: 1e-2, weightDecay: 0.01, betas: [0.9, 0.999], eps: 1e-8, maxGradNorm: 1 });
  await nat.save(join(dir, 'n'), { step: 1 });
  const { policy, meta } = await VlmPolicy.load(join(dir, 'n'));
  assert.deepEqual(meta, { step: 1 });
  assert.deepEqual(await policy.weights(), await nat.weights());
  assert.deepEqual((await policy.optimizerState()).m, (await nat.optimizerState()).m);
  assert.equal(policy.updates, 1);
  await policy.save(join(dir, 'j'));
  const back = (await NativePolicy.load(join(dir, 'j'))).policy;
  assert.deepEqual(await back.weights(), await nat.weights());
  assert.deepEqual(back.optimizerHeld(), { t: 1, kind: 'adamw' });
  policy.dispose();

  const base = join(import.meta.dirname, '..', '..', 'models', 'small-base', 'checkpoints');
  const { readdirSync } = await import('node:fs');
  const step = readdirSync(base)
    .filter((d) => d.startsWith('step-'))
    .sort()
    .pop()!;
  const [n, j] = [(await NativePolicy.load(join(base, step, 'policy'))).policy, (await VlmPolicy.load(join(base, step, 'policy'))).policy];
  const its = fixtureItems(n).slice(0, 2);
  const [a, b] = [await n.score(its, { mode: 'image' }), await j.score(its, { mode: 'image' })];
  assert.ok(relDiff(a.logp, b.logp) < 1e-4, `shipped base: ${relDiff(a.logp, b.logp)}`);
  j.dispose();
});

test('without a CBLAS library the native backend says so in one line naming the package, and the run goes on with jax-js', () => {
  const out = mkdtempSync(join(tmpdir(), 'pgpo-noblas-'));
  const bin = join(import.meta.dirname, '..', '..', 'bin', 'pgpo.js');
  const r = spawnSync(process.execPath, [bin, 'train', '--preset', 'tiny', '--algo', 'dapo', '--out', join(out, 'run'), 'trainer.total_steps=1', 'trainer.log_rollouts_freq=0'], {
    env: { ...process.env, PGPO_BLAS: join(out, 'no-such-libcblas.so') },
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, r.stderr);
  const warnings = r.stderr.split('\n').filter((l) => l.startsWith('warning: worker.actor.backend=native'));
  assert.equal(warnings.length, 1, r.stderr);
  assert.match(warnings[0], /apt-get install libopenblas0-pthread/);
  assert.match(warnings[0], /using the jax backend/);
});

test('native sampling with repeated consecutive prompts, one rollout each, one new token: as jax-js, decode = forward', async () => {
  const jax = await VlmPolicy.create('tiny', 4);
  const nat = await NativePolicy.create('tiny', 4);
  const items = fixtureItems(nat, Rng.seeded(3));
  const p0 = { image: items[0].image, prompt: items[0].prompt };
  const p1 = { image: items[3].image, prompt: items[3].prompt };
  for (const o of [
    { n: 2, maxNewTokens: 12 },
    { n: 1, maxNewTokens: 12 },
    { n: 3, maxNewTokens: 1 },
  ]) {
    const prompts = [p0, p0, p1];
    const opts = { ...o, temperature: 1, topP: 1, seed: 5 };
    const a = await nat.sample(prompts, opts);
    assert.deepEqual(
      a.map((r) => r.tokens),
      (await jax.sample(prompts, opts)).map((r) => r.tokens),
      JSON.stringify(o),
    );
    const scored = await nat.score(
      a.map((r, i) => ({ ...prompts[Math.floor(i / o.n)], response: r.tokens })),
      { mode: 'image' },
    );
    a.forEach((r, i) => assert.ok(maxAbsDiff(r.logp, scored.logp[i]) < 1e-5, `${JSON.stringify(o)} rollout ${i}`));
  }
  jax.dispose();
});

test('native micro-batching: many small micro-batches give the scores and gradients of one large one', async () => {
  const { modelConfig } = await import('../../src/model/config.ts');
  const base = modelConfig('tiny');
  const one = await NativePolicy.create(base, 6);
  const many = await NativePolicy.create({ ...base, batching: { ...base.batching, tokensPerMicroBatch: 40 } }, 6);
  const items = fixtureItems(one);
  items.push({ ...items[3], response: [] }, { ...items[0], response: [items[0].response[0]] });
  const d = randomPerToken(items, Rng.seeded(8));
  for (const mode of ['image', 'text-only'] as const) {
    const [a, b] = [await one.score(items, { mode }), await many.score(items, { mode })];
    assert.ok(relDiff(a.logp, b.logp) < 1e-5, mode);
    await one.backward(items, d, { mode });
    await many.backward(items, d, { mode });
    const [ga, gb] = [await one.gradVector(), await many.gradVector()];
    const scale = ga.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
    assert.ok(maxAbsDiff(ga, gb) < 1e-4 * scale, `${mode}: ${maxAbsDiff(ga, gb)} at ${scale}`);
    one.zeroGrad();
    many.zeroGrad();
  }
});

test('native AdamW and SGD follow jax-js over several steps (weight decay on matrices, clipping)', async () => {
  for (const optimizer of ['adamw', 'sgd'] as const) {
    const jax = await VlmPolicy.create('tiny', 7);
    const nat = await NativePolicy.create('tiny', 7);
    const items = fixtureItems(nat);
    const hp = { lr: 1e-2, weightDecay: 0.1, betas: [0.9, 0.99] as const, eps: 1e-8, maxGradNorm: 0.5, optimizer, momentum: 0.8 };
    for (let step = 0; step < 3; step++) {
      const d = randomPerToken(items, Rng.seeded(step));
      for (const p of [jax, nat]) await p.backward(items, d, { mode: 'image' });
      const [rj, rn] = [await jax.step(hp), await nat.step(hp)];
      assert.ok(Math.abs(rj.gradNorm - rn.gradNorm) < 1e-4 * rj.gradNorm, `${optimizer} step ${step}: norms ${rj.gradNorm} ${rn.gradNorm}`);
    }
    const wj = await jax.weights();
    for (const [name, w] of await nat.weights()) assert.ok(maxAbsDiff(w.data, wj.get(name)!.data) < 1e-4, `${optimizer}: ${name}`);
    jax.dispose();
  }
});

test('native backward with a temperature matches a finite difference of tempered scores', async () => {
  const nat = await NativePolicy.create('tiny', 9);
  const items = fixtureItems(nat);
  const d = randomPerToken(items, Rng.seeded(10));
  const T = 0.7;
  type Opts = Parameters<NativePolicy['score']>[1];
  await nat.backward(items, d, { mode: 'image', temperature: T } as Parameters<NativePolicy['backward']>[2]);
  const g = (await nat.gradients()).get('decoder.head')!.data;
  const w = (await nat.weights()).get('decoder.head')!.data;
  const rng = Rng.seeded(11);
  const u = Float32Array.from(w, () => rng.normal());
  const f = async (s: number) => {
    nat.setWeight(
      'decoder.head',
      Float32Array.from(w, (x, i) => x + s * 1e-3 * u[i]),
    );
    const sc = await nat.score(items, { mode: 'image', temperature: T } as Opts);
    return sc.logp.reduce((a, lp, i) => a + lp.reduce((b, x, k) => b + d[i][k] * x, 0), 0);
  };
  const numeric = ((await f(1)) - (await f(-1))) / 2e-3;
  const analytic = g.reduce((a, x, i) => a + x * u[i], 0);
  assert.ok(Math.abs(numeric - analytic) < 3e-2 + 2e-2 * Math.abs(analytic), `${analytic} vs ${numeric}`);
});

test('both backends refuse the same over-long prompt and response', async () => {
  const jax = await VlmPolicy.create('tiny', 1);
  const nat = await NativePolicy.create('tiny', 1);
  const [it] = fixtureItems(nat);
  const long = { ...it, response: Array.from({ length: 97 }, () => 5) };
  for (const p of [jax, nat]) await assert.rejects(p.score([long], { mode: 'image' }), /a response of 97 tokens exceeds the largest bucket \(96\)/);
  const longPrompt = { image: it.image, prompt: [1, ...Array.from({ length: 96 }, () => 5)] };
  for (const p of [jax, nat]) await assert.rejects(p.sample([longPrompt], { n: 1, temperature: 1, topP: 1, maxNewTokens: 4, seed: 1 }), /a prompt of 97 tokens exceeds the largest bucket/);
  jax.dispose();
});
