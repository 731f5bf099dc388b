/**
 * Warm-start drills (src/tasks/drills.ts): deterministic for their generator, reading images
 * write inside the image, the arithmetic answer is the computation's value, and the reward
 * accepts the gold solutions.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Rng } from '../../src/engine/rng.ts';
import { computeReward } from '../../src/reward/index.ts';
import { arithmeticDrill, readingImage } from '../../src/tasks/drills.ts';
import { glyphPlacements } from '../../src/tasks/raster.ts';

const rng = (i: number) => Rng.seeded(3).fork(i);

test('a drill is a pure function of its generator: same stream, same bytes', () => {
  for (let i = 0; i < 20; i++) {
    assert.deepEqual(readingImage(rng(i), 48).image.data, readingImage(rng(i), 48).image.data);
    assert.equal(arithmeticDrill(rng(i), 1, 48).solution, arithmeticDrill(rng(i), 1, 48).solution);
  }
  assert.notDeepEqual(readingImage(rng(0), 48).image.data, readingImage(rng(1), 48).image.data);
});

test('a reading image writes several things, every glyph inside the image, in characters the font has', () => {
  let total = 0;
  for (let i = 0; i < 300; i++) {
    const r = readingImage(rng(i), 48);
    const g = glyphPlacements(r.scene, 48);
    for (const p of g) assert.ok(p.cx >= 1 && p.cx < 47 && p.cy >= 2 && p.cy < 46, JSON.stringify(p));
    // every glyph's 3x5 box holds black ink (what the reading loss is told is there)
    const ink = (x: number, y: number) => r.image.data[(y * 48 + x) * 3] === 0;
    for (const p of g) assert.ok([-1, 0, 1].some((dx) => [-2, -1, 0, 1, 2].some((dy) => ink(Math.floor(p.cx) + dx, Math.floor(p.cy) + dy))), JSON.stringify(p));
    total += g.length;
  }
  assert.ok(total / 300 > 4, `about 3.6 texts of 1-3 characters per image, got ${total / 300} glyphs`);
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
