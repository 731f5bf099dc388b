import assert from 'node:assert/strict';
import { test } from 'node:test';
import { makeRgbImage } from '../../src/data/image.ts';
import { evaluate, formatEvalTable } from '../../src/eval/evaluate.ts';
import type { Problem } from '../../src/train/problems.ts';
import { ToyPolicy } from '../train/toy-policy.ts';

const problems: Problem[] = Array.from({ length: 10 }, (_, i) => ({
  id: `p${i}`,
  problem: '<image>q',
  answer: String(i % 2),
  image: makeRgbImage(8, 8),
  family: i < 4 ? 'a' : 'b',
  variant: i % 2 ? 'vision-only' : 'text-dominant',
}));

test('avg@k is the share of correct samples, per family, variant and cell; deterministic for a seed', async () => {
  const policy = ToyPolicy.fresh(3);
  // parity reward: a sample is correct when its length has the answer's parity
  const reward = (t: string, a: string) => {
    const accuracy = t.length % 2 === Number(a) ? 1 : 0;
    return { accuracy, format: 1, reward: accuracy };
  };
  const o = { k: 4, temperature: 1, greedy: false, maxNewTokens: 6, seed: 7, batchPrompts: 3 };
  const r = await evaluate(policy, problems, reward, o);
  assert.equal(r.problems.length, 10);
  const manual = r.problems.reduce((a, p) => a + p.correct / p.k, 0) / 10;
  assert.ok(Math.abs(r.overall.accuracy - manual) < 1e-12);
  const fa = r.problems.filter((p) => p.family === 'a');
  assert.ok(Math.abs(r.by_family.a.accuracy - fa.reduce((s, p) => s + p.correct / 4, 0) / fa.length) < 1e-12);
  assert.equal(r.by_family.a.n, 4);
  assert.equal(r.by_variant['vision-only'].n, 5);
  assert.equal(r.by_family_variant['b/vision-only'].n, 3);
  assert.deepEqual(await evaluate(policy, problems, reward, o), r);
  const greedy = await evaluate(policy, problems, reward, { ...o, greedy: true });
  assert.equal(greedy.k, 1);
  const table = formatEvalTable([['base', r], ['trained', greedy]]);
  assert.match(table, /overall \(avg@4\)/);
  assert.match(table, /vision-only/);
});
