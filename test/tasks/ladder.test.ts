import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { Rng } from '../../src/engine/rng.ts';
import { readings } from '../../src/eval/errors.ts';
import { computeReward } from '../../src/reward/index.ts';
import { contentHash, splitOf } from '../../src/tasks/hash.ts';
import { LADDER_FAMILIES, LADDER_RUNGS, PRIOR_RATE, RUNGS, ladderKindSpace, ladderSpaceSize, uniqueMaxGrids, uniqueMaxTuples, type Rung } from '../../src/tasks/ladder.ts';
import { glyphPlacements } from '../../src/tasks/raster.ts';
import { generateSuite, ladderAt } from '../../src/tasks/suite.ts';
import { FAMILY_NAMES, type FamilyName } from '../../src/tasks/types.ts';

const ALL = { world: 'ladder' as const, rungs: [1, 2, 3, 4, 5] };
const imageHash = (data: Uint8Array) => createHash('sha256').update(data).digest('hex').slice(0, 16);

/** `n` drafts of a family at a rung, kinds drawn as the suite draws them (no rendering: fast). */
function drafts(family: FamilyName, rung: Rung, n: number, seed = 1) {
  const fam = LADDER_FAMILIES[family];
  const root = Rng.seeded(seed).fork(`${family}:${rung}`);
  return Array.from({ length: n }, (_, i) => {
    const r = root.fork(i);
    const kind = r.pick(fam.kinds(rung));
    const d = fam.sample(r.fork('draft'), rung, kind);
    return { ...d, problemKey: contentHash({ world: 'ladder', family, kind: d.kind, key: d.key }) };
  });
}

test('ladder: the same seed gives the same instance, pinned by its full content and image hash', () => {
  const a = ladderAt({ n: 1, seed: 7, ...ALL }, 13);
  const b = ladderAt({ n: 1, seed: 7, ...ALL }, 13);
  assert.deepEqual(a, b);
  const pinned = {
    id: a.id,
    problemKey: a.problemKey,
    family: a.family,
    variant: a.variant,
    kind: a.kind,
    rung: a.rung,
    split: a.split,
    problem: a.problem,
    answer: a.answer,
    solution: a.solution,
    priorAnswer: a.priorAnswer,
    image: imageHash(a.image.data),
  };
  assert.deepEqual(pinned, PINNED);
  assert.notDeepEqual(ladderAt({ n: 1, seed: 8, ...ALL }, 13).problem + ladderAt({ n: 1, seed: 8, ...ALL }, 13).solution, a.problem + a.solution);
});

const PINNED = {
  id: 'ad36be3e3a4d4898',
  problemKey: '3a1ee8ba5d383e08',
  family: 'choice',
  variant: 'vision-intensive',
  kind: 'pick-total',
  rung: 1,
  split: 'train',
  problem: '<image>x=484. Find x+y. A:854 B:853 C:851 D:856',
  answer: 'C',
  solution: '<think>x=484 y=367 484+367=851 C</think> \\boxed{C}',
  priorAnswer: 'C',
  image: '7e5ef84126680143',
};

test('ladder: a suite is its stream read from 0; instance i does not depend on n', () => {
  const suite = generateSuite({ n: 30, seed: 3, ...ALL });
  suite.forEach((x, i) => assert.deepEqual(x, ladderAt({ n: 1, seed: 3, ...ALL }, i)));
  assert.deepEqual(generateSuite({ n: 12, seed: 3, ...ALL }), suite.slice(0, 12));
  // rungs, families and variants round-robin: every (family, variant) once per 25, then the next rung
  assert.deepEqual(
    suite.slice(0, 5).map((x) => x.family),
    [...FAMILY_NAMES],
  );
  assert.deepEqual([suite[0].rung, suite[24].rung, suite[25].rung], [1, 1, 2]);
});

test('ladder: train and test never share a problem, at any rung', () => {
  const train = generateSuite({ n: 500, seed: 5, split: 'train', ...ALL });
  const test_ = generateSuite({ n: 250, seed: 5, split: 'test', ...ALL });
  const trainKeys = new Set(train.map((x) => x.problemKey));
  for (const x of test_) assert.ok(!trainKeys.has(x.problemKey), `test problem ${x.problemKey} is also a training problem`);
  for (const x of [...train, ...test_]) assert.equal(splitOf(x.problemKey, 0.2), x.split);
  // each split is its own stream: no repeated problem inside a split either, at this size
  assert.ok(trainKeys.size >= train.length / 5 - 3, `${trainKeys.size} distinct problems in ${train.length} rows`);
});

test('ladder: the space size formulas count exactly (brute force on small ranges) and exceed a million per family and rung', () => {
  let brute = 0;
  for (let a = 1; a <= 5; a++) for (let b = 1; b <= 5; b++) for (let c = 1; c <= 5; c++) if ([a, b, c].filter((v) => v === Math.max(a, b, c)).length === 1) brute++;
  assert.equal(uniqueMaxTuples(3, 1, 5), brute);
  // 5 cells, each empty, gray or one of 2 colours: colour counts with a unique maximum
  let grids = 0;
  for (let g = 0; g < 4 ** 5; g++) {
    const cells = Array.from({ length: 5 }, (_, i) => Math.floor(g / 4 ** i) % 4);
    const c = [cells.filter((x) => x === 2).length, cells.filter((x) => x === 3).length];
    if (c[0] !== c[1]) grids++;
  }
  assert.equal(uniqueMaxGrids(2, 5), grids);
  for (const f of FAMILY_NAMES) for (const r of RUNGS) assert.ok(ladderSpaceSize(f, r) >= 1_000_000, `${f} rung ${r}: ${ladderSpaceSize(f, r)}`);
  assert.equal(ladderKindSpace('chart', 'bar-total', 1), 900 ** 2);
  assert.equal(ladderKindSpace('geometry', 'seg-part', 3), 3 * 90 ** 3);
});

test('ladder: sampling finds almost no repeated problem (the space is as large as counted)', () => {
  for (const f of FAMILY_NAMES) {
    for (const r of RUNGS) {
      const keys = drafts(f, r, 1500).map((d) => d.problemKey);
      const repeats = keys.length - new Set(keys).size;
      // uniform over >= 1.4M problems: about 0.8 repeated pairs expected in 1,500 draws
      assert.ok(repeats <= 6, `${f} rung ${r}: ${repeats} repeats in 1500 draws`);
    }
  }
});

test('ladder: a higher rung reads more values, or as many with a subtraction in the composition', () => {
  for (const f of FAMILY_NAMES) {
    const stats = RUNGS.map((r) => {
      const ds = drafts(f, r, 200);
      return { values: ds.reduce((s, d) => s + d.givens.length, 0) / ds.length, minus: ds.filter((d) => d.compute.includes('-')).length / ds.length };
    });
    for (let r = 1; r < 5; r++) {
      const [lo, hi] = [stats[r - 1], stats[r]];
      assert.ok(hi.values >= lo.values, `${f}: rung ${r + 1} reads fewer values than rung ${r}`);
      assert.ok(hi.values > lo.values || (LADDER_RUNGS[(r + 1) as Rung].subtract && hi.minus >= lo.minus && hi.minus > 0), `${f}: rung ${r + 1} is not harder than rung ${r}`);
    }
    assert.deepEqual(
      RUNGS.map((r) => drafts(f, r, 20).every((d) => d.givens.length === LADDER_RUNGS[r].values)),
      [true, true, true, true, true],
      f,
    );
  }
});

test('ladder: priors hold on the low rungs and fail on the high ones at the designed rate', () => {
  for (const f of ['chart', 'counting', 'choice'] as const) {
    for (const r of RUNGS) {
      const ds = drafts(f, r, 2000).filter((d) => d.priorAnswer !== undefined);
      assert.ok(ds.length >= 900, `${f}: too few prior kinds`);
      const rate = ds.filter((d) => d.priorAnswer === d.answer).length / ds.length;
      assert.ok(Math.abs(rate - PRIOR_RATE[r]) < 0.05, `${f} rung ${r}: prior right on ${rate}, designed ${PRIOR_RATE[r]}`);
    }
  }
  assert.ok(PRIOR_RATE[1] >= 0.8 && PRIOR_RATE[2] >= 0.8 && PRIOR_RATE[4] <= 0.2 && PRIOR_RATE[5] <= 0.2);
  for (const f of ['geometry', 'arithmetic'] as const) assert.ok(drafts(f, 1, 50).every((d) => d.priorAnswer === undefined));
});

test('ladder: every gold solution is in the house format, short, and scores full reward; its readings are the givens', () => {
  const suite = generateSuite({ n: 250, seed: 9, ...ALL });
  for (const x of suite) {
    assert.match(x.solution, /^<think>[^<>]+<\/think> \\boxed\{[^{}]+\}$/);
    assert.ok(x.problem.length <= 150, `problem too long (${x.problem.length}): ${x.problem}`);
    assert.ok(x.solution.length <= 62, `solution too long (${x.solution.length}): ${x.solution}`);
    assert.deepEqual(computeReward(x.solution, x.answer), { accuracy: 1, format: 1, reward: 1 }, x.solution);
    assert.deepEqual(
      readings(x.solution),
      x.givens.map((g) => `${g.name}=${g.value}`),
    );
    assert.equal(x.image.width, 48);
    assert.ok(x.rung !== undefined && x.difficulty === 1);
  }
});

test('ladder: at 48 px every drawn character is inside the image and no two glyphs overlap', () => {
  for (const x of generateSuite({ n: 250, seed: 4, ...ALL })) {
    const gs = glyphPlacements(x.scene, 48);
    assert.ok(gs.length > 0 || x.family === 'counting'); // counting's values are dots, not digits
    for (const g of gs) assert.ok(g.cx >= 1.5 && g.cx <= 46.5 && g.cy >= 2.5 && g.cy <= 45.5, `${x.kind}: glyph ${g.ch} at ${g.cx},${g.cy} leaves the image`);
    for (let i = 0; i < gs.length; i++)
      for (let j = i + 1; j < gs.length; j++)
        assert.ok(Math.abs(gs[i].cx - gs[j].cx) >= 3 || Math.abs(gs[i].cy - gs[j].cy) >= 5, `${x.family}/${x.kind}/${x.variant}: glyphs ${gs[i].ch} and ${gs[j].ch} overlap`);
  }
});

test('ladder: bad settings are refused naming the key', () => {
  assert.throws(() => generateSuite({ n: 1, world: 'ladder', rungs: [6] }), /rungs/);
  assert.throws(() => generateSuite({ n: 1, world: 'ladder', imageSize: 32 }), /imageSize.*48/);
  assert.throws(() => generateSuite({ n: 1, world: 'ladder', rungs: [] }), /rungs/);
});
