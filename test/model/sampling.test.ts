/**
 * The host's token choice (sampling.ts `pickToken`), shared by both engines, against a plain
 * reference written pass by pass with Math.exp: the same tokens from the same seeds (the draw's
 * sums run in the same order), log-probs and entropies to float64 rounding, for temperatures,
 * top-p below and at 1, greedy, and rows with non-finite logits.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/engine/rng.ts';
import { type PickOptions, pickToken } from '../../src/model/sampling.ts';

function reference(z: Float32Array, o: PickOptions, rng: Rng): { token: number; logp: number; entropy: number } {
  const V = z.length;
  const temp = o.greedy ? 1 : o.temperature;
  let max = -Infinity;
  let arg = 0;
  for (let i = 0; i < V; i++) if (z[i] > max) [max, arg] = [z[i], i];
  const e = Array.from(z, (x) => Math.exp((x - max) / temp) || 0);
  const sum = e.reduce((a, b) => a + b, 0);
  const logZ = max / temp + Math.log(sum);
  let entropy = 0;
  for (let i = 0; i < V; i++) if (e[i] > 0) entropy -= (e[i] / sum) * ((z[i] - max) / temp - Math.log(sum));
  let token = arg;
  if (!o.greedy) {
    const p = e.map((x) => x / sum);
    let ids = p.map((_, i) => i);
    if (o.topP < 1) {
      // the most likely ids, up to the first whose running mass reaches topP
      const order = [...ids].sort((a, b) => p[b] - p[a] || a - b);
      let mass = 0;
      const cut = order.map((i) => (mass += p[i])).findIndex((m) => m >= o.topP);
      ids = cut < 0 ? order : order.slice(0, cut + 1);
    }
    let u = rng.float() * ids.reduce((a, i) => a + p[i], 0);
    const k = ids.findIndex((i) => (u -= p[i]) < 0);
    token = k < 0 ? ids[ids.length - 1] : ids[k];
  }
  return { token, logp: z[token] / temp - logZ, entropy: sum > 0 ? entropy : 0 };
}

test('pickToken draws the tokens a plain pass-by-pass reference draws, with its log-probs and entropies', () => {
  const gen = Rng.seeded('sampling.test');
  const V = 37;
  const scratch = new Float64Array(V);
  let draws = 0;
  for (const o of [
    { temperature: 1, topP: 1, greedy: false },
    { temperature: 0.7, topP: 1, greedy: false },
    { temperature: 1.3, topP: 0.9, greedy: false },
    { temperature: 1, topP: 0.5, greedy: false },
    { temperature: 1, topP: 1, greedy: true },
  ]) {
    const [a, b] = [Rng.seeded(`draw ${o.temperature} ${o.topP}`), Rng.seeded(`draw ${o.temperature} ${o.topP}`)];
    for (let row = 0; row < 400; row++) {
      const z = Float32Array.from({ length: V }, () => gen.normal() * 4);
      if (row % 7 === 0) z[row % V] = -Infinity;
      if (row % 11 === 0) z[(row + 3) % V] = Number.NaN;
      const got = pickToken(z, 0, V, o, a, scratch);
      const want = reference(z, o, b);
      assert.equal(got.token, want.token, `row ${row}, ${JSON.stringify(o)}`);
      assert.ok(Math.abs(got.logp - want.logp) <= 1e-9 * Math.max(1, Math.abs(want.logp)), `logp ${got.logp} vs ${want.logp}`);
      assert.ok(Math.abs(got.entropy - want.entropy) <= 1e-9, `entropy ${got.entropy} vs ${want.entropy}`);
      draws++;
    }
  }
  assert.equal(draws, 2000);
});

test('pickToken refuses a temperature <= 0 (unless greedy) and a scratch row shorter than the logits', () => {
  const z = Float32Array.from([0.1, 0.5, -1]);
  const rng = Rng.seeded('x');
  assert.throws(() => pickToken(z, 0, 3, { temperature: 0, topP: 1, greedy: false }, rng), /temperature must be > 0, got 0/);
  assert.equal(pickToken(z, 0, 3, { temperature: 0, topP: 1, greedy: true }, rng).token, 1);
  assert.throws(() => pickToken(z, 0, 3, { temperature: 1, topP: 1, greedy: false }, rng, new Float64Array(2)), /scratch holds 2 floats, fewer than the 3 logits/);
});

test('a row with no finite logit: the first id, entropy 0', () => {
  const z = Float32Array.from([Number.NaN, -Infinity, Number.NaN]);
  const c = pickToken(z, 0, 3, { temperature: 1, topP: 1, greedy: true }, Rng.seeded('y'));
  assert.equal(c.token, 0);
  assert.equal(c.entropy, 0);
});
