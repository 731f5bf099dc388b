import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Rng } from '../../src/engine/rng.ts';

const draw = (r: Rng, n = 8) => Array.from({ length: n }, () => r.u32());

describe('Rng', () => {
  it('is deterministic for a seed and differs across seeds', () => {
    assert.deepEqual(draw(Rng.seeded(42)), draw(Rng.seeded(42)));
    assert.notDeepEqual(draw(Rng.seeded(42)), draw(Rng.seeded(43)));
    assert.deepEqual(draw(Rng.seeded('run-a')), draw(Rng.seeded('run-a')));
    assert.notDeepEqual(draw(Rng.seeded(2 ** 40)), draw(Rng.seeded(0)));
  });
  it('state round-trips exactly (checkpoints)', () => {
    const a = Rng.seeded(7);
    draw(a, 5);
    const b = Rng.fromState(a.state());
    assert.deepEqual(draw(a), draw(b));
    assert.throws(() => Rng.fromState([1, 2, 3]), /four uint32/);
  });
  it('fork does not advance the parent and gives independent named streams', () => {
    const a = Rng.seeded(1);
    const before = a.state();
    const f1 = a.fork('data');
    assert.deepEqual(a.state(), before);
    assert.deepEqual(draw(f1), draw(Rng.seeded(1).fork('data')));
    assert.notDeepEqual(draw(Rng.seeded(1).fork('data')), draw(Rng.seeded(1).fork('sampling')));
  });
  it('split advances the parent', () => {
    const a = Rng.seeded(1);
    const child = a.split();
    assert.notDeepEqual(draw(child), draw(a));
  });
  it('float in [0, 1), int in range, roughly uniform', () => {
    const r = Rng.seeded(3);
    const counts = new Array(5).fill(0);
    for (let i = 0; i < 50_000; i++) {
      const f = r.float();
      assert.ok(f >= 0 && f < 1);
      counts[r.int(5)]++;
    }
    for (const c of counts) assert.ok(Math.abs(c - 10_000) < 500, `count ${c}`);
    assert.throws(() => r.int(0), /integer/);
    const x = r.range(-2, 2);
    assert.ok(x >= -2 && x <= 2);
  });
  it('normal has mean ~0 and variance ~1; shuffle is a permutation', () => {
    const r = Rng.seeded(9);
    let s = 0;
    let ss = 0;
    const n = 20_000;
    for (let i = 0; i < n; i++) {
      const z = r.normal();
      s += z;
      ss += z * z;
    }
    assert.ok(Math.abs(s / n) < 0.03);
    assert.ok(Math.abs(ss / n - 1) < 0.05);
    assert.deepEqual(
      [...r.permutation(10)].sort((a, b) => a - b),
      [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    );
  });
});
