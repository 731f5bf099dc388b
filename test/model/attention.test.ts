/**
 * The two attention modes and the KV cache, on the tiny preset: text-only log-probs ignore the
 * pixels, dropping the image tokens equals masking them, sampling's log-probs equal a full
 * recomputation, and sampling is a function of its seed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/engine/rng.ts';
import { EOS, type VlmPolicy } from '../../src/model/index.ts';
import { fixtureItems, maxAbsDiff, randomImage, tinyPolicy } from './helpers.ts';

const pol = (await tinyPolicy(4)) as VlmPolicy;
const items = fixtureItems(pol);

test('text-only log-probs are identical whatever the pixels; image-mode log-probs change', async () => {
  const other = items.map((it, i) => ({ ...it, image: randomImage(pol.imageSize, Rng.seeded(100 + (i < 3 ? 0 : 1))) }));
  const t1 = await pol.score(items, { mode: 'text-only', entropy: true });
  const t2 = await pol.score(other, { mode: 'text-only', entropy: true });
  t1.logp.forEach((lp, i) => assert.deepEqual(lp, t2.logp[i]));
  t1.entropy!.forEach((en, i) => assert.deepEqual(en, t2.entropy![i]));
  const i1 = await pol.score(items, { mode: 'image' });
  const i2 = await pol.score(other, { mode: 'image' });
  for (let i = 0; i < items.length; i++) assert.ok(maxAbsDiff(i1.logp[i], i2.logp[i]) > 1e-5, `item ${i}: image-mode log-probs did not change`);
  for (let i = 0; i < items.length; i++) assert.ok(maxAbsDiff(i1.logp[i], t1.logp[i]) > 1e-5, `item ${i}: image and text-only agree`);
});

test('dropping the image tokens equals masking them (same positions)', async () => {
  const dropped = await pol.scoreAs(items, 'text-only', { entropy: true, rows: true });
  const masked = await pol.scoreAs(items, 'text-only-masked', { entropy: true, rows: true });
  for (let i = 0; i < items.length; i++) {
    assert.ok(maxAbsDiff(dropped.logp[i], masked.logp[i]) < 1e-5);
    assert.ok(maxAbsDiff(dropped.entropy![i], masked.entropy![i]) < 1e-5);
    assert.ok(maxAbsDiff(dropped.rows![i], masked.rows![i]) < 1e-5);
  }
});

test('score: rows are log-softmax rows holding the log-probs; grouping and padding do not change results', async () => {
  const V = pol.vocabSize;
  const all = await pol.score(items, { mode: 'image', entropy: true, rows: true });
  items.forEach((it, i) => {
    it.response.forEach((tok, k) => {
      const row = all.rows![i].subarray(k * V, (k + 1) * V);
      assert.ok(Math.abs(row[tok] - all.logp[i][k]) < 1e-6);
      const mass = row.reduce((a, x) => a + Math.exp(x), 0);
      assert.ok(Math.abs(mass - 1) < 1e-4);
      const ent = -row.reduce((a, x) => a + Math.exp(x) * x, 0);
      assert.ok(Math.abs(ent - all.entropy![i][k]) < 1e-4);
    });
  });
  // Scored one at a time (no shared prefix, other buckets): the same numbers.
  for (let i = 0; i < items.length; i++) {
    const one = await pol.score([items[i]], { mode: 'image' });
    assert.ok(maxAbsDiff(one.logp[0], all.logp[i]) < 1e-5, `item ${i}`);
  }
});

test('KV-cache sampling at temperature 1.3: per-token log-probs and entropies of the tempered distribution equal score at that temperature', async () => {
  const prompts = [items[0], items[3]].map((it) => ({ image: it.image, prompt: it.prompt }));
  const ro = await pol.sample(prompts, { n: 3, temperature: 1.3, topP: 0.9, maxNewTokens: 20, seed: 9, entropy: true });
  assert.equal(ro.length, 6);
  const tokens = ro.map((r, i) => ({ ...prompts[Math.floor(i / 3)], response: r.tokens }));
  const scored = await pol.score(tokens, { mode: 'image', entropy: true, temperature: 1.3 });
  // the temperature-1 log-probs are another distribution: the old contract's values no longer match
  const at1 = await pol.score(tokens, { mode: 'image' });
  assert.ok(ro.some((r, i) => maxAbsDiff(r.logp, at1.logp[i]) > 1e-3));
  ro.forEach((r, i) => {
    assert.ok(r.tokens.length >= 1 && r.tokens.length <= 20);
    assert.equal(r.logp.length, r.tokens.length);
    assert.equal(r.finished, r.tokens[r.tokens.length - 1] === EOS);
    assert.ok(maxAbsDiff(r.logp, scored.logp[i]) < 1e-4, `rollout ${i}: ${maxAbsDiff(r.logp, scored.logp[i])}`);
    assert.ok(maxAbsDiff(r.entropy!, scored.entropy![i]) < 1e-4);
  });
});

test('with a logit scale other than 1, sampling and scoring apply it alike (the PPO ratio starts at 1)', async () => {
  const prompts = [items[0], items[3]].map((it) => ({ image: it.image, prompt: it.prompt }));
  const o = { n: 3, temperature: 1, topP: 1, maxNewTokens: 20, seed: 9 };
  const at1 = await pol.sample(prompts, o);
  pol.setWeight('decoder.scale', new Float32Array([1.7]));
  try {
    const ro = await pol.sample(prompts, o);
    const scored = await pol.score(
      ro.map((r, i) => ({ ...prompts[Math.floor(i / 3)], response: r.tokens })),
      { mode: 'image' },
    );
    ro.forEach((r, i) => assert.ok(maxAbsDiff(r.logp, scored.logp[i]) < 1e-4, `rollout ${i}: ${maxAbsDiff(r.logp, scored.logp[i])}`));
    // and the scale changed what was sampled or its probabilities
    assert.ok(ro.some((r, i) => r.tokens.length !== at1[i].tokens.length || maxAbsDiff(r.logp, at1[i].logp) > 1e-3));
  } finally {
    pol.setWeight('decoder.scale', new Float32Array([1]));
  }
});

test('same seed, same rollouts; another seed, other rollouts; greedy ignores the seed', async () => {
  const prompts = [{ image: items[0].image, prompt: items[0].prompt }];
  const o = { n: 4, temperature: 1, topP: 1, maxNewTokens: 16 };
  const a = await pol.sample(prompts, { ...o, seed: 1 });
  const b = await pol.sample(prompts, { ...o, seed: 1 });
  const c = await pol.sample(prompts, { ...o, seed: 2 });
  assert.deepEqual(
    a.map((r) => r.tokens),
    b.map((r) => r.tokens),
  );
  assert.deepEqual(
    a.map((r) => [...r.logp]),
    b.map((r) => [...r.logp]),
  );
  assert.notDeepEqual(
    a.map((r) => r.tokens),
    c.map((r) => r.tokens),
  );
  assert.ok(a[0].entropy === undefined);
  const g1 = await pol.sample(prompts, { ...o, greedy: true, seed: 1 });
  const g2 = await pol.sample(prompts, { ...o, greedy: true, seed: 2 });
  assert.deepEqual(
    g1.map((r) => r.tokens),
    g2.map((r) => r.tokens),
  );
  assert.deepEqual(g1[0].tokens, g1[3].tokens);
});

test('sampling stops a rollout at eos', async () => {
  const p = (await tinyPolicy(4)) as VlmPolicy;
  // Final norm outputs all ones and the head reads only the eos column: eos is (nearly) certain.
  const w = await p.weights();
  const C = w.get('decoder.lnf.g')!.shape[0];
  const V = w.get('decoder.head')!.shape[1]; // padded head width
  p.setWeight('decoder.lnf.g', new Float32Array(C));
  p.setWeight('decoder.lnf.b', new Float32Array(C).fill(1));
  const head = new Float32Array(C * V);
  for (let c = 0; c < C; c++) head[c * V + EOS] = 1;
  p.setWeight('decoder.head', head);
  const ro = await p.sample([{ image: items[0].image, prompt: items[0].prompt }], { n: 2, temperature: 1, topP: 1, maxNewTokens: 10, seed: 3 });
  for (const r of ro) {
    assert.deepEqual(r.tokens, [EOS]);
    assert.equal(r.finished, true);
  }
  p.dispose();
});

test('encodePrompt drops the <image> marker and starts with bos; wrong image sizes are rejected', async () => {
  const ids = pol.encodePrompt('<image>\nHow many?');
  assert.deepEqual(ids, [1, ...pol.encode('How many?')]);
  assert.deepEqual(pol.encodePrompt('Look: <image> How many?'), [1, ...pol.encode('Look: How many?')]);
  const small = randomImage(16, Rng.seeded(1));
  await assert.rejects(pol.score([{ ...items[0], image: small }], { mode: 'image' }), /takes 48x48 images, got 16x16/);
});
