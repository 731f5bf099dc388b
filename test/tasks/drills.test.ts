/**
 * Warm-start drills (src/tasks/drills.ts): deterministic per index, the reading answer is exactly
 * the numbers drawn (in reading order), the arithmetic answer is the computation's value, and
 * the reward accepts the gold solutions.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Rng } from '../../src/engine/rng.ts';
import { computeReward } from '../../src/reward/index.ts';
import { arithmeticDrill, readingDrill } from '../../src/tasks/drills.ts';
import { sceneTexts } from '../../src/tasks/scene.ts';

const rng = (i: number) => Rng.seeded(3).fork(i);

test('a drill is a pure function of its generator: same stream, same bytes', () => {
  for (let i = 0; i < 20; i++) {
    const a = readingDrill(rng(i), 48);
    const b = readingDrill(rng(i), 48);
    assert.equal(a.solution, b.solution);
    assert.deepEqual(a.image.data, b.image.data);
    assert.equal(arithmeticDrill(rng(i), 1, 48).solution, arithmeticDrill(rng(i), 1, 48).solution);
  }
  assert.notEqual(readingDrill(rng(0), 48).solution, readingDrill(rng(1), 48).solution);
});

test('a reading drill answers with exactly the numbers it draws, top row first, left before right', () => {
  for (let i = 0; i < 300; i++) {
    const d = readingDrill(rng(i), 48);
    const texts = d.scene.marks.filter((m) => m.type === 'text');
    const order = [...texts].sort((p, q) => (p.type === 'text' && q.type === 'text' ? Math.floor((p.y - 2) / 10) - Math.floor((q.y - 2) / 10) || p.x - q.x : 0));
    assert.deepEqual(sceneTexts({ marks: order }), d.answer.split(' '));
    assert.ok(texts.length >= 2 && texts.length <= 4);
    // the image is not blank: something was drawn in black
    assert.ok(d.image.data.some((v, k) => k % 3 === 0 && v === 0 && d.image.data[k + 1] === 0 && d.image.data[k + 2] === 0));
    assert.deepEqual(computeReward(d.solution, d.answer), { accuracy: 1, format: 1, reward: 1 });
  }
});

test("an arithmetic drill's answer is the value of its computation, and the reward accepts its solution", () => {
  const seen = new Set<string>();
  for (let i = 0; i < 300; i++) {
    const d = arithmeticDrill(rng(i), 1, 48);
    const m = /^<image>Compute ([0-9+\-*()]+)\.$/.exec(d.problem);
    assert.ok(m, d.problem);
    // the expression is digits and + - * ( ) only (checked above), so evaluating it is safe
    assert.equal(String(Function(`return (${m[1]});`)()), d.answer, d.problem);
    assert.equal(d.solution, `<think>${m[1]}=${d.answer}</think> \\boxed{${d.answer}}`);
    assert.deepEqual(computeReward(d.solution, d.answer), { accuracy: 1, format: 1, reward: 1 });
    seen.add(m[1].replace(/[0-9]+/g, 'n'));
  }
  assert.ok(seen.size >= 5, `the drills cover the suite's computation shapes: ${[...seen].join(' ')}`);
});
