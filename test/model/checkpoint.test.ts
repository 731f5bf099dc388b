/**
 * Policy checkpoints: save -> load is bit-exact for weights and AdamW state and gives the same
 * scores; corrupted, truncated and mis-shaped checkpoints are rejected with the tensor's name.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync, readdirSync, cpSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { policyFactory, VlmPolicy } from '../../src/model/index.ts';
import { readSafetensors, writeSafetensors } from '../../src/engine/safetensors.ts';
import { fixtureItems } from './helpers.ts';

const pol = (await policyFactory.create('tiny', 6)) as VlmPolicy;
const items = fixtureItems(pol);
const opt = { lr: 1e-2, weightDecay: 0.1, betas: [0.9, 0.99] as const, eps: 1e-8, maxGradNorm: 1 };
for (let s = 0; s < 2; s++) {
  await pol.sftBackward(items, 1);
  await pol.step(opt);
}
const dir = join(mkdtempSync(join(tmpdir(), 'pgpo-ckpt-')), 'step-2');
await pol.save(dir, { step: 2, note: 'test' });

const bytesOf = (m: Map<string, { data: Float32Array }>) => new Map([...m].map(([n, t]) => [n, Buffer.from(t.data.buffer).toString('base64')]));

test('save writes three files and no temporaries; load restores weights and AdamW state bit-exactly', async () => {
  assert.deepEqual(readdirSync(dir).sort(), ['model.safetensors', 'optimizer.safetensors', 'policy.json']);
  const { policy, meta } = await policyFactory.load(dir);
  const q = policy as VlmPolicy;
  assert.deepEqual(meta, { step: 2, note: 'test' });
  assert.equal(q.paramCount, pol.paramCount);
  assert.deepEqual(q.tokenizer.vocab, pol.tokenizer.vocab);
  assert.deepEqual(q.config, pol.config);
  assert.deepEqual(bytesOf(await q.weights()), bytesOf(await pol.weights()));
  const a = await pol.optimizerState();
  const b = await q.optimizerState();
  assert.equal(b.t, 2);
  assert.deepEqual(bytesOf(b.m), bytesOf(a.m));
  assert.deepEqual(bytesOf(b.v), bytesOf(a.v));
  const s1 = await pol.score(items, { mode: 'image' });
  const s2 = await q.score(items, { mode: 'image' });
  s1.logp.forEach((lp, i) => assert.deepEqual(s2.logp[i], lp));
  // One more identical step on both: still identical (the moments and step count were restored).
  for (const p of [pol, q]) {
    await p.sftBackward(items, 1);
    await p.step(opt);
  }
  assert.deepEqual(bytesOf(await q.weights()), bytesOf(await pol.weights()));
  q.dispose();
});

function copy(): string {
  const d = mkdtempSync(join(tmpdir(), 'pgpo-bad-'));
  cpSync(dir, d, { recursive: true });
  return d;
}

test('a flipped byte is rejected, naming the tensor', async () => {
  const d = copy();
  const f = join(d, 'model.safetensors');
  const b = readFileSync(f);
  b[b.length - 7] ^= 0x10; // inside the head, the last tensor but the 4-byte logit scale
  writeFileSync(f, b);
  await assert.rejects(policyFactory.load(d), /model\.safetensors: tensor 'decoder\.head' is corrupted/);
});

test('a truncated file is rejected', async () => {
  const d = copy();
  const f = join(d, 'optimizer.safetensors');
  const b = readFileSync(f);
  writeFileSync(f, b.subarray(0, b.length - 100));
  await assert.rejects(policyFactory.load(d), /optimizer\.safetensors: tensor 'v\.decoder\.head' ends at byte \d+ .*truncated/);
});

test('a config that does not match the weights is rejected, naming the tensor and both shapes', async () => {
  const d = copy();
  const f = join(d, 'policy.json');
  const side = JSON.parse(readFileSync(f, 'utf8'));
  side.config.decoder.mlp = 48;
  writeFileSync(f, JSON.stringify(side));
  await assert.rejects(policyFactory.load(d), /tensor 'decoder\.layers\.0\.fc\.w' has shape \[32,64\], expected \[32,48\]/);
});

test('a missing sidecar or a foreign format is rejected', async () => {
  const d = copy();
  const f = join(d, 'policy.json');
  const side = JSON.parse(readFileSync(f, 'utf8'));
  writeFileSync(f, JSON.stringify({ ...side, format: 'other/9' }));
  await assert.rejects(policyFactory.load(d), /format "other\/9", expected "pgpo-policy\/1"/);
  await assert.rejects(policyFactory.load(join(d, 'nope')), /no policy\.json/);
});

test('a weights-only checkpoint (no optimizer.safetensors, as the shipped base models) loads with a fresh optimizer', async () => {
  const d = copy();
  rmSync(join(d, 'optimizer.safetensors'));
  const q = (await policyFactory.load(d)).policy as VlmPolicy;
  const full = (await policyFactory.load(dir)).policy as VlmPolicy;
  assert.deepEqual(bytesOf(await q.weights()), bytesOf(await full.weights()));
  full.dispose();
  const o = await q.optimizerState();
  assert.equal(o.t, 0);
  assert.ok([...o.m.values(), ...o.v.values()].every((t) => t.data.every((x) => x === 0)));
  q.dispose();
});

test('a checkpoint from before the logit scale (no decoder.scale) loads with scale 1 and zero moments for it', async () => {
  const d = copy();
  for (const [file, names] of [
    ['model.safetensors', ['decoder.scale']],
    ['optimizer.safetensors', ['m.decoder.scale', 'v.decoder.scale']],
  ] as const) {
    const f = readSafetensors(join(d, file));
    for (const n of names) assert.ok(f.tensors.delete(n), `${file} held ${n}`);
    writeSafetensors(join(d, file), f.tensors, f.metadata);
  }
  const old = (await policyFactory.load(d)).policy as VlmPolicy;
  const full = (await policyFactory.load(dir)).policy as VlmPolicy;
  const w = await old.weights();
  const trained = (await full.weights()).get('decoder.scale')!.data[0];
  assert.notEqual(trained, 1); // two AdamW steps moved it in the saved policy
  assert.deepEqual([...w.get('decoder.scale')!.data], [1]);
  const o = await old.optimizerState();
  assert.equal(o.t, 2);
  assert.deepEqual([...o.m.get('decoder.scale')!.data, ...o.v.get('decoder.scale')!.data], [0, 0]);
  // every other weight as saved; with the full checkpoint's scale set to 1 the two score alike
  for (const [n, t] of await full.weights()) if (n !== 'decoder.scale') assert.deepEqual(bytesOf(new Map([[n, w.get(n)!]])), bytesOf(new Map([[n, t]])));
  full.setWeight('decoder.scale', new Float32Array([1]));
  const [a, b] = [await old.score(items, { mode: 'image' }), await full.score(items, { mode: 'image' })];
  a.logp.forEach((lp, i) => assert.deepEqual(lp, b.logp[i]));
  // and the scale multiplies the logits: scale 2 scores as the head's weights doubled
  full.setWeight('decoder.scale', new Float32Array([2]));
  const head = w.get('decoder.head')!.data;
  old.setWeight(
    'decoder.head',
    head.map((x) => 2 * x),
  );
  const [c, e] = [await old.score(items, { mode: 'image' }), await full.score(items, { mode: 'image' })];
  c.logp.forEach((lp, i) => lp.forEach((x, k) => assert.ok(Math.abs(x - e.logp[i][k]) < 1e-5, `${x} vs ${e.logp[i][k]}`)));
  old.dispose();
  full.dispose();
});

test('the checkpoint records which optimizer wrote its state; the other one refuses to continue it', async () => {
  const sgd = (await policyFactory.create('tiny', 8)) as VlmPolicy;
  const its = fixtureItems(sgd);
  const sgdOpt = { ...opt, optimizer: 'sgd' as const, momentum: 0.9 };
  await sgd.sftBackward(its, 1);
  await sgd.step(sgdOpt);
  const d = join(mkdtempSync(join(tmpdir(), 'pgpo-ckpt-')), 'sgd');
  await sgd.save(d, { step: 1 });
  sgd.dispose();
  const back = (await policyFactory.load(d)).policy as VlmPolicy;
  await back.sftBackward(its, 1);
  await assert.rejects(back.step(opt), /experiment\.optimizer: the optimizer state holds 1 updates of sgd, not adamw; continue with experiment\.optimizer=sgd/);
  await back.sftBackward(its, 1);
  assert.equal((await back.step(sgdOpt)).applied, true);
  back.resetOptimizer(); // RL from a checkpoint (--init) may use either
  await back.sftBackward(its, 1);
  assert.equal((await back.step(opt)).applied, true);
  back.dispose();
  // the AdamW checkpoint above refuses SGD
  const adam = (await policyFactory.load(dir)).policy as VlmPolicy;
  await adam.sftBackward(its, 1);
  await assert.rejects(adam.step(sgdOpt), /holds 2 updates of adamw, not sgd/);
  adam.dispose();
});
