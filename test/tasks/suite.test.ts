/**
 * The task suite's contracts: determinism for a seed, gold solutions that the reward accepts,
 * variants that really move values between text and image, splits that never share a problem,
 * text the tokenizer can read, and difficulty knobs that change the problems.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { Rng } from '../../src/engine/rng.ts';
import { computeReward } from '../../src/reward/index.ts';
import { DEFAULT_IMAGE_SIZE, FAMILIES, FAMILY_NAMES, VARIANT_NAMES, generateSuite, sampleInstance, type TaskInstance } from '../../src/tasks/index.ts';
import { IMAGE_MARKER } from '../../src/core/image.ts';
import { sceneTexts } from '../../src/tasks/scene.ts';

const digest = (xs: readonly TaskInstance[]) => {
  const h = createHash('sha256');
  for (const x of xs) h.update(x.problem).update('\0').update(x.solution).update('\0').update(x.image.data);
  return h.digest('hex');
};

// One suite per difficulty, shared by the tests below: every family x variant pair 8 times.
const SUITES = ([1, 2, 3] as const).map((difficulty) => generateSuite({ n: 200, seed: 7, difficulty }));
const ALL = SUITES.flat();

describe('task suite', () => {
  it('is byte-identical for a seed, and differs for another', () => {
    const a = generateSuite({ n: 60, seed: 11 });
    const b = generateSuite({ n: 60, seed: 11 });
    assert.equal(digest(a), digest(b));
    a.forEach((x, i) => assert.deepEqual(x.image.data, b[i].image.data));
    assert.notEqual(digest(a), digest(generateSuite({ n: 60, seed: 12 })));
    // A longer suite extends a shorter one.
    assert.equal(digest(generateSuite({ n: 80, seed: 11 }).slice(0, 60)), digest(a));
  });

  it('pins the first instance of seed 0 by its full content (changing it is a visible, deliberate act)', () => {
    const [x] = generateSuite({ n: 1, seed: 0 });
    const { image, scene: _scene, ...rest } = x;
    assert.deepEqual(JSON.parse(JSON.stringify(rest)), {
      id: '897f0e9e4c7666f2',
      problemKey: '93a4b251ae7a066f',
      family: 'geometry',
      variant: 'text-dominant',
      kind: 'triangle-angle',
      difficulty: 1,
      split: 'train',
      problem: '<image>The figure is a triangle. Two angles are 50 and 60. Find the missing angle.',
      answer: '70',
      solution: '<think>A=50 B=60 180-50-60=70</think> \\boxed{70}',
      givens: [
        { name: 'A', value: '50', shown: 'written', inText: true },
        { name: 'B', value: '60', shown: 'written', inText: true },
      ],
      imageValues: ['50', '60'],
      textValues: ['50', '60'],
    });
    assert.equal(image.width, DEFAULT_IMAGE_SIZE);
    assert.equal(image.height, DEFAULT_IMAGE_SIZE);
    // SHA-256 of the RGB bytes: every pixel pinned
    assert.equal(createHash('sha256').update(image.data).digest('hex'), '28fe48508cf4e6a1803eb52e7e901ad04a703d8cd15e6ce6fe955edf6a49e745');
  });

  it('gives every gold solution full reward, at every difficulty', () => {
    for (const x of ALL) assert.deepEqual(computeReward(x.solution, x.answer), { accuracy: 1, format: 1, reward: 1 }, `${x.family}/${x.kind}: ${x.solution}`);
    // ...and a wrong boxed answer none.
    for (const x of ALL.slice(0, 100)) assert.equal(computeReward(x.solution.replace(/\\boxed\{.*\}$/, '\\boxed{999}'), x.answer).accuracy, 0);
  });

  it('covers every family and variant, one <image> marker each, printable ASCII, short texts', () => {
    const pairs = new Set(ALL.map((x) => `${x.family}/${x.variant}`));
    assert.equal(pairs.size, FAMILY_NAMES.length * VARIANT_NAMES.length);
    for (const x of ALL) {
      assert.equal(x.problem.split(IMAGE_MARKER).length - 1, 1, x.problem);
      assert.ok(x.problem.startsWith(IMAGE_MARKER));
      for (const s of [x.problem, x.solution, x.answer]) assert.match(s, /^[\x20-\x7e\n]+$/, `not printable ASCII: ${s}`);
      assert.ok(x.problem.length <= 150, `problem too long (${x.problem.length}): ${x.problem}`);
      assert.ok(x.solution.length <= 60, `solution too long (${x.solution.length}): ${x.solution}`);
    }
  });

  it('variants move the given values between text and image', () => {
    for (const x of ALL) {
      const drawn = sceneTexts(x.scene).join(' ');
      // Every written value is drawn in the image, whatever the variant.
      for (const g of x.givens) if (g.shown === 'written') assert.ok(drawn.includes(g.value), `${x.family}/${x.kind}: ${g.value} not drawn`);
      const n = x.imageValues.length;
      const body = x.problem.slice(IMAGE_MARKER.length);
      switch (x.variant) {
        case 'text-dominant':
        case 'text-lite':
          assert.deepEqual(x.textValues, x.imageValues);
          for (const v of x.textValues) assert.ok(body.includes(v), `${x.variant}: "${v}" not in "${body}"`);
          break;
        case 'vision-intensive':
          assert.equal(x.textValues.length, n - Math.ceil(n / 2));
          for (const g of x.givens) if (g.inText) assert.ok(body.includes(g.value));
          break;
        case 'vision-dominant':
        case 'vision-only':
          assert.deepEqual(x.textValues, []);
          // No number in the text but the question's own ("y at x=3"): values and options are
          // only in the image.
          assert.doesNotMatch(body.replace('x=3', ''), /\d/, `${x.variant}: digits in "${body}"`);
          if (x.options) {
            assert.ok(x.options.inImage);
            for (const v of x.options.values) assert.ok(drawn.includes(v), `option ${v} not drawn`);
          }
          break;
      }
      if (x.variant === 'vision-only') assert.equal(body, 'Answer the question in the image.');
      if (x.variant !== 'text-dominant') assert.ok(!body.startsWith(FAMILIES[x.family].name));
    }
  });

  it('the same problem in two variants differs only in what the text says', () => {
    const rng = () => Rng.seeded('variants').fork('x');
    for (const family of FAMILY_NAMES) {
      const td = sampleInstance({ rng: rng(), family, variant: 'text-dominant' });
      const vd = sampleInstance({ rng: rng(), family, variant: 'vision-dominant' });
      assert.equal(td.problemKey, vd.problemKey);
      assert.equal(td.answer, vd.answer);
      assert.equal(td.solution, vd.solution);
      assert.ok(td.problem.length > vd.problem.length);
    }
  });

  it('train and test suites never share a problem (by content hash)', () => {
    const train = generateSuite({ n: 300, seed: 1, split: 'train' });
    const test = generateSuite({ n: 150, seed: 1, split: 'test' });
    const trainKeys = new Set(train.map((x) => x.problemKey));
    for (const x of test) {
      assert.equal(x.split, 'test');
      assert.ok(!trainKeys.has(x.problemKey), `problem ${x.problemKey} in both splits`);
    }
  });

  it('difficulty knobs change the problems: bigger numbers at higher difficulty', () => {
    const maxValue = (xs: readonly TaskInstance[]) => Math.max(...xs.flatMap((x) => x.imageValues.map(Number).filter(Number.isFinite)));
    assert.ok(maxValue(SUITES[0]) < maxValue(SUITES[2]), `${maxValue(SUITES[0])} vs ${maxValue(SUITES[2])}`);
    const kinds = (xs: readonly TaskInstance[]) => new Set(xs.map((x) => x.kind));
    assert.ok(!kinds(SUITES[0]).has('right-hypotenuse') && kinds(SUITES[1]).has('right-hypotenuse'));
  });

  it('renders at any size >= 32 and rejects bad configs with the field named', () => {
    const [x] = generateSuite({ n: 1, seed: 0, imageSize: 64 });
    assert.equal(x.image.width, 64);
    assert.throws(() => generateSuite({ n: 1, imageSize: 16 }), /imageSize/);
    assert.throws(() => generateSuite({ n: 1, families: ['nope' as never] }), /families/);
    assert.throws(() => generateSuite({ n: 0 }), /n:/);
  });
});
