/**
 * Warm-start drills (src/tasks/drills.ts): deterministic per index, the reading answer is exactly
 * the numbers drawn (in reading order), the arithmetic answer is the computation's value, and
 * the reward accepts the gold solutions.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { Rng } from '../../src/engine/rng.ts';
import { computeReward } from '../../src/reward/index.ts';
import { arithmeticDrill, ladderArithmeticDrill, readingDrill } from '../../src/tasks/drills.ts';
import type { Rung } from '../../src/tasks/ladder.ts';

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

test('a reading drill names every cell in reading order: the number drawn in it, or - when none', () => {
  for (let i = 0; i < 300; i++) {
    const d = readingDrill(rng(i), 48);
    const cells = /^<think>(.*)<\/think> \\boxed\{(\d)\}$/.exec(d.solution);
    assert.ok(cells, d.solution);
    const named = cells[1].split(' ');
    assert.equal(named.length, 6);
    const texts = d.scene.marks.flatMap((m) => (m.type === 'text' ? [m] : []));
    // cell of a text mark: column by x (16 units), row by y (10 units from 2)
    const cellOf = (m: (typeof texts)[number]) => Math.floor((m.y - 2) / 10) * 2 + Math.floor(m.x / 16);
    const drawn = Array.from(
      { length: 6 },
      (_, c) =>
        texts
          .filter((m) => cellOf(m) === c)
          .map((m) => m.text)
          .join(' ') || '-',
    );
    assert.deepEqual(drawn, named);
    assert.equal(d.answer, String(named.filter((v) => v !== '-').length));
    assert.ok(Number(d.answer) >= 1);
    assert.deepEqual(computeReward(d.solution, d.answer), { accuracy: 1, format: 1, reward: 1 });
  }
});

test('sft.reading_drill_numbers below 6 draws 1..N numbers in distinct cells; 6 is the per-cell draw of the recorded bases', () => {
  for (const max of [1, 2, 3, 5]) {
    const counts = new Set<number>();
    for (let i = 0; i < 200; i++) {
      const d = readingDrill(rng(i), 48, max);
      const n = Number(d.answer);
      assert.ok(n >= 1 && n <= max, `max ${max}: ${d.solution}`);
      counts.add(n);
    }
    assert.equal(counts.size, max, `every count 1..${max} occurs`);
  }
  for (let i = 0; i < 20; i++) assert.equal(readingDrill(rng(i), 48, 6).solution, readingDrill(rng(i), 48).solution);
  // the default stream, pinned: the hash of the first 50 drills' solutions and pixels as the shipped bases were trained on them
  const h = createHash('sha256');
  for (let i = 0; i < 50; i++) {
    const d = readingDrill(rng(i), 48);
    h.update(d.solution);
    h.update(d.image.data);
  }
  assert.equal(h.digest('hex'), 'bd942bbc931e0cbd417d30f7a173811f343299bd4bda55e3615958b1799f4b32');
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

test('a ladder arithmetic drill computes a ladder problem of the rungs it is given, and its answer is that value', () => {
  const shapes = (rungs: readonly Rung[]) => {
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const d = ladderArithmeticDrill(rng(i), rungs, 48);
      const m = /^<image>Compute ([0-9+\-]+)\.$/.exec(d.problem);
      assert.ok(m, d.problem);
      assert.equal(String(Function(`return (${m[1]});`)()), d.answer, d.problem);
      assert.deepEqual(computeReward(d.solution, d.answer), { accuracy: 1, format: 1, reward: 1 });
      seen.add(m[1].replace(/[0-9]+/g, 'n'));
    }
    return seen;
  };
  // rung 1 reads two values: every computation has two operands
  assert.deepEqual([...shapes([1])].sort(), ['n+n', 'n-n']);
  // rung 3 subtracts the last of three values: three-operand shapes with a minus appear
  const three = shapes([1, 2, 3]);
  assert.ok(three.has('n+n-n') || three.has('n-n-n'), [...three].join(' '));
  assert.ok(three.has('n+n+n'), [...three].join(' '));
});
