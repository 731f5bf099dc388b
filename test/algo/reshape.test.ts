import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { AlgoInputError, DEFAULT_RESHAPE, gateWeight, normalizeWeights, RESHAPE_VARIANTS, reshapeWeights, scoreResponse, type ReshapeOptions, type ReshapeVariant } from '../../src/algo/index.ts';

const close = (a: number, b: number, tol = 1e-6) => assert.ok(Math.abs(a - b) <= tol, `${a} != ${b} (tol ${tol})`);
const sum = (a: ArrayLike<number>) => Array.from(a).reduce((x, y) => x + y, 0);

/** Dependencies: non-negative, long-tailed, sometimes with ties and exact zeros. */
const dependencyArb = fc.array(fc.oneof(fc.constant(0), fc.double({ min: 0, max: 1e-3, noNaN: true }), fc.double({ min: 0, max: 50, noNaN: true }), fc.constant(0.7)), { minLength: 1, maxLength: 64 });
const optionsArb = fc.record({
  tau: fc.double({ min: 0, max: 1, noNaN: true }),
  beta: fc.double({ min: 0, max: 10, noNaN: true }),
  eps: fc.constant(1e-8),
  quantile: fc.double({ min: 0, max: 1, noNaN: true }),
  floor: fc.double({ min: 0, max: 1, noNaN: true }),
});
const normalizingVariants = RESHAPE_VARIANTS.filter((v) => v !== 'pgpo-no-norm');

describe('score: log compression and min-max', () => {
  it('matches a hand-computed example', () => {
    const { compressed, importance, degenerate } = scoreResponse([0, Math.E - 1, Math.E ** 2 - 1]);
    close(compressed[0], 0, 1e-12);
    close(compressed[1], 1, 1e-12);
    close(compressed[2], 2, 1e-12);
    close(importance[1], 0.5);
    close(importance[2], 1);
    assert.ok(importance[2] < 1, 'eps keeps I strictly below 1');
    assert.equal(degenerate, false);
  });
  it('flags all-equal and single-token responses as degenerate', () => {
    assert.equal(scoreResponse([3, 3, 3]).degenerate, true);
    assert.equal(scoreResponse([0.2]).degenerate, true);
    assert.equal(scoreResponse([0, 0]).degenerate, true);
  });
});

describe('the gate w(I)', () => {
  it('suppresses below tau and amplifies above, linearly', () => {
    const eps = 0;
    close(gateWeight(0, 0.4, 2, eps), 0);
    close(gateWeight(0.2, 0.4, 2, eps), 0.5);
    close(gateWeight(0.4, 0.4, 2, eps), 1);
    close(gateWeight(0.7, 0.4, 2, eps), 2);
    close(gateWeight(1, 0.4, 2, eps), 3);
  });
  it('normalizeWeights spreads the mass over the length, or refuses a zero sum', () => {
    const w = normalizeWeights([0, 1, 3])!;
    close(w[1], 0.75);
    close(w[2], 2.25);
    assert.equal(normalizeWeights([0, 0]), null);
  });
});

describe('pgpo reshaping on a hand-computed response', () => {
  it('gives weights 0, 12/13, 27/13 for S~ = 0, 1, 2 (tau 0.4, beta 2)', () => {
    // I = 0, 0.5, 1 -> w = 0, 1 + 2 * 0.1 / 0.6 = 4/3, 3 -> sum 13/3 -> scale 3 / (13/3) = 9/13
    const { weights, fallback } = reshapeWeights('pgpo', [0, Math.E - 1, Math.E ** 2 - 1]);
    assert.equal(fallback, null);
    close(weights[0], 0);
    close(weights[1], 12 / 13);
    close(weights[2], 27 / 13);
  });
  it('pgpo-no-norm keeps the raw gate', () => {
    const { weights } = reshapeWeights('pgpo-no-norm', [0, Math.E - 1, Math.E ** 2 - 1]);
    close(weights[1], 4 / 3);
    close(weights[2], 3);
  });
  it('suppress-only and boost-only override tau', () => {
    const s = [0, Math.E - 1, Math.E ** 2 - 1];
    const sup = reshapeWeights('suppress-only', s);
    assert.equal(sup.tau, 1);
    // w = I = 0, 0.5, 1 -> sum 1.5 -> 0, 1, 2
    close(sup.weights[1], 1);
    close(sup.weights[2], 2);
    const boost = reshapeWeights('boost-only', s);
    // w = 1 + 2I = 1, 2, 3 -> sum 6 -> 0.5, 1, 1.5
    close(boost.weights[0], 0.5);
    close(boost.weights[2], 1.5);
  });
  it('pgpo-floor raises low weights before normalising', () => {
    const { weights } = reshapeWeights('pgpo-floor', [0, Math.E - 1, Math.E ** 2 - 1], { ...DEFAULT_RESHAPE, floor: 0.1 });
    // w = 0.1, 4/3, 3 -> sum 4.4333.. -> scale 3 / 4.4333
    const scale = 3 / (0.1 + 4 / 3 + 3);
    close(weights[0], 0.1 * scale);
    close(weights[2], 3 * scale);
  });
  it('pgpo-inverse gates 1 - I: the least image-dependent token gets the most credit, the mass is kept', () => {
    // I = 0, 0.5, 1 -> gated on 1, 0.5, 0 with tau 0.4, beta 2: w = 1 + 2*0.6/0.6 = 3, 1 + 2*0.1/0.6 = 4/3, 0 -> sum 13/3
    const { weights } = reshapeWeights('pgpo-inverse', [0, Math.E - 1, Math.E ** 2 - 1]);
    close(weights[0], 3 * (3 / (13 / 3)));
    close(weights[1], (4 / 3) * (3 / (13 / 3)));
    close(weights[2], 0);
    // the mirror image of pgpo's weights on the reversed scores
    const pgpo = reshapeWeights('pgpo', [Math.E ** 2 - 1, Math.E - 1, 0]).weights;
    for (let t = 0; t < 3; t++) close(weights[t], pgpo[t]);
  });
  it('pgpo-quantile takes tau from the response', () => {
    const r = reshapeWeights('pgpo-quantile', [0, Math.E - 1, Math.E ** 2 - 1], { ...DEFAULT_RESHAPE, quantile: 0.5 });
    close(r.tau, 0.5);
  });
  it('none leaves every weight at 1', () => {
    assert.deepEqual(Array.from(reshapeWeights('none', [0, 5, 1]).weights), [1, 1, 1]);
  });
});

describe('degenerate inputs are defined', () => {
  for (const variant of RESHAPE_VARIANTS) {
    it(`${variant}: all-equal, zero and single-token responses get weights 1`, () => {
      for (const s of [[2, 2, 2], [0, 0, 0, 0], [0.3]]) {
        const r = reshapeWeights(variant, s);
        assert.deepEqual(
          Array.from(r.weights),
          s.map(() => 1),
          `${variant} on ${s}`,
        );
        if (variant !== 'none') assert.equal(r.fallback, 'degenerate');
      }
    });
  }
  it('zero-length responses are an error', () => {
    assert.throws(
      () => reshapeWeights('pgpo', [], DEFAULT_RESHAPE, 3),
      (e: unknown) => e instanceof AlgoInputError && e.where.response === 3,
    );
  });
  it('NaN or Inf dependencies are an error naming the response and position (not a silent fallback)', () => {
    for (const bad of [NaN, Infinity, -Infinity]) {
      assert.throws(
        () => reshapeWeights('pgpo', [0, bad, 1], DEFAULT_RESHAPE, 4),
        (e: unknown) => e instanceof AlgoInputError && e.where.response === 4 && e.where.position === 1 && e.where.field === 'dependency',
      );
    }
  });
  it('bad options name the field', () => {
    assert.throws(() => reshapeWeights('pgpo', [1, 2], { ...DEFAULT_RESHAPE, tau: 1.5 }), /tau must be in \[0, 1\]/);
    assert.throws(() => reshapeWeights('pgpo', [1, 2], { ...DEFAULT_RESHAPE, beta: -1 }), /beta/);
    assert.throws(() => reshapeWeights('pgpo', [1, 2], { ...DEFAULT_RESHAPE, eps: 0 }), /eps/);
  });
  it('unknown variants list the known ones', () => {
    assert.throws(() => reshapeWeights('bogus' as ReshapeVariant, [1, 2]), /unknown reshaping variant "bogus" \(known: none, pgpo/);
  });
});

describe('invariants of PGPO.md §4 (property-based)', () => {
  it('sum of weights equals the response length for every normalising variant', () => {
    fc.assert(
      fc.property(dependencyArb, optionsArb, fc.constantFrom(...normalizingVariants), (s, o: ReshapeOptions, variant) => {
        const { weights } = reshapeWeights(variant, s, o);
        close(sum(weights), s.length, 1e-9 * s.length);
        for (const w of weights) assert.ok(w >= 0 && Number.isFinite(w));
      }),
      { numRuns: 500 },
    );
  });

  it('S -> w~ is monotone non-decreasing within a response (ranking kept; non-increasing for the pgpo-inverse control)', () => {
    fc.assert(
      fc.property(dependencyArb, optionsArb, fc.constantFrom(...RESHAPE_VARIANTS), (s, o: ReshapeOptions, variant) => {
        const { weights } = reshapeWeights(variant, s, o);
        const up = variant !== 'pgpo-inverse';
        for (let a = 0; a < s.length; a++)
          for (let b = 0; b < s.length; b++)
            if (s[a] < s[b]) assert.ok(up ? weights[a] <= weights[b] + 1e-12 : weights[a] >= weights[b] - 1e-12, `${variant}: S ${s[a]} < ${s[b]} but w ${weights[a]} vs ${weights[b]}`);
      }),
      { numRuns: 300 },
    );
  });

  it('sum of token advantages equals |o| * A (mass conservation)', () => {
    fc.assert(
      fc.property(dependencyArb, fc.double({ min: -5, max: 5, noNaN: true }), (s, A) => {
        const { weights } = reshapeWeights('pgpo', s);
        close(sum(weights.map((w) => A * w)), s.length * A, 1e-9 * s.length * Math.max(1, Math.abs(A)));
      }),
    );
  });

  it('the sign of the advantage is kept on every token', () => {
    fc.assert(
      fc.property(dependencyArb, optionsArb, fc.double({ min: -5, max: 5, noNaN: true }), (s, o: ReshapeOptions, A) => {
        for (const w of reshapeWeights('pgpo', s, o).weights) assert.ok(A * w === 0 || Math.sign(A * w) === Math.sign(A));
      }),
    );
  });

  it('tau = 1 never amplifies; tau = 0 never suppresses (before normalisation)', () => {
    fc.assert(
      fc.property(dependencyArb, fc.double({ min: 0, max: 10, noNaN: true }), (s, beta) => {
        const o = { ...DEFAULT_RESHAPE, beta };
        for (const w of reshapeWeights('pgpo-no-norm', s, { ...o, tau: 1 }).weights) assert.ok(w <= 1);
        for (const w of reshapeWeights('pgpo-no-norm', s, { ...o, tau: 0 }).weights) assert.ok(w >= 1);
        // and the named ablations are exactly those settings, normalised
        const sup = reshapeWeights('suppress-only', s, o).weights;
        const ref = reshapeWeights('pgpo', s, { ...o, tau: 1 }).weights;
        sup.forEach((w, t) => close(w, ref[t], 1e-12));
      }),
    );
  });

  it('weights lie in [0, 1 + beta] before normalisation', () => {
    fc.assert(
      fc.property(dependencyArb, optionsArb, (s, o: ReshapeOptions) => {
        for (const w of reshapeWeights('pgpo-no-norm', s, o).weights) assert.ok(w >= 0 && w <= 1 + o.beta + 1e-12);
      }),
    );
  });
});
