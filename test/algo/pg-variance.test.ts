import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { chunkRanges, gradientVariance, GradientVarianceAccumulator } from '../../src/algo/pg-variance.ts';

const close = (a: number, b: number, tol = 1e-9) => assert.ok(Math.abs(a - b) <= tol * Math.max(1, Math.abs(b)), `${a} != ${b}`);
const f32 = (...x: number[]) => Float32Array.from(x);

/** Two-pass reference: mean first, then squared deviations. */
function reference(gs: number[][]) {
  const m = gs.length;
  const d = gs[0].length;
  const mean = Array.from({ length: d }, (_, i) => gs.reduce((a, g) => a + Math.fround(g[i]), 0) / m);
  const sq = mean.reduce((a, x) => a + x * x, 0);
  const spread = gs.reduce((a, g) => a + g.reduce((b, x, i) => b + (Math.fround(x) - mean[i]) ** 2, 0), 0) / (m - 1);
  return { sq, spread, relative: spread / sq };
}

describe('policy-gradient variance (pg_var)', () => {
  it('identical chunk gradients have zero variance', () => {
    const v = gradientVariance([f32(1, 2, 3), f32(1, 2, 3), f32(1, 2, 3)]);
    assert.equal(v.chunks, 3);
    assert.equal(v.dim, 3);
    close(v.meanSqNorm, 14);
    close(v.spread, 0);
    close(v.relative, 0);
  });
  it('a worked example: g = (1,0) and (3,0)', () => {
    // g_bar = (2,0), ||g_bar||^2 = 4, deviations 1 + 1 over M-1 = 1 -> spread 2, relative 0.5
    const v = gradientVariance([f32(1, 0), f32(3, 0)]);
    close(v.meanSqNorm, 4);
    close(v.spread, 2);
    close(v.relative, 0.5);
  });
  it('is scale-free: multiplying every gradient by c leaves pg_var unchanged', () => {
    const a = gradientVariance([f32(1, -2, 0.5), f32(0.3, 1, 2), f32(-1, 0, 1)]);
    const b = gradientVariance([f32(10, -20, 5), f32(3, 10, 20), f32(-10, 0, 10)]);
    close(a.relative, b.relative, 1e-6);
    close(b.spread, 100 * a.spread, 1e-6);
  });
  it('matches the two-pass definition (property)', () => {
    fc.assert(
      fc.property(
        fc
          .integer({ min: 2, max: 6 })
          .chain((m) => fc.integer({ min: 1, max: 8 }).chain((d) => fc.array(fc.array(fc.double({ min: -10, max: 10, noNaN: true }), { minLength: d, maxLength: d }), { minLength: m, maxLength: m }))),
        (gs) => {
          const v = gradientVariance(gs.map((g) => Float32Array.from(g)));
          const r = reference(gs);
          close(v.meanSqNorm, r.sq, 1e-9);
          close(v.spread, r.spread, 1e-9);
          if (r.sq > 1e-6) close(v.relative, r.relative, 1e-6);
        },
      ),
    );
  });
  it('is undefined (NaN) for one chunk or a zero mean gradient, and rejects bad input', () => {
    assert.ok(Number.isNaN(gradientVariance([f32(1, 2)]).relative));
    assert.ok(Number.isNaN(gradientVariance([f32(1, -1), f32(-1, 1)]).relative));
    assert.equal(gradientVariance([f32(1, -1), f32(-1, 1)]).spread, 4);
    const acc = new GradientVarianceAccumulator();
    acc.add(f32(1, 2));
    assert.throws(() => acc.add(f32(1)), /length 1, expected 2/);
    assert.throws(() => acc.add(f32(1, NaN)), /NaN at index 1/);
    assert.equal(new GradientVarianceAccumulator().result().chunks, 0);
  });
  it('chunkRanges: balanced, contiguous, covering', () => {
    assert.deepEqual(chunkRanges(10, 4), [
      [0, 3],
      [3, 6],
      [6, 8],
      [8, 10],
    ]);
    assert.deepEqual(chunkRanges(4, 4), [
      [0, 1],
      [1, 2],
      [2, 3],
      [3, 4],
    ]);
    assert.throws(() => chunkRanges(3, 4), /cannot split 3 groups into 4/);
    assert.throws(() => chunkRanges(3, 0), /non-empty/);
  });
});
