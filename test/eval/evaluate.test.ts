import assert from 'node:assert/strict';
import { test } from 'node:test';
import { makeRgbImage } from '../../src/core/image.ts';
import { evaluate, formatEvalTable } from '../../src/eval/evaluate.ts';
import type { Problem } from '../../src/core/problem.ts';
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
  const table = formatEvalTable([
    ['base', r],
    ['trained', greedy],
  ]);
  assert.match(table, /overall \(avg@4\)/);
  assert.match(table, /vision-only/);
});

test('with gold solutions, every sample is classed correct, computation error, misreading or unformatted', async () => {
  const policy = ToyPolicy.fresh(4);
  const gold = problems.map((p, i) => ({ ...p, solution: `<think>A=${i} ${i}+0=${i}</think> \\boxed{${i}}` }));
  // a reward that calls every sample correct on even problems and wrong on odd ones
  const reward = (_t: string, a: string) => ({ accuracy: Number(a) % 2 === 0 ? 1 : 0, format: 1, reward: 0 });
  const r = await evaluate(
    policy,
    gold.map((p, i) => ({ ...p, answer: String(i) })),
    reward,
    { k: 2, temperature: 1, greedy: false, maxNewTokens: 6, seed: 1 },
  );
  const e = r.errors!;
  assert.ok(e);
  assert.equal(e.overall.correct, 0.5);
  // the toy policy writes no <think>: the wrong half is unformatted
  assert.equal(e.overall.unformatted, 0.5);
  assert.equal(e.overall.misread + e.overall.computation, 0);
  assert.deepEqual(Object.keys(e.by_variant), ['text-dominant', 'vision-only']);
  for (const p of r.problems)
    assert.equal(
      Object.values(p.errors!).reduce((a, b) => a + b, 0),
      p.k,
    );
  assert.match(formatEvalTable([['x', r]]), /misread a value/);
  // without gold solutions there is no error analysis
  assert.equal((await evaluate(policy, problems, reward, { k: 1, temperature: 1, greedy: false, maxNewTokens: 6, seed: 1 })).errors, undefined);
});
